"""The manager pages: an organization's contracts, a contract's learners and invitations,
inviting (one person, or a CSV file as a job), reminding, revoking, and the downloads.

Every view starts from what the URL names and asks ``b2b.services.invitations.managers`` whether the
signed-in user manages it: a contract, invitation or job outside the user's organizations is a
404, exactly like one that does not exist, and a user who manages no organization gets a 403.
Forms carry no ids: the contract and the invitation are the URL's, checked here. Every write
(invite, upload, remind, revoke) counts against the manager's write limit, shared with the API
(``_write_limited``).
"""

import math
from functools import wraps
from itertools import chain

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, JsonResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from b2b.enums import InvitationState
from b2b.exceptions import B2BError, InvitationRefused
from b2b.manage.forms import DigestForm, InviteForm, SearchForm, UploadForm
from b2b.models import AttentionCutoffs
from b2b.selectors.invitations import (
    contract_invitations,
    invite_job_summary,
    iter_result_rows,
    job_progress,
    job_rows,
)
from b2b.selectors.learners import contract_learners, iter_contract_learners
from b2b.selectors.listings import courseware_listing
from b2b.selectors.managers import managed_contract_rows, managed_contract_rows_of
from b2b.selectors.progress import organization_progress, progress_summary
from b2b.selectors.progress_delivery import digest_history, manager_role
from b2b.services.codes.export import stream_codes_csv
from b2b.services.invitations.invite import invite
from b2b.services.invitations.jobs import deferred_notice, invite_list
from b2b.services.invitations.lifecycle import remind, remind_all_open, remind_wait, revoke
from b2b.services.invitations.managers import managed_organizations
from b2b.services.invitations.pages import (
    find_job,
    find_open_invitation,
    managed_contract,
    managed_organization,
    record_download,
)
from config.exports import csv_lines
from config.throttling import describe_wait, manager_write_wait

LEARNERS_CSV_HEADER = ["E-mail", "Name", "Joined", "How", "Enrolled runs"]


def _organizations_or_403(user):
    organizations = list(managed_organizations(user))
    if not organizations:
        raise PermissionDenied("You do not manage any organization.")
    return organizations


def _contract_or_404(request, contract_id: int):
    contract = managed_contract(request.user, contract_id)
    if contract is None:
        raise Http404("No such contract")
    return contract


def _write_limited(view):
    """A page's POST counts against the manager's write limit, shared with the manager API
    (``B2B_MANAGER_API_WRITES_PER_MINUTE``); past it the page says so with a 429 and
    Retry-After, and nothing is changed."""

    @wraps(view)
    def limited(request, *args, **kwargs):
        if request.method == "POST":
            wait = manager_write_wait(request)
            if wait is not None:
                contract = managed_contract(request.user, kwargs.get("contract_id") or 0)
                context = {
                    "contract": contract,
                    "organization": contract.organization if contract else None,
                    "wait": describe_wait(wait),
                }
                response = render(request, "b2b/manage/too_many.html", context, status=429)
                response["Retry-After"] = str(max(math.ceil(wait), 1))
                return response
        return view(request, *args, **kwargs)

    return limited


def _contract_url(contract, **query) -> str:
    url = reverse("manage:contract", args=[contract.pk])
    return f"{url}#invitations" if query.get("anchor") else url


@require_GET
@login_required
def home(request):
    organizations = _organizations_or_403(request.user)
    if len(organizations) == 1:
        return redirect("manage:organization", org_id=organizations[0].pk)
    return render(request, "b2b/manage/home.html", {"organizations": organizations})


@require_GET
@login_required
def organization(request, org_id: int):
    _organizations_or_403(request.user)
    org = managed_organization(request.user, org_id)
    if org is None:
        raise Http404("No such organization")
    progress = organization_progress(org, AttentionCutoffs.at(timezone.now()))
    role = manager_role(request.user, org)
    context = {
        "organization": org,
        "contracts": [(row, progress.get(row.id)) for row in managed_contract_rows(org)],
        "digest_form": DigestForm(initial={"wants_digest": role.wants_digest if role else False}),
        "digests": digest_history(role) if role else [],
    }
    return render(request, "b2b/manage/organization.html", context)


def _remind_in(row, now) -> str:
    """How long before an open invitation may be reminded, in words ("" when it may be now)."""
    wait = remind_wait(row, now=now) if row.state == InvitationState.OPEN else 0
    return describe_wait(wait) if wait else ""


@require_GET
@login_required
def contract(request, contract_id: int):
    contract = _contract_or_404(request, contract_id)
    search = SearchForm(request.GET)
    search.is_valid()
    query = search.cleaned_data.get("q") or ""
    per_page = settings.B2B_MANAGE_PAGE_SIZE
    invitations = contract_invitations(
        contract.pk, page=search.cleaned_data.get("ipage") or 1, per_page=per_page
    )
    now = timezone.now()
    context = {
        "contract": contract,
        "organization": contract.organization,
        "summary": managed_contract_rows_of([contract.pk])[0],
        "courseware": courseware_listing(contract),
        "search": search,
        "query": query,
        "learners": contract_learners(
            contract.pk, search=query, page=search.cleaned_data.get("page") or 1, per_page=per_page
        ),
        "invitations": invitations,
        "invitation_rows": [(row, _remind_in(row, now)) for row in invitations.rows],
        "invite_form": InviteForm(),
        "upload_form": UploadForm(),
        "progress": progress_summary(contract, AttentionCutoffs.at(now)),
    }
    return render(request, "b2b/manage/contract.html", context)


