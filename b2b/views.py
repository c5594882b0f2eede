"""Staff-only downloads reachable from the Wagtail admin; the link of an invitation."""

from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import Http404, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET

from b2b.enums import InvitationState
from b2b.exceptions import B2BError, NotAManager
from b2b.models import ContractPage, OrganizationPage
from b2b.selectors.invitations import invitation_target
from b2b.selectors.learners import is_member
from b2b.selectors.managers import manager_rows
from b2b.services.codes.export import stream_codes_csv
from b2b.services.invitations.managers import find_user, grant_manager, revoke_manager
from ecommerce.constants import CART_ADD_PATH
from users.models import User


def contract_codes_csv(request, contract_id: int):
    if not request.user.is_staff:
        raise PermissionDenied
    contract = ContractPage.objects.filter(pk=contract_id).first()
    if contract is None:
        raise Http404("No such contract")
    response = StreamingHttpResponse(stream_codes_csv(contract), content_type="text/csv")
    response["Content-Disposition"] = f'attachment; filename="codes-{contract_id}.csv"'
    return response


@require_GET
def invitation(request, token: str):
    """An invitation's link. While it is open: its page (the contract, its organization, every
    course of it, what the learner pays, and the accept button: the cart with the code ready to
    apply), for a signed-in learner; a signed-out visitor signs in or registers first and comes
    back. Otherwise a page saying it was withdrawn (410), already used, or is unknown (404)."""
    target = invitation_target(token)
    if target is None:
        return render(request, "b2b/invitation_gone.html", {"target": None}, status=404)
    if target.state == InvitationState.OPEN and target.product_id is not None:
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        context = {
            "target": target,
            "member": is_member(request.user, target.contract_id),
            "accept_path": CART_ADD_PATH,
        }
        return render(request, "b2b/invitation.html", context)
    status = 410 if target.state == InvitationState.REVOKED else 200
    return render(request, "b2b/invitation_gone.html", {"target": target}, status=status)


def organization_managers(request, organization_id: int):
    """Wagtail: list the organization's managers, add one by e-mail, remove one. Staff who may
    edit the organization's page only."""
    organization = OrganizationPage.objects.filter(pk=organization_id).first()
    if organization is None:
        raise Http404("No such organization")
    if not organization.permissions_for_user(request.user).can_edit():
        raise PermissionDenied
    error = None
    if request.method == "POST":
        try:
            _change_managers(request, organization)
        except B2BError as exc:
            error = str(exc)
        else:
            return redirect(request.path)
    context = {"organization": organization, "managers": manager_rows(organization), "error": error}
    return render(request, "b2b/organization_managers.html", context, status=400 if error else 200)


def _change_managers(request, organization: OrganizationPage) -> None:
    if request.POST.get("remove"):
        chosen = request.POST["remove"]
        # an id the page rendered; anything else (forged, out of range) is no manager
        user = (
            User.objects.filter(pk=int(chosen)).first()
            if chosen.isdigit() and len(chosen) < 19
            else None
        )
        if user is None:
            raise NotAManager("No such manager")
        revoke_manager(user=user, organization=organization)
        messages.success(request, f"{user.email} no longer manages {organization.title}")
        return
    user = find_user(request.POST.get("email", ""))
    _, created = grant_manager(user=user, organization=organization, granted_by=request.user)
    verb = "now manages" if created else "already manages"
    messages.success(request, f"{user.email} {verb} {organization.title}")
