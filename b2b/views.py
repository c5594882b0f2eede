"""Staff-only downloads reachable from the Wagtail admin."""

from django.core.exceptions import PermissionDenied
from django.http import Http404, StreamingHttpResponse

from b2b.models import ContractPage
from b2b.services.code_export import stream_codes_csv


def contract_codes_csv(request, contract_id: int):
    if not request.user.is_staff:
        raise PermissionDenied
    contract = ContractPage.objects.filter(pk=contract_id).first()
    if contract is None:
        raise Http404("No such contract")
    response = StreamingHttpResponse(stream_codes_csv(contract), content_type="text/csv")
    response["Content-Disposition"] = f'attachment; filename="codes-{contract_id}.csv"'
    return response
