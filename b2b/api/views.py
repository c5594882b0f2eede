"""Staff endpoints of organizations and contracts (/api/v1/b2b/). Each parses input with a
serializer and calls the service the command line calls; errors become the API's error shape
(config/api/errors.py)."""

from dataclasses import asdict

from django.db import transaction
from drf_spectacular.utils import OpenApiParameter, PolymorphicProxySerializer
from rest_framework import status
from rest_framework.generics import GenericAPIView
from rest_framework.request import Request
from rest_framework.response import Response

from b2b.api import serializers as s
from b2b.api.examples import CONTRACT, ORGANIZATION
from b2b.models import ContractCodeStatus, ContractPage, OrganizationPage
from b2b.selectors.listings import contract_rows, organization_row
from b2b.services.codes.dry_run import preview
from b2b.services.codes.rules import CodePlan
from b2b.services.contracts.terms import (
    UNSET,
    ContractChange,
    create_contract,
    get_contract,
    modify_contract,
)
from b2b.services.organizations.changes import (
    OrganizationChange,
    get_organization,
    update_organization,
)
from b2b.services.organizations.create import create_organization
from config.api.docs import documented

DRY_RUN = OpenApiParameter(
    "dry_run", bool, description="Return the plan and write nothing.", required=False
)
TAGS = ["organizations"]


def dry_run_asked(request: Request) -> bool:
    return request.query_params.get("dry_run", "").lower() in {"1", "true", "yes"}


def plan_body(plan: CodePlan) -> dict:
    return {
        "products": len(plan.product_ids),
        "products_to_reprice": plan.products_to_reprice,
        "codes_to_create": plan.codes_to_create,
        "codes_to_reprice": plan.codes_to_reprice,
        "codes_to_redate": plan.codes_to_redate,
        "codes_to_retype": plan.codes_to_retype,
        "codes_to_reactivate": plan.codes_to_reactivate,
        "codes_to_delete": plan.codes_to_delete,
        "codes_to_deactivate": plan.codes_to_deactivate,
        "summary": plan.summary_lines(),
    }


def _org_row(organization_id: int):
    return organization_row(OrganizationPage.objects.with_contract_counts().get(pk=organization_id))


class OrganizationList(GenericAPIView):
    serializer_class = s.OrganizationSerializer

    def get_queryset(self):
        return OrganizationPage.objects.with_contract_counts()

    @documented(
        "List organizations",
        ok={200: s.OrganizationSerializer(many=True)},
        example=ORGANIZATION,
        tags=TAGS,
        operation_id="b2b_organizations_list",
    )
    def get(self, request):
        page = self.paginate_queryset(self.get_queryset())
        rows = [organization_row(org) for org in page or ()]
        return self.get_paginated_response(s.OrganizationSerializer(rows, many=True).data)

    @documented(
        "Create an organization",
        request=s.OrganizationWriteSerializer,
        ok={201: s.OrganizationSerializer},
        errors=(400, 409),
        example=ORGANIZATION,
        tags=TAGS,
    )
    def post(self, request):
        data = _valid(s.OrganizationWriteSerializer, request.data)
        with transaction.atomic():
            org = create_organization(
                name=data["name"], org_key=data.get("org_key"), by=request.user
            )
            update_organization(
                organization_id=org.pk,
                change=_organization_change(data, name=False),
                by=request.user,
            )
        return Response(
            s.OrganizationSerializer(_org_row(org.pk)).data, status=status.HTTP_201_CREATED
        )


class OrganizationDetail(GenericAPIView):
    serializer_class = s.OrganizationSerializer

    @documented(
        "Read an organization",
        ok={200: s.OrganizationSerializer},
        errors=(404,),
        example=ORGANIZATION,
        tags=TAGS,
    )
    def get(self, request, organization_id: int):
        get_organization(organization_id)
        return Response(s.OrganizationSerializer(_org_row(organization_id)).data)

    @documented(
        "Change an organization (name, org key, description, SSO organization id)",
        request=s.OrganizationUpdateSerializer,
        ok={200: s.OrganizationSerializer},
        errors=(400, 404, 409),
        example=ORGANIZATION,
        tags=TAGS,
    )
    def patch(self, request, organization_id: int):
        data = _valid(s.OrganizationUpdateSerializer, request.data, partial=True)
        update_organization(
            organization_id=organization_id, change=_organization_change(data), by=request.user
        )
        return Response(s.OrganizationSerializer(_org_row(organization_id)).data)


def _organization_change(data: dict, *, name: bool = True) -> OrganizationChange:
    sso_given = "sso_organization_id" in data
    sso = data.get("sso_organization_id")
    return OrganizationChange(
        name=data.get("name") if name else None,
        org_key=data.get("org_key") if name else None,
        description=data.get("description"),
        sso_organization_id=sso or None,
        clear_sso_organization_id=sso_given and not sso,
    )


def _valid(serializer_class, data, *, partial: bool = False) -> dict:
    serializer = serializer_class(data=data, partial=partial)
    serializer.is_valid(raise_exception=True)
    return dict(serializer.validated_data)


# Contracts

CONTRACT_FILTERS = [
    OpenApiParameter("organization", int, description="Only this organization's contracts."),
    OpenApiParameter("active", bool, description="Only active (true) or inactive (false) ones."),
    OpenApiParameter("integration_type", str, enum=["sso", "non-sso"]),
]


