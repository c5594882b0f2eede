"""Staff endpoints under a contract (/api/v1/b2b/contracts/{id}/...): courseware, codes, learners,
runs and the learners' progress."""

from django.http import StreamingHttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.generics import GenericAPIView
from rest_framework.response import Response

from b2b.api import manager_serializers as ms
from b2b.api import serializers as s
from b2b.api.examples import ATTACHED, CODE, COURSEWARE_RESULT, MEMBERSHIP, RUN
from b2b.api.manager_examples import PROGRESS_ROW, PROGRESS_SUMMARY
from b2b.api.manager_progress_views import ROW_FILTERS, rows_response, summary_response
from b2b.api.views import _valid, dry_run_asked, plan_body
from b2b.enums import MembershipSource
from b2b.models import ContractMembership
from b2b.selectors.listings import attached_courseware, contract_run_rows, contract_runs
from b2b.services.codes.dry_run import preview
from b2b.services.codes.export import stream_codes_csv
from b2b.services.contracts.terms import get_contract
from b2b.services.courseware import CoursewareResult, add_courseware, remove_courseware
from b2b.services.memberships import attach_learner, detach_learner
from config.api.docs import documented, error_response
from config.api.pagination import KeyCursorPagination, PositionCursorPagination
from courses.services.edx_copy import requeue_run_copies
from ecommerce.services.contract_codes.rows import contract_codes
from users.models import User

DRY_RUN = OpenApiParameter("dry_run", bool, description="Return the plan and write nothing.")


def courseware_body(result: CoursewareResult, *, plan=None) -> dict:
    return {
        "dry_run": plan is not None,
        "attached": list(result.attached),
        "created_runs": [run.courseware_id for run in result.created_runs],
        "assigned_runs": [run.courseware_id for run in result.assigned_runs],
        "detached_runs": [run.courseware_id for run in result.detached_runs],
        "skipped": [{"readable_id": rid, "reason": why} for rid, why in result.skipped],
        "warnings": list(result.warnings),
        "products_created": result.products_created,
        "products_deactivated": result.products_deactivated,
        "codes": plan_body(plan) if plan is not None else None,
    }


def _run_courseware(request, contract_id: int, action):
    if dry_run_asked(request):
        result, plan = preview(action, contract_id=contract_id)
        return courseware_body(result, plan=plan)
    return courseware_body(action())


class Courseware(GenericAPIView):
    serializer_class = s.AttachedSerializer
    pagination_class = KeyCursorPagination  # courses and programs, merged by readable id

    @documented(
        "List a contract's courses and programs",
        description="The courses and programs recorded on the contract, by readable id, with "
        "whether the contract has a run of each course. The runs themselves: runs/.",
        ok={200: s.AttachedSerializer(many=True)},
        errors=(404,),
        example=ATTACHED,
        tags=["courseware"],
    )
    def get(self, request, contract_id: int):
        contract = get_contract(contract_id)
        paginator = self.paginator
        assert isinstance(paginator, KeyCursorPagination)
        rows = paginator.paginate_by_key(
            request,
            lambda **page: attached_courseware(contract, **page),
            key=lambda row: row.readable_id,
        )
        return paginator.get_paginated_response(s.AttachedSerializer(rows, many=True).data)

    @documented(
        "Add a course, run or program to a contract",
        description="A course or program gets contract runs copied from its source runs "
        "(create_runs), with their products and codes.",
        request=s.CoursewareAddSerializer,
        ok={201: s.CoursewareResultSerializer, 200: s.CoursewareResultSerializer},
        errors=(400, 404, 409),
        parameters=[DRY_RUN],
        example=COURSEWARE_RESULT,
        tags=["courseware"],
    )
    def post(self, request, contract_id: int):
        data = _valid(s.CoursewareAddSerializer, request.data)
        body = _run_courseware(
            request,
            contract_id,
            lambda: add_courseware(
                contract_id=contract_id,
                courseware_id=data["courseware_id"],
                create_runs=data["create_runs"],
            ),
        )
        changed = body["attached"] or body["created_runs"] or body["assigned_runs"]
        done = changed and not body["dry_run"]
        return Response(body, status=status.HTTP_201_CREATED if done else status.HTTP_200_OK)