@require_GET
@login_required
def codes_csv(request, contract_id: int):
    contract = _contract_or_404(request, contract_id)
    record_download(contract, "codes")
    return _csv_response(stream_codes_csv(contract), f"codes-{contract.pk}.csv")


@require_GET
@login_required
def learners_csv(request, contract_id: int):
    contract = _contract_or_404(request, contract_id)
    record_download(contract, "learners")
    rows = (
        [
            row.email,
            row.name,
            row.joined_on.isoformat(),
            row.source.label,
            " ".join(row.runs),
        ]
        for row in iter_contract_learners(contract.pk)
    )
    lines = csv_lines(chain([LEARNERS_CSV_HEADER], rows))
    return _csv_response(lines, f"learners-{contract.pk}.csv")


def _csv_response(lines, filename: str) -> StreamingHttpResponse:
    response = StreamingHttpResponse(lines, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["Cache-Control"] = "no-store"
    return response


@require_http_methods(["GET", "POST"])
@login_required
@_write_limited
def invite_one(request, contract_id: int):
    contract = _contract_or_404(request, contract_id)
    form = InviteForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            invitation = invite(
                contract=contract,
                email=form.cleaned_data["email"],
                name=form.cleaned_data["name"],
                by=request.user,
            )
        except InvitationRefused as error:
            form.add_error("email", str(error))
        else:
            messages.success(request, f"{invitation.email} is invited; the e-mail is on its way.")
            return redirect(_contract_url(contract, anchor=True))
    status = 400 if request.method == "POST" else 200
    context = {"contract": contract, "organization": contract.organization, "form": form}
    return render(request, "b2b/manage/invite.html", context, status=status)


@require_http_methods(["GET", "POST"])
@login_required
@_write_limited
def invite_many(request, contract_id: int):
    contract = _contract_or_404(request, contract_id)
    form = UploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        job = invite_list(contract=contract, rows=form.cleaned_data["file"], by=request.user)
        return redirect("manage:job", contract_id=contract.pk, job_id=job.pk)
    status = 400 if request.method == "POST" else 200
    context = {"contract": contract, "organization": contract.organization, "form": form}
    return render(request, "b2b/manage/invite_many.html", context, status=status)


def _job_or_404(request, contract_id: int, job_id: int):
    contract = _contract_or_404(request, contract_id)
    job = find_job(contract, job_id)
    if job is None:
        raise Http404("No such job")
    return contract, job


@require_GET
@login_required
def job(request, contract_id: int, job_id: int):
    contract, job = _job_or_404(request, contract_id, job_id)
    context = {
        "contract": contract,
        "organization": contract.organization,
        "job": job,
        "summary": invite_job_summary(job),
        "notice": deferred_notice(job),
        "rows": job_rows(job)[: settings.B2B_INVITE_RESULTS_SHOWN] if job.finished else [],
    }
    return render(request, "b2b/manage/job.html", context)


@require_GET
@login_required
def job_status(request, contract_id: int, job_id: int):
    _contract, job = _job_or_404(request, contract_id, job_id)
    return JsonResponse(job_progress(job))


@require_GET
@login_required
def job_results_csv(request, contract_id: int, job_id: int):
    contract, job = _job_or_404(request, contract_id, job_id)
    lines = csv_lines(iter_result_rows(job))
    return _csv_response(lines, f"invitations-{contract.pk}-{job.pk}.csv")


def _invitation_action(request, contract_id: int, invitation_id: int, action, done: str):
    contract = _contract_or_404(request, contract_id)
    invitation = find_open_invitation(contract, invitation_id)
    if invitation is None:
        raise Http404("No such invitation")
    try:
        action(invitation=invitation, by=request.user)
    except B2BError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, done.format(email=invitation.email))
    return redirect(_contract_url(contract, anchor=True))


@require_POST
@login_required
@_write_limited
def remind_one(request, contract_id: int, invitation_id: int):
    return _invitation_action(
        request, contract_id, invitation_id, remind, "A reminder to {email} is on its way."
    )


@require_POST
@login_required
@_write_limited
def revoke_one(request, contract_id: int, invitation_id: int):
    return _invitation_action(
        request,
        contract_id,
        invitation_id,
        revoke,
        "The invitation of {email} is withdrawn; its code no longer works.",
    )


@require_POST
@login_required
@_write_limited
def remind_all(request, contract_id: int):
    contract = _contract_or_404(request, contract_id)
    result = remind_all_open(contract=contract, by=request.user)
    waiting = ""
    if result.in_cooldown:
        waiting = (
            f"{result.in_cooldown} e-mailed less than "
            f"{describe_wait(settings.B2B_INVITATION_REMIND_COOLDOWN_SECONDS)} ago "
            f"{'was' if result.in_cooldown == 1 else 'were'} not reminded again."
        )
    if result.reminded:
        sent = f"Reminders to {result.reminded} people are on their way."
        messages.success(request, f"{sent} {waiting}".strip())
    elif waiting:
        messages.info(request, f"Nobody was reminded: {waiting[0].lower()}{waiting[1:]}")
    else:
        messages.info(request, "No invitation is open: nobody to remind.")
    return redirect(_contract_url(contract, anchor=True))