def contract_detail(contract_id: int) -> dict:
    contract = get_contract(contract_id)
    (row,) = contract_rows(ContractPage.objects.filter(pk=contract_id))
    status_row = ContractCodeStatus.objects.filter(pk=contract_id).first()
    body = {
        **asdict(row),
        "description": contract.description,
        "code_status": {
            "up_to_date": not row.codes_pending,
            "pending_since": row.codes_pending_since,
            "reconciled_on": status_row.reconciled_on if status_row else None,
            "last_error": status_row.last_error if status_row else "",
        },
    }
    body["codes"]["deactivated"] = row.codes.deactivated
    return s.ContractDetailSerializer(body).data


class ContractList(GenericAPIView):
    serializer_class = s.ContractSerializer

    def get_queryset(self):
        contracts = ContractPage.objects.all()
        filters = _valid(ContractFilterSerializer, self.request.query_params)
        if "organization" in filters:
            org = OrganizationPage.objects.filter(pk=filters["organization"]).first()
            contracts = contracts.of_organization(org) if org else contracts.none()
        if filters.get("active") is not None:
            contracts = contracts.filter(active=filters["active"])
        if "integration_type" in filters:
            contracts = contracts.filter(integration_type=filters["integration_type"])
        return contracts.values("pk")

    @documented(
        "List contracts",
        ok={200: s.ContractSerializer(many=True)},
        errors=(400,),
        parameters=CONTRACT_FILTERS,
        example=CONTRACT,
        tags=["contracts"],
        operation_id="b2b_contracts_list",
    )
    def get(self, request):
        page = self.paginate_queryset(self.get_queryset())
        rows = contract_rows(ContractPage.objects.filter(pk__in=[row["pk"] for row in page or ()]))
        return self.get_paginated_response(s.ContractSerializer(rows, many=True).data)

    @documented(
        "Create a contract",
        description="Create a contract under an organization; its enrollment codes follow. "
        "With ?dry_run=true, the plan of the codes to create, and nothing written.",
        request=s.ContractCreateSerializer,
        ok={201: s.ContractDetailSerializer, 200: s.ContractPlanSerializer},
        errors=(400, 404),
        parameters=[DRY_RUN],
        example=CONTRACT,
        tags=["contracts"],
    )
    def post(self, request):
        data = _valid(s.ContractCreateSerializer, request.data)
        organization = get_organization(data["organization_id"])

        def run():
            return create_contract(
                organization=organization,
                name=data["name"],
                integration_type=data["integration_type"],
                contract_start=data.get("start"),
                contract_end=data.get("end"),
                max_learners=data.get("max_learners"),
                enrollment_fixed_price=data.get("price"),
                description=data.get("description", ""),
                by=request.user,
            )

        if dry_run_asked(request):
            _, plan = preview(run)
            return Response({"dry_run": True, "changes": {}, "codes": plan_body(plan)})
        created = run()
        return Response(contract_detail(created.contract.pk), status=status.HTTP_201_CREATED)


class ContractFilterSerializer(s.serializers.Serializer):
    organization = s.serializers.IntegerField(required=False, min_value=1, max_value=2**31 - 1)
    active = s.serializers.BooleanField(required=False, allow_null=True, default=None)
    integration_type = s.serializers.ChoiceField(choices=["sso", "non-sso"], required=False)


DETAIL_OR_PLAN = PolymorphicProxySerializer(
    component_name="ContractOrPlan",
    serializers=[s.ContractDetailSerializer, s.ContractPlanSerializer],
    resource_type_field_name=None,
)

FIELD_OF = {
    "start": "contract_start",
    "end": "contract_end",
    "max_learners": "max_learners",
    "price": "enrollment_fixed_price",
    "active": "active",
    "description": "description",
}


class ContractDetail(GenericAPIView):
    serializer_class = s.ContractDetailSerializer

    @documented(
        "Read a contract",
        description="Its terms, learner count, code counts and code status.",
        ok={200: s.ContractDetailSerializer},
        errors=(404,),
        example=CONTRACT,
        tags=["contracts"],
    )
    def get(self, request, contract_id: int):
        return Response(contract_detail(contract_id))

    @documented(
        "Change a contract",
        description="Only the fields given change; null removes a date, the cap or the price. "
        "With ?dry_run=true, the changes and the codes plan, and nothing written.",
        request=s.ContractUpdateSerializer,
        ok={200: DETAIL_OR_PLAN},
        errors=(400, 404),
        parameters=[DRY_RUN],
        example=CONTRACT,
        tags=["contracts"],
    )
    def patch(self, request, contract_id: int):
        data = _valid(s.ContractUpdateSerializer, request.data, partial=True)
        change = ContractChange(**{FIELD_OF[name]: data.get(name, UNSET) for name in FIELD_OF})

        def run():
            return modify_contract(contract_id=contract_id, change=change, by=request.user)

        if dry_run_asked(request):
            result, plan = preview(run, contract_id=contract_id)
            changes = {
                name: [_text(old), _text(new)] for name, (old, new) in result.changes.items()
            }
            return Response({"dry_run": True, "changes": changes, "codes": plan_body(plan)})
        run()
        return Response(contract_detail(contract_id))


def _text(value) -> str | None:
    return None if value is None else str(value)
