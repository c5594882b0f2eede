"""The manager pages of learners' progress: a contract's progress page (the funnel and the
per-learner table), its CSV, the "Refresh from Open edX" button and the organization's weekly
digest choice (the nudges to learners who need attention are ``b2b.manage.nudge_views``).

As everywhere under /manage/, the contract or organization is the URL's, checked against the
signed-in manager's organizations (404 outside them); every POST counts against the manager's
write limit (``_write_limited``). Each request takes one ``AttentionCutoffs`` so that the
needs-attention count, the filter and the flags agree. A contract that shows its managers
aggregates only has no table, no CSV and no nudges here (403, saying why).
"""

from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from b2b.exceptions import RefreshTooSoon
from b2b.manage.forms import DigestForm, ProgressQueryForm, RefreshForm
from b2b.manage.views import _contract_or_404, _csv_response, _organizations_or_403, _write_limited
from b2b.models import AttentionCutoffs
from b2b.selectors.progress import progress_summary, shows_learners
from b2b.selectors.progress_delivery import manager_role
from b2b.selectors.progress_rows import (
    FILTERS,
    SORTS,
    filter_counts,
    iter_progress_csv_rows,
    progress_page,
)
from b2b.services.invitations.pages import managed_organization, record_download
from b2b.services.progress.digest_choice import set_digest
from b2b.services.progress.refresh import request_refresh
from config.exports import csv_lines

# The table's columns: (label, sort key or None).
COLUMNS: tuple[tuple[str, str | None], ...] = (
    ("Name", "name"),
    ("E-mail", "email"),
    ("Run", "run"),
    ("Enrolled on", "enrolled"),
    ("Grade", "grade"),
    ("Passed on", "passed"),
    ("Certificate", "certificate"),
    ("Last change seen", "changed"),
    ("Needs attention", None),
    ("Last nudged", None),
)

HIDDEN_WHY = (
    "This contract shows its managers totals only: its learners' progress is not shown one "
    "by one, and counts of fewer than {min} learners are hidden."
)


def cutoffs_now() -> AttentionCutoffs:
    return AttentionCutoffs.at(timezone.now())


def hidden(request, contract):
    """The 403 of a learners-only page of an aggregates-only contract."""
    context = {
        "contract": contract,
        "organization": contract.organization,
        "message": HIDDEN_WHY.format(min=settings.B2B_PROGRESS_MIN_GROUP),
    }
    return render(request, "b2b/manage/progress_hidden.html", context, status=403)


def _query(**values) -> str:
    return "?" + urlencode({k: v for k, v in values.items() if v not in ("", None, 1)})


def _sort_headers(query: str, show: str, sort: str) -> list[dict]:
    """Each column's header: its link (ascending first, descending when already ascending)
    and its aria-sort."""
    current = sort.removeprefix("-") or "name"
    descending = sort.startswith("-")
    headers = []
    for label, key in COLUMNS:
        header: dict = {"label": label, "key": key, "url": "", "aria_sort": ""}
        if key is not None:
            active = key == current
            next_sort = f"-{key}" if active and not descending else key
            header["url"] = _query(q=query, show=show, sort=next_sort)
            if active:
                header["aria_sort"] = "descending" if descending else "ascending"
        headers.append(header)
    return headers


@require_GET
@login_required
def progress(request, contract_id: int):
    contract = _contract_or_404(request, contract_id)
    cutoffs = cutoffs_now()
    summary = progress_summary(contract, cutoffs)
    context = {
        "contract": contract,
        "organization": contract.organization,
        "summary": summary,
        "hidden_why": HIDDEN_WHY.format(min=settings.B2B_PROGRESS_MIN_GROUP),
    }
    if summary.per_learner:
        form = ProgressQueryForm(request.GET, filters=FILTERS, sorts=list(SORTS))
        query, show, sort = form.value("q"), form.value("show"), form.value("sort")
        page = progress_page(
            contract.pk,
            cutoffs,
            show=show,
            search=query,
            sort=sort,
            page=form.value("page", 1),
            per_page=settings.B2B_MANAGE_PAGE_SIZE,
        )
        counts = filter_counts(contract.pk, cutoffs)
        context.update(
            query=query,
            show=show,
            sort=sort,
            table=page,
            headers=_sort_headers(query, show, sort),
            filters=[
                {
                    "key": key,
                    "label": label,
                    "count": counts[key or "all"],
                    "url": _query(q=query, show=key, sort=sort),
                }
                for key, label in [("", "Everyone"), *FILTERS.items()]
            ],
            previous_url=_query(q=query, show=show, sort=sort, page=page.page - 1),
            next_url=_query(q=query, show=show, sort=sort, page=page.page + 1),
        )
    return render(request, "b2b/manage/progress.html", context)


@require_GET
@login_required
def progress_csv(request, contract_id: int):
    contract = _contract_or_404(request, contract_id)
    if not shows_learners(contract):
        return hidden(request, contract)
    record_download(contract, "progress")
    lines = csv_lines(iter_progress_csv_rows(contract.pk, cutoffs_now()))
    return _csv_response(lines, f"progress-{contract.pk}.csv")


@require_POST
@login_required
@_write_limited
def refresh(request, contract_id: int):
    contract = _contract_or_404(request, contract_id)
    form = RefreshForm(request.POST)
    back = form.cleaned_data["back"] if form.is_valid() else "contract"
    try:
        request_refresh(contract, request.user)
    except RefreshTooSoon as error:
        messages.error(request, str(error))
    else:
        messages.success(
            request,
            "A refresh from Open edX is queued: the figures change once it has run, "
            "usually within minutes.",
        )
    if back == "progress":
        return redirect("manage:progress", contract_id=contract.pk)
    return redirect(reverse("manage:contract", args=[contract.pk]) + "#progress")


@require_POST
@login_required
@_write_limited
def digest(request, org_id: int):
    _organizations_or_403(request.user)
    organization = managed_organization(request.user, org_id)
    role = manager_role(request.user, organization) if organization is not None else None
    if organization is None or role is None:
        raise Http404("No such organization")
    form = DigestForm(request.POST)
    form.is_valid()
    wants = bool(form.cleaned_data.get("wants_digest"))
    set_digest(role, wants=wants)
    if wants:
        messages.success(
            request, f"You will receive a weekly progress digest of {organization.title}."
        )
    else:
        messages.info(
            request, f"You will no longer receive the weekly digest of {organization.title}."
        )
    return redirect(reverse("manage:organization", args=[organization.pk]) + "#digest")
