"""Staff-only downloads reachable from the Wagtail admin; the link of an invitation."""

from urllib.parse import urlencode

from django.core.exceptions import PermissionDenied
from django.http import Http404, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET

from b2b.enums import InvitationState
from b2b.models import ContractPage
from b2b.selectors import invitation_target
from b2b.services.code_export import stream_codes_csv
from ecommerce.selectors import product_cart_url


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
    """An invitation's link: to the product's cart address with the code ready to apply while
    the invitation is open; otherwise a page saying it was withdrawn or already used."""
    target = invitation_target(token)
    if target is None:
        return render(request, "b2b/invitation_gone.html", {"target": None}, status=404)
    if target.state == InvitationState.OPEN and target.product_id is not None:
        url = product_cart_url(target.product_id)
        return redirect(f"{url}&{urlencode({'code': target.code})}")
    status = 410 if target.state == InvitationState.REVOKED else 200
    return render(request, "b2b/invitation_gone.html", {"target": target}, status=status)
