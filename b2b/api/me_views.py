"""The signed-in learner's own contracts (/api/v1/me/contracts/)."""

from rest_framework.generics import GenericAPIView
from rest_framework.permissions import IsAuthenticated

from b2b.api import serializers as s
from b2b.api.examples import LEARNER_CONTRACT
from b2b.api.permissions import signed_in_user
from b2b.models import ContractMembership
from b2b.selectors.learners import learner_contracts
from config.api.docs import documented


class MyContracts(GenericAPIView):
    permission_classes = [IsAuthenticated]
    serializer_class = s.LearnerContractSerializer

    def get_queryset(self):
        user = signed_in_user(self.request)
        return ContractMembership.objects.filter(user=user).values("pk", "contract_id")

    @documented(
        "List my contracts",
        description="The contracts the signed-in learner belongs to, with their organization "
        "and the runs they can enroll in (free contracts: POST "
        "/api/v1/b2b/enroll/{courseware_id}/; priced ones: product_url).",
        ok={200: s.LearnerContractSerializer(many=True)},
        example=LEARNER_CONTRACT,
        tags=["learner"],
    )
    def get(self, request):
        page = self.paginate_queryset(self.get_queryset())
        rows = learner_contracts(request.user, [m["contract_id"] for m in page or ()])
        return self.get_paginated_response(s.LearnerContractSerializer(rows, many=True).data)
