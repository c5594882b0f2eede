"""What the site header needs to know about the signed-in user (templates/base.html).

``site_nav.manages`` says whether the user manages an organization (the manager rule's owner,
``b2b.services.invitations.managers``); it is asked only when a page shows it, at most once per
request,
and never for an anonymous visitor. ``site_nav.staff`` comes with the user (no query).
"""

from django.http import HttpRequest
from django.utils.functional import cached_property

from b2b.services.invitations.managers import managed_organizations


class SiteNavigation:
    def __init__(self, user) -> None:
        self._user = user

    @cached_property
    def manages(self) -> bool:
        if not getattr(self._user, "is_authenticated", False):
            return False
        return managed_organizations(self._user).exists()

    @property
    def staff(self) -> bool:
        return bool(getattr(self._user, "is_authenticated", False) and self._user.is_staff)


def site_navigation(request: HttpRequest) -> dict[str, SiteNavigation]:
    return {"site_nav": SiteNavigation(getattr(request, "user", None))}
