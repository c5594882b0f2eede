"""Learner progress in the manager API: a contract's funnel (``progress/summary/``), its rows a
learner and run at a time (``progress/``), and an organization's feed of the rows changed since
a moment (``organizations/{id}/progress/``), which HR systems pull.

The figures and rows come from ``b2b.selectors.progress`` with one ``AttentionCutoffs`` per
request, so that "needs attention" means the same in the count and in every row. A contract that
shows its managers aggregates only answers its summary (small counts hidden) and refuses its rows
(403 ``progress_hidden``). The staff endpoints (``b2b.api.contract_views``) answer the same
shapes through the helpers here, with every row and the unmapped count.

The feed reads the rows changed after ``updated_since`` and not after ``as_of``, a moment the
server takes before reading, minus ``FEED_SETTLE`` (a sync's write that started before as_of
but is still committing is then read next time, not skipped). The pages of one read share its
as_of (the cursor carries it): a row that changes during the read leaves this read's window
and is returned by the next, which starts at as_of. The client stores as_of once it has read
the last page and passes it as updated_since next time.
"""

import base64
import binascii
import json
from datetime import datetime, timedelta

from django.db.models import Q
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from drf_spectacular.utils import OpenApiParameter
from rest_framework.exceptions import NotFound
from rest_framework.generics import GenericAPIView
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.utils.urls import replace_query_param

from b2b.api import manager_serializers as s
from b2b.api.manager_examples import PROGRESS_FEED, PROGRESS_ROW, PROGRESS_SUMMARY
from b2b.api.manager_views import TAGS, ManagerView, managed_contract_or_404
from b2b.api.views import _valid
from b2b.exceptions import ProgressHidden
from b2b.models import AttentionCutoffs, ContractPage, LearnerProgress
from b2b.selectors.progress import ProgressSummary, progress_summary, shows_learners
from b2b.selectors.progress_rows import (
    FILTERS,
    SORTS,
    certificate_link,
    progress_rows,
    rows_changed_since,
)
from b2b.services.invitations.pages import managed_organization
from config.api.docs import documented
from config.api.pagination import IdCursorPagination, PositionCursorPagination
from config.text import has_nul

# How far behind the moment of a read its as_of is: longer than a sync's write takes to commit.
FEED_SETTLE = timedelta(seconds=60)

SORT_KEYS = ", ".join(SORTS)
ROW_FILTERS = [
    OpenApiParameter(
        "show",
        str,
        enum=list(FILTERS),
        description="Keep the rows not started, needing attention, passed or certified.",
    ),
    OpenApiParameter(
        "q", str, description="Part of the learner's name, e-mail or Open edX username."
    ),
    OpenApiParameter(
        "sort",
        str,
        enum=[*SORTS, *(f"-{key}" for key in SORTS)],
        description=f"The order: {SORT_KEYS}; a leading - for descending. Default: name.",
    ),
]


def summary_body(summary: ProgressSummary) -> dict:
    return {
        "contract_id": summary.contract_id,
        "seats": summary.seats,
        "per_learner": summary.per_learner,
        "stages": [
            {
                "key": stage.key,
                "label": stage.label,
                "count": stage.count,
                "share": stage.share,
                "text": stage.text,
            }
            for stage in summary.stages
        ],
        "completion_rate": summary.completion_rate,
        "needs_attention": summary.needs_attention,
        "unmapped": summary.unmapped,
        "as_of": summary.as_of,
        "text": summary.text,
    }


def row_body(row: LearnerProgress, *, attention: bool) -> dict:
    """A row as the API gives it; its user and run are loaded with it (select_related)."""
    user = row.user
    return {
        "learner": {
            "user_id": row.user_id,
            "name": user.name if user is not None else "",
            "email": user.email if user is not None else row.edx_email,
            "edx_username": row.edx_username,
        },
        "run": row.run.courseware_id,
        "mode": row.mode,
        "active": row.active,
        "enrolled_on": row.enrolled_on,
        "grade_percent": row.grade_percent,
        "letter_grade": row.letter_grade,
        "passed": row.passed,
        "first_passed_on": row.first_passed_on,
        "certificate": {
            "status": row.cert_status,
            "url": certificate_link(row.cert_url),
            "created_on": row.cert_created_on,
        },
        "needs_attention": attention,
        "changed_on": row.changed_on,
        "as_of": row.as_of,
    }


def rows_response(view: GenericAPIView, request: Request, contract: ContractPage) -> Response:
    """A page of the contract's rows, filtered, searched and sorted as the query asks (the
    caller has checked who may read them)."""
    query = _valid(s.ProgressFilterSerializer, request.query_params)
    cutoffs = AttentionCutoffs.at(timezone.now())
    rows = progress_rows(
        contract.pk, cutoffs, show=query["show"], search=query["q"], sort=query["sort"]
    )
    page = view.paginate_queryset(rows) or []
    # The selector annotates each row with ``attention``.
    body = [row_body(row, attention=row.attention) for row in page]  # type: ignore[attr-defined]
    return view.get_paginated_response(s.ProgressRowSerializer(body, many=True).data)


def summary_response(contract: ContractPage, *, staff: bool) -> Response:
    summary = progress_summary(contract, AttentionCutoffs.at(timezone.now()), staff=staff)
    return Response(s.ProgressSummarySerializer(summary_body(summary)).data)


