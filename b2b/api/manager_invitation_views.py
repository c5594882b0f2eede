"""The manager API's invitations (/api/v1/manager/contracts/{id}/invitations/ and jobs/):
list and read them, invite one person, invite many (a CSV file or a JSON list of rows), remind
one or every open one, revoke one; follow a bulk invitation's job and read its results.

The rules are the invitation service's (``b2b.services.invitations``) and the job's
(``b2b.services.invitations.jobs``, the same as the manager pages'); each records the action in the
contract's audit trail, attributed to the signed-in manager through the API (``config.acting``).
A replayed action changes nothing: reminding or revoking an invitation that is no longer open
answers 409 ``invitation_not_open``.
"""

from django.urls import reverse
from drf_spectacular.utils import OpenApiParameter
from rest_framework import status
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.parsers import JSONParser, MultiPartParser
from rest_framework.response import Response

from b2b.api import manager_serializers as s
from b2b.api.manager_examples import INVITATION, JOB, JOB_RESULTS
from b2b.api.manager_views import ManagerView, managed_contract_or_404
from b2b.api.views import _valid
from b2b.enums import InviteOutcome
from b2b.exceptions import InvitationRefused, UploadRefused
from b2b.models import ContractPage, Invitation, InviteJob
from b2b.selectors.invitations import (
    InvitationRow,
    OutcomeCount,
    invitation_rows,
    invitations_in_state,
    invite_job_summaries,
    invite_job_summary,
    job_progress,
    job_rows,
)
from b2b.services.invitations.invite import invite
from b2b.services.invitations.jobs import deferred_notice, invite_list, runs_inline
from b2b.services.invitations.lifecycle import remind, remind_all_open, revoke
from b2b.services.invitations.pages import find_job, find_open_invitation
from b2b.services.invitations.uploads import UploadRow, read_invite_file, rows_of_list
from config.api.docs import documented
from config.api.errors import error_body

TAGS = ["manager invitations"]


def invitation_body(row: InvitationRow) -> dict:
    return {
        "id": row.id,
        "contract_id": row.contract_id,
        "email": row.email,
        "name": row.name,
        "state": row.state,
        "code": row.code,
        "invited_by": row.invited_by,
        "created_on": row.created_on,
        "reminders_sent": row.reminders_sent,
        "last_reminded_on": row.last_reminded_on,
        "revoked_on": row.revoked_on,
        "redeemed_by": row.redeemed_by,
        "redeemed_on": row.redeemed_on,
        "last_email": (
            {"state": row.email_state, "error": row.email_error} if row.email_state else None
        ),
    }


def _invitation_response(contract_id: int, invitation_id: int, code=status.HTTP_200_OK):
    (row,) = invitation_rows(contract_id, invitation_ids=[invitation_id])
    return Response(s.InvitationSerializer(invitation_body(row)).data, status=code)


def _invitation_or_404(contract: ContractPage, invitation_id: int) -> Invitation:
    invitation = find_open_invitation(contract, invitation_id)
    if invitation is None:
        raise NotFound(f"No invitation {invitation_id} in contract {contract.pk}")
    return invitation


class Invitations(ManagerView):
    serializer_class = s.InvitationSerializer

    @documented(
        "List a contract's invitations",
        description="Each invitation's state (open, redeemed, revoked), who redeemed it and "
        "when (whatever address they used), and its last e-mail's delivery; ?state= keeps one "
        "state.",
        ok={200: s.InvitationSerializer(many=True)},
        errors=(400, 404),
        parameters=[
            OpenApiParameter("state", str, enum=["open", "redeemed", "revoked"], required=False)
        ],
        example=INVITATION,
        tags=TAGS,
        operation_id="manager_invitations_list",
    )
    def get(self, request, contract_id: int):
        contract = managed_contract_or_404(request, contract_id)
        state = _valid(s.InvitationFilterSerializer, request.query_params).get("state")
        page = self.paginate_queryset(invitations_in_state(contract.pk, state).values("pk"))
        ids = [row["pk"] for row in page or ()]
        rows = sorted(invitation_rows(contract.pk, invitation_ids=ids), key=lambda r: r.id)
        body = [invitation_body(row) for row in rows] if ids else []
        return self.get_paginated_response(s.InvitationSerializer(body, many=True).data)

    @documented(
        "Invite one person",
        description="The system sets a code aside (an unused one of a capped contract, or a "
        "personal one-time code for an uncapped one) and e-mails the invitation. 400 an "
        "invalid e-mail address; 409 already a member, already invited, or no seats left "
        "(`outcome` says which).",
        request=s.InviteSerializer,
        ok={201: s.InvitationSerializer},
        errors=(400, 404, 409, 429),
        example=INVITATION,
        tags=TAGS,
    )
    def post(self, request, contract_id: int):
        contract = managed_contract_or_404(request, contract_id)
        data = _valid(s.InviteSerializer, request.data)
        try:
            invitation = invite(
                contract=contract, email=data["email"], name=data["name"], by=request.user
            )
        except InvitationRefused as error:
            if error.outcome == InviteOutcome.INVALID_EMAIL:
                raise ValidationError({"email": [str(error)]}) from None
            raise
        return _invitation_response(contract.pk, invitation.pk, status.HTTP_201_CREATED)