class CoursewareItem(GenericAPIView):
    serializer_class = s.CoursewareResultSerializer

    @documented(
        "Remove a course, run or program from a contract",
        description="Its runs are detached and their products deactivated.",
        ok={200: s.CoursewareResultSerializer},
        errors=(404, 409),
        parameters=[DRY_RUN],
        example={
            **COURSEWARE_RESULT,
            "attached": [],
            "created_runs": [],
            "detached_runs": [RUN["courseware_id"]],
        },
        tags=["courseware"],
    )
    def delete(self, request, contract_id: int, courseware_id: str):
        body = _run_courseware(
            request,
            contract_id,
            lambda: remove_courseware(contract_id=contract_id, courseware_id=courseware_id),
        )
        return Response(body)


CODE_FILTERS = [
    OpenApiParameter("redeemed", bool, description="Only redeemed (true) or unredeemed codes."),
    OpenApiParameter("active", bool, description="Only active (true) or deactivated codes."),
    OpenApiParameter("product", int, description="Only the codes of this product."),
]


class Codes(GenericAPIView):
    serializer_class = s.CodeSerializer

    def get_queryset(self):
        filters = _valid(s.CodeFilterSerializer, self.request.query_params)
        return contract_codes(
            self.kwargs["contract_id"],
            redeemed=filters["redeemed"],
            active=filters["active"],
            product_id=filters.get("product"),
        )

    @documented(
        "List a contract's enrollment codes",
        ok={200: s.CodeSerializer(many=True)},
        errors=(400, 404),
        parameters=CODE_FILTERS,
        example=CODE,
        tags=["codes"],
    )
    def get(self, request, contract_id: int):
        get_contract(contract_id)
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response(s.CodeSerializer(page, many=True).data)


class CodesCsv(GenericAPIView):
    pagination_class = None

    @extend_schema(
        summary="Download a contract's codes as CSV",
        description="The four columns of the spec (Code, Product, Redeemed, Product URL), "
        "streamed; the same file as `b2b_list contracts --codes ID`.",
        responses={
            (200, "text/csv"): OpenApiResponse(
                OpenApiTypes.STR,
                description="The CSV file.",
                examples=[
                    OpenApiExample(
                        "csv",
                        value="Code,Product,Redeemed,Product URL\r\n"
                        "3f2c9a4e-...,Introduction to AI (course-v1:UAI_X+AI101+2026_C7),No,"
                        "https://example.com/cart/add/?product_id=31\r\n",
                        response_only=True,
                    )
                ],
            ),
            **{code: error_response(code) for code in (401, 403, 404)},
        },
        tags=["codes"],
    )
    def get(self, request, contract_id: int):
        contract = get_contract(contract_id)
        response = StreamingHttpResponse(stream_codes_csv(contract), content_type="text/csv")
        response["Content-Disposition"] = f'attachment; filename="contract-{contract_id}-codes.csv"'
        return response


