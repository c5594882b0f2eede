"""Who may use the manager API: a signed-in user holding the manager role for at least one
organization (``b2b.services.invitations.managers``). Staff powers are not implied: a staff account
without the role is refused like anyone else. Each endpoint then answers 404 for whatever lies
outside the user's own organizations."""

from typing import cast

from rest_framework.permissions import BasePermission
from rest_framework.request import Request

from b2b.services.invitations.managers import managed_organizations
from users.models import User


class ManagesAnOrganization(BasePermission):
    message = "You do not manage any organization."

    def has_permission(self, request, view) -> bool:
        user = request.user
        if not getattr(user, "is_authenticated", False):
            return False
        return managed_organizations(user).exists()


def signed_in_user(request: Request) -> User:
    """The user of a request a view's permission let through only signed in (``IsAuthenticated``,
    ``ManagesAnOrganization``). DRF types ``request.user`` as possibly anonymous: it cannot know
    which permission ran."""
    return cast(User, request.user)