def refuse_hidden(contract: ContractPage) -> None:
    if not shows_learners(contract):
        raise ProgressHidden(
            f"Contract {contract.pk} shows its managers aggregates only: read its "
            "progress/summary/."
        )


class ContractProgress(ManagerView):
    serializer_class = s.ProgressRowSerializer
    pagination_class = PositionCursorPagination

    @documented(
        "List a contract's learners' progress",
        description="A row per learner and contract run: enrollment, grade (0 to 1), pass, "
        "certificate and whether it needs attention, as Open edX last reported it. ?show= "
        "keeps one kind, ?q= searches, ?sort= orders (as the manager's progress page). 403 "
        "progress_hidden for a contract that shows aggregates only (its summary: "
        "progress/summary/).",
        ok={200: s.ProgressRowSerializer(many=True)},
        errors=(400, 404),
        parameters=ROW_FILTERS,
        example=PROGRESS_ROW,
        tags=TAGS,
        operation_id="manager_progress_list",
    )
    def get(self, request, contract_id: int):
        contract = managed_contract_or_404(request, contract_id)
        refuse_hidden(contract)
        return rows_response(self, request, contract)


class ContractProgressSummary(ManagerView):
    serializer_class = s.ProgressSummarySerializer

    @documented(
        "Read a contract's progress funnel",
        description="Invited, joined, enrolled, started, passed and certified learners, the "
        "completion rate, how many rows need attention, and when Open edX last answered. A "
        "contract that shows aggregates only hides the counts under B2B_PROGRESS_MIN_GROUP "
        "(null).",
        ok={200: s.ProgressSummarySerializer},
        errors=(404,),
        example=PROGRESS_SUMMARY,
        tags=TAGS,
    )
    def get(self, request, contract_id: int):
        contract = managed_contract_or_404(request, contract_id)
        return summary_response(contract, staff=False)


def _feed_link(base_url: str, as_of: datetime, last: LearnerProgress) -> str:
    token = json.dumps([as_of.isoformat(), last.changed_on.isoformat(), last.pk]).encode()
    return replace_query_param(base_url, "cursor", base64.urlsafe_b64encode(token).decode())


def _aware(text: object) -> datetime | None:
    if not isinstance(text, str) or has_nul(text):
        return None
    try:
        moment = parse_datetime(text)
    except ValueError:
        return None
    return moment if moment is not None and moment.tzinfo is not None else None


def _feed_cursor(raw: str) -> tuple[datetime, datetime, int]:
    """A next link's (as_of, changed_on, id); a forged one is an invalid cursor (404)."""
    invalid = NotFound("Invalid cursor")
    try:
        as_of, changed_on, pk = json.loads(base64.urlsafe_b64decode(raw.encode()))
    except (ValueError, TypeError, binascii.Error):
        raise invalid from None
    as_of, changed_on = _aware(as_of), _aware(changed_on)
    if as_of is None or changed_on is None or type(pk) is not int or not 0 < pk < 2**63:
        raise invalid
    return as_of, changed_on, pk


class OrganizationProgress(ManagerView):
    serializer_class = s.ProgressFeedSerializer
    pagination_class = None  # pages by (changed_on, id), with the read's as_of

    @documented(
        "Read the progress rows changed since a moment",
        description="The rows of the organization's contracts that show learners one by one, "
        "changed after updated_since and not after as_of, oldest change first, each with its "
        "contract_id. Follow next to the last page, then keep as_of: pass it as "
        "updated_since next time. A row that changes while you read is returned next time.",
        ok={200: s.ProgressFeedSerializer},
        errors=(400, 404),
        parameters=[
            OpenApiParameter(
                "updated_since",
                str,
                description="An ISO 8601 timestamp with its offset (Z or +01:00), usually the "
                "last read's as_of; absent: every row.",
            ),
            OpenApiParameter("cursor", str, description="The next link's, to read on."),
            OpenApiParameter("page_size", int, description="1 to 500 rows (50 by default)."),
        ],
        example=PROGRESS_FEED,
        tags=TAGS,
        operation_id="manager_organization_progress",
    )
    def get(self, request, organization_id: int):
        organization = managed_organization(request.user, organization_id)
        if organization is None:
            raise NotFound(f"You do not manage an organization {organization_id}")
        since = _valid(s.ProgressFeedQuerySerializer, request.query_params)["updated_since"]
        now = timezone.now()
        raw_cursor = request.query_params.get("cursor")
        after = _feed_cursor(raw_cursor) if raw_cursor else None
        as_of = after[0] if after else now - FEED_SETTLE
        rows = rows_changed_since(organization, since, until=as_of)
        if after:
            _, changed_on, pk = after
            rows = rows.filter(Q(changed_on__gt=changed_on) | Q(changed_on=changed_on, pk__gt=pk))
        size = IdCursorPagination().get_page_size(request) or IdCursorPagination.page_size
        page = list(rows[: size + 1])
        more = len(page) > size
        page = page[:size]
        cutoffs = AttentionCutoffs.at(now)
        body = {
            "as_of": as_of,
            "next": _feed_link(request.build_absolute_uri(), as_of, page[-1]) if more else None,
            "previous": None,
            "results": [
                {
                    **row_body(row, attention=row.needs_attention(cutoffs)),
                    "contract_id": row.contract_id,
                }
                for row in page
            ],
        }
        return Response(s.ProgressFeedSerializer(body).data)