class Learners(GenericAPIView):
    serializer_class = s.MembershipSerializer

    def get_queryset(self):
        return ContractMembership.objects.filter(
            contract_id=self.kwargs["contract_id"]
        ).select_related("user", "created_by")

    @documented(
        "List a contract's learners",
        description="Who joined, when, how (code, purchase, SSO, staff) and by whom.",
        ok={200: s.MembershipSerializer(many=True)},
        errors=(404,),
        example=MEMBERSHIP,
        tags=["learners"],
    )
    def get(self, request, contract_id: int):
        get_contract(contract_id)
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response(s.MembershipSerializer(page, many=True).data)

    @documented(
        "Add a learner to a contract",
        description="An existing account, by e-mail; 201 added, 200 already a member, 409 when "
        "the contract is full, inactive or outside its dates.",
        request=s.LearnerAddSerializer,
        ok={201: s.MembershipSerializer, 200: s.MembershipSerializer},
        errors=(400, 404, 409),
        example=MEMBERSHIP,
        tags=["learners"],
    )
    def post(self, request, contract_id: int):
        data = _valid(s.LearnerAddSerializer, request.data)
        user = User.objects.filter(email__iexact=data["email"]).first()
        if user is None:
            raise ValidationError({"email": [f"No account has the e-mail address {data['email']}"]})
        attachment = attach_learner(
            user=user,
            contract_id=contract_id,
            source=MembershipSource.STAFF,
            created_by=request.user,
        )
        membership = self.get_queryset().get(pk=attachment.membership.pk)
        return Response(
            s.MembershipSerializer(membership).data,
            status=status.HTTP_201_CREATED if attachment.created else status.HTTP_200_OK,
        )


class Learner(GenericAPIView):
    @documented(
        "Remove a learner from a contract",
        ok={204: None},
        errors=(404,),
        tags=["learners"],
    )
    def delete(self, request, contract_id: int, user_id: int):
        get_contract(contract_id)
        user = User.objects.filter(pk=user_id).first()
        if user is None or not detach_learner(user=user, contract_id=contract_id):
            raise NotFound(f"User {user_id} is not a learner of contract {contract_id}")
        return Response(status=status.HTTP_204_NO_CONTENT)


class Runs(GenericAPIView):
    serializer_class = s.RunSerializer

    def get_queryset(self):
        return contract_runs(self.kwargs["contract_id"])

    @documented(
        "List a contract's runs with their Open edX copy state",
        ok={200: s.RunSerializer(many=True)},
        errors=(404,),
        example=RUN,
        tags=["runs"],
    )
    def get(self, request, contract_id: int):
        get_contract(contract_id)
        page = self.paginate_queryset(self.get_queryset())
        rows = contract_run_rows(contract_id, list(page or ()))
        return self.get_paginated_response(s.RunSerializer(rows, many=True).data)


class RequeueRuns(GenericAPIView):
    serializer_class = s.RequeuedSerializer

    @documented(
        "Queue the Open edX copies of a contract's runs again",
        request=s.RequeueSerializer,
        ok={200: s.RequeuedSerializer},
        errors=(400, 404, 409),
        example={"requeued": [RUN["courseware_id"]]},
        tags=["runs"],
    )
    def post(self, request, contract_id: int):
        data = _valid(s.RequeueSerializer, request.data)
        get_contract(contract_id)
        runs = requeue_run_copies(contract_id=contract_id, failed_only=data["failed_only"])
        return Response({"requeued": [run.courseware_id for run in runs]})


class Progress(GenericAPIView):
    serializer_class = ms.ProgressRowSerializer
    pagination_class = PositionCursorPagination

    @documented(
        "List a contract's learners' progress",
        description="A row per learner and contract run, as the manager API gives it, whatever "
        "the contract's progress_visibility; ?show=, ?q= and ?sort= as there.",
        ok={200: ms.ProgressRowSerializer(many=True)},
        errors=(400, 404),
        parameters=ROW_FILTERS,
        example=PROGRESS_ROW,
        tags=["progress"],
        operation_id="progress_list",
    )
    def get(self, request, contract_id: int):
        return rows_response(self, request, get_contract(contract_id))


class ProgressSummary(GenericAPIView):
    serializer_class = ms.ProgressSummarySerializer

    @documented(
        "Read a contract's progress funnel",
        description="As the manager API gives it, with every count shown and the Open edX "
        "learners not matched to an account (unmapped).",
        ok={200: ms.ProgressSummarySerializer},
        errors=(404,),
        example={**PROGRESS_SUMMARY, "unmapped": 2},
        tags=["progress"],
    )
    def get(self, request, contract_id: int):
        return summary_response(get_contract(contract_id), staff=True)
