"""The manager API (/api/v1/manager/): an organization manager's own organizations, their
contracts (seats, codes, open invitations, days left) and each contract's learners.

Every endpoint needs the manager role for some organization (``ManagesAnOrganization``; staff
powers are not implied) and looks up what the URL names through the manager rule
(``b2b.services.invitations.pages``, over ``b2b.services.invitations.managers``): what the user
does not
manage answers 404, exactly like what does not exist. The invitation endpoints are in
``manager_invitation_views``.
"""

from drf_spectacular.utils import OpenApiParameter
from rest_framework.exceptions import NotFound
from rest_framework.generics import GenericAPIView
from rest_framework.response import Response

from b2b.api import manager_serializers as s
from b2b.api.manager_examples import LEARNER, MANAGED_CONTRACT, MANAGED_ORGANIZATION
from b2b.api.permissions import ManagesAnOrganization, signed_in_user
from b2b.api.views import _valid
from b2b.models import ContractPage, OrganizationPage
from b2b.selectors.learners import contract_members, learner_rows
from b2b.selectors.listings import organization_row
from b2b.selectors.managers import ManagedContractRow, managed_contract_rows_of
from b2b.services.invitations.managers import managed_organizations
from b2b.services.invitations.pages import managed_contract, managed_organization
from config.api.docs import documented
from config.throttling import ManagerWriteThrottle

TAGS = ["manager"]


class ManagerView(GenericAPIView):
    permission_classes = [ManagesAnOrganization]
    throttle_classes = [ManagerWriteThrottle]


def managed_contract_or_404(request, contract_id: int) -> ContractPage:
    contract = managed_contract(request.user, contract_id)
    if contract is None:
        raise NotFound(f"No contract {contract_id} among the organizations you manage")
    return contract


def contract_body(row: ManagedContractRow) -> dict:
    return {
        "id": row.id,
        "organization_id": row.organization_id,
        "name": row.name,
        "active": row.active,
        "start": row.start,
        "end": row.end,
        "days_left": row.days_left,
        "seats": {
            "used": row.learners,
            "cap": row.cap,
            "open_invitations": row.pending_invitations,
            "left": row.seats_left,
        },
        "codes": {"usable": row.codes_usable, "redeemed": row.codes_redeemed},
    }


class Organizations(ManagerView):
    serializer_class = s.ManagedOrganizationSerializer

    def get_queryset(self):
        organizations = managed_organizations(signed_in_user(self.request))
        return organizations.with_contract_counts()

    @documented(
        "List the organizations I manage",
        ok={200: s.ManagedOrganizationSerializer(many=True)},
        example=MANAGED_ORGANIZATION,
        tags=TAGS,
        operation_id="manager_organizations_list",
    )
    def get(self, request):
        page = self.paginate_queryset(self.get_queryset())
        rows = [organization_row(org) for org in page or ()]
        return self.get_paginated_response(s.ManagedOrganizationSerializer(rows, many=True).data)


class Organization(ManagerView):
    serializer_class = s.ManagedOrganizationSerializer

    @documented(
        "Read an organization I manage",
        ok={200: s.ManagedOrganizationSerializer},
        errors=(404,),
        example=MANAGED_ORGANIZATION,
        tags=TAGS,
    )
    def get(self, request, organization_id: int):
        org = managed_organization(request.user, organization_id)
        if org is None:
            raise NotFound(f"You do not manage an organization {organization_id}")
        counted = OrganizationPage.objects.with_contract_counts().get(pk=org.pk)
        return Response(s.ManagedOrganizationSerializer(organization_row(counted)).data)


class Contracts(ManagerView):
    serializer_class = s.ManagedContractSerializer

    def get_queryset(self):
        filters = _valid(s.ContractFilterSerializer, self.request.query_params)
        organizations = list(managed_organizations(signed_in_user(self.request)))
        if "organization" in filters:
            organizations = [o for o in organizations if o.pk == filters["organization"]]
            if not organizations:
                raise NotFound(f"You do not manage an organization {filters['organization']}")
        contracts = ContractPage.objects.none()
        for org in organizations:
            contracts = contracts | ContractPage.objects.of_organization(org)
        return contracts.values("pk")

    @documented(
        "List the contracts of the organizations I manage",
        description="Each contract's dates, active state, seats (used of the cap, held by open "
        "invitations, left), codes usable and redeemed, and days left; ?organization= keeps one "
        "organization's.",
        ok={200: s.ManagedContractSerializer(many=True)},
        errors=(400, 404),
        parameters=[OpenApiParameter("organization", int, description="An organization's id.")],
        example=MANAGED_CONTRACT,
        tags=TAGS,
        operation_id="manager_contracts_list",
    )
    def get(self, request):
        page = self.paginate_queryset(self.get_queryset())
        rows = sorted(managed_contract_rows_of([c["pk"] for c in page or ()]), key=_by_id)
        body = [contract_body(row) for row in rows]
        return self.get_paginated_response(s.ManagedContractSerializer(body, many=True).data)


def _by_id(row: ManagedContractRow) -> int:
    return row.id


class Contract(ManagerView):
    serializer_class = s.ManagedContractSerializer

    @documented(
        "Read a contract I manage",
        ok={200: s.ManagedContractSerializer},
        errors=(404,),
        example=MANAGED_CONTRACT,
        tags=TAGS,
    )
    def get(self, request, contract_id: int):
        contract = managed_contract_or_404(request, contract_id)
        (row,) = managed_contract_rows_of([contract.pk])
        return Response(s.ManagedContractSerializer(contract_body(row)).data)


class Learners(ManagerView):
    serializer_class = s.LearnerSerializer

    @documented(
        "List a contract's learners",
        description="Who joined, when and how, and the contract's runs they are enrolled in; "
        "?search= keeps those whose e-mail or name contains it (any case).",
        ok={200: s.LearnerSerializer(many=True)},
        errors=(400, 404),
        parameters=[OpenApiParameter("search", str, description="Part of an e-mail or name.")],
        example=LEARNER,
        tags=TAGS,
        operation_id="manager_learners_list",
    )
    def get(self, request, contract_id: int):
        contract = managed_contract_or_404(request, contract_id)
        search = _valid(s.LearnerSearchSerializer, request.query_params)["search"]
        page = self.paginate_queryset(contract_members(contract.pk, search=search))
        rows = learner_rows(contract.pk, list(page or ()))
        return self.get_paginated_response(s.LearnerSerializer(rows, many=True).data)
