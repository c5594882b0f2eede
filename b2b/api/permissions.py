"""Who may use the manager API: a signed-in user holding the manager role for at least one
organization (``b2b.services.invitations.managers``). Staff powers are not implied: a staff account
without the role is refused like anyone else. Each endpoint then answers 404 for whatever lies
outside the user's own organizations."""

from rest_framework.permissions import BasePermission

from b2b.services.invitations.managers import managed_organizations


class ManagesAnOrganization(BasePermission):
    message = "You do not manage any organization."

    def has_permission(self, request, view) -> bool:
        user = request.user
        if not getattr(user, "is_authenticated", False):
            return False
        return managed_organizations(user).exists()