class InvitationDetail(ManagerView):
    serializer_class = s.InvitationSerializer

    @documented(
        "Read an invitation",
        ok={200: s.InvitationSerializer},
        errors=(404,),
        example=INVITATION,
        tags=TAGS,
    )
    def get(self, request, contract_id: int, invitation_id: int):
        contract = managed_contract_or_404(request, contract_id)
        invitation = _invitation_or_404(contract, invitation_id)
        return _invitation_response(contract.pk, invitation.pk)


class Remind(ManagerView):
    serializer_class = s.InvitationSerializer

    @documented(
        "Remind one invitation",
        description="E-mails the invitation again. 409 when it is no longer open (redeemed or "
        "revoked); 429 `remind_too_soon` (with Retry-After) when it was e-mailed less than "
        "B2B_INVITATION_REMIND_COOLDOWN_SECONDS ago: nothing is sent.",
        request=None,
        ok={200: s.InvitationSerializer},
        errors=(404, 409, 429),
        example={**INVITATION, "reminders_sent": 1},
        tags=TAGS,
    )
    def post(self, request, contract_id: int, invitation_id: int):
        contract = managed_contract_or_404(request, contract_id)
        invitation = _invitation_or_404(contract, invitation_id)
        remind(invitation=invitation, by=request.user)
        return _invitation_response(contract.pk, invitation.pk)


class Revoke(ManagerView):
    serializer_class = s.InvitationSerializer

    @documented(
        "Revoke one invitation",
        description="Its code stops working (a capped contract gets a fresh one in its place), "
        "its link says it was withdrawn, and the invitee is told. 409 when it is no longer "
        "open: a second revoke changes nothing.",
        request=None,
        ok={200: s.InvitationSerializer},
        errors=(404, 409, 429),
        example={**INVITATION, "state": "revoked", "revoked_on": "2026-11-28T09:00:00Z"},
        tags=TAGS,
    )
    def post(self, request, contract_id: int, invitation_id: int):
        contract = managed_contract_or_404(request, contract_id)
        invitation = _invitation_or_404(contract, invitation_id)
        revoke(invitation=invitation, by=request.user)
        return _invitation_response(contract.pk, invitation.pk)


class RemindAll(ManagerView):
    serializer_class = s.RemindedSerializer

    @documented(
        "Remind every open invitation of a contract",
        request=None,
        ok={200: s.RemindedSerializer},
        errors=(404, 429),
        description="Invitations e-mailed less than B2B_INVITATION_REMIND_COOLDOWN_SECONDS ago "
        "are left alone and counted in `in_cooldown`.",
        example={"reminded": 30, "in_cooldown": 2},
        tags=TAGS,
        operation_id="manager_contracts_invitations_remind_all",
    )
    def post(self, request, contract_id: int):
        contract = managed_contract_or_404(request, contract_id)
        result = remind_all_open(contract=contract, by=request.user)
        return Response({"reminded": result.reminded, "in_cooldown": result.in_cooldown})


def job_body(
    request, job: InviteJob, *, summary: list[OutcomeCount] | None = None, rows: bool = True
) -> dict:
    """The job resource; ``rows`` False leaves its rows' results out (a list of jobs)."""
    url = reverse("api-manager-job-results", args=[job.contract_id, job.pk])
    inline = rows and job.finished and runs_inline(job.rows)
    return {
        "id": job.pk,
        "contract_id": job.contract_id,
        **job_progress(job),
        "created_on": job.created_on,
        "finished_on": job.finished_on,
        "summary": invite_job_summary(job) if summary is None else summary,
        "results_url": request.build_absolute_uri(url),
        "results": list(job_rows(job)) if inline else None,
    }


def _uploaded_rows(request) -> list[UploadRow]:
    upload = request.FILES.get("file")
    if upload is not None:
        return read_invite_file(upload)
    if "file" in request.data:
        raise ValidationError({"file": ["Send the CSV file as a file (multipart/form-data)."]})
    try:
        return rows_of_list(_valid(s.BulkJsonSerializer, request.data)["rows"])
    except UploadRefused as error:
        raise ValidationError({"rows": [str(error)]}) from None


BULK_REQUEST = {
    "application/json": s.BulkJsonSerializer,
    "multipart/form-data": s.BulkFileSerializer,
}


class BulkInvite(ManagerView):
    serializer_class = s.JobSerializer
    parser_classes = [JSONParser, MultiPartParser]

    @documented(
        "Invite many people",
        description="A CSV file (multipart field `file`: a header naming an `email` column and "
        "optionally `name`) or a JSON list of rows. Each row gets a result: invited, already a "
        "member, already invited, invalid e-mail, duplicate in file, no seats left, invalid "
        "name. At most B2B_INVITE_INLINE_ROWS rows are handled in the request: 201 with every "
        "row's result. More are queued: 202 with the job to poll (Location, `results_url`). "
        "400 a file that cannot be read (too large, not UTF-8, not CSV, no e-mail column, too "
        "many rows). 503 `invite_job_deferred` when a database error stopped a small list in "
        "the request: the list is saved as a job (in `job`, and Location) that the system runs "
        "again by itself; poll it, do not send the list again.",
        request=BULK_REQUEST,
        ok={201: s.JobSerializer, 202: s.JobSerializer},
        errors=(400, 404, 429, 503),
        example=JOB,
        tags=TAGS,
    )
    def post(self, request, contract_id: int):
        contract = managed_contract_or_404(request, contract_id)
        rows = _uploaded_rows(request)
        job = invite_list(contract=contract, rows=rows, by=request.user)
        location = reverse("api-manager-job", args=[contract.pk, job.pk])
        notice = deferred_notice(job)
        if notice:  # a database error stopped it: saved, and left for the sweep
            body = error_body(
                code="invite_job_deferred",
                message=notice,
                job=s.JobSerializer(job_body(request, job)).data,
            )
            return Response(
                body,
                status=status.HTTP_503_SERVICE_UNAVAILABLE,
                headers={"Location": request.build_absolute_uri(location)},
            )
        return Response(
            s.JobSerializer(job_body(request, job)).data,
            status=status.HTTP_201_CREATED if job.finished else status.HTTP_202_ACCEPTED,
            headers={"Location": request.build_absolute_uri(location)},
        )


def _job_or_404(request, contract_id: int, job_id: int) -> InviteJob:
    contract = managed_contract_or_404(request, contract_id)
    job = find_job(contract, job_id)
    if job is None:
        raise NotFound(f"No job {job_id} in contract {contract_id}")
    return job


class Jobs(ManagerView):
    serializer_class = s.JobSerializer

    @documented(
        "List a contract's bulk invitation jobs",
        description="Newest last; each with its progress and summary (its rows: results_url).",
        ok={200: s.JobSerializer(many=True)},
        errors=(404,),
        example={**JOB, "results": None},
        tags=TAGS,
        operation_id="manager_jobs_list",
    )
    def get(self, request, contract_id: int):
        contract = managed_contract_or_404(request, contract_id)
        jobs = list(self.paginate_queryset(InviteJob.objects.filter(contract=contract)) or ())
        summaries = invite_job_summaries([job.pk for job in jobs])
        body = [job_body(request, job, summary=summaries[job.pk], rows=False) for job in jobs]
        return self.get_paginated_response(s.JobSerializer(body, many=True).data)


class Job(ManagerView):
    serializer_class = s.JobSerializer

    @documented(
        "Read a bulk invitation job",
        description="Its state and progress (done of total) while it runs; when finished, the "
        "summary (and every row's result for a small job).",
        ok={200: s.JobSerializer},
        errors=(404,),
        example=JOB,
        tags=TAGS,
    )
    def get(self, request, contract_id: int, job_id: int):
        job = _job_or_404(request, contract_id, job_id)
        return Response(s.JobSerializer(job_body(request, job)).data)


class JobResults(ManagerView):
    serializer_class = s.JobRowSerializer

    @documented(
        "List a bulk invitation job's results",
        description="One row per row received, in the order given.",
        ok={200: s.JobRowSerializer(many=True)},
        errors=(404,),
        example=JOB_RESULTS[0],
        tags=TAGS,
        operation_id="manager_job_results_list",
    )
    def get(self, request, contract_id: int, job_id: int):
        job = _job_or_404(request, contract_id, job_id)
        page = self.paginate_queryset(job.row_set.all())
        return self.get_paginated_response(s.JobRowSerializer(page, many=True).data)
