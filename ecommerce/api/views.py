"""POST /api/v1/b2b/attach/{code}/ and /api/v1/b2b/enroll/{courseware_id}/: the signed-in
learner joins a contract with a code, and enrolls in a run of a free contract they belong to."""

from rest_framework import serializers, status
from rest_framework.generics import GenericAPIView
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response

from config.api.docs import documented
from config.throttling import client_address
from ecommerce.services.code_attach import attach_with_code
from ecommerce.services.contract_enrollments import enroll_by_courseware_id


class CodeAttachmentSerializer(serializers.Serializer):
    contract_id = serializers.IntegerField()
    contract = serializers.CharField(help_text="The contract's name.")
    joined = serializers.BooleanField(help_text="false: you already belonged to it.")


class EnrolledSerializer(serializers.Serializer):
    courseware_id = serializers.CharField()
    mode = serializers.CharField()
    active = serializers.BooleanField()
    edx_sync = serializers.CharField(help_text="Whether Open edX has the enrollment yet.")


class Attach(GenericAPIView):
    permission_classes = [IsAuthenticated]
    serializer_class = CodeAttachmentSerializer

    @documented(
        "Join a contract with an enrollment code",
        description="201 joined (a one-time code is then used up), 200 already a member. 404 "
        "unknown or deactivated code; 409 the contract is full, inactive, outside its dates, the "
        "code is used up, or the contract has a price (then `product_urls` put its courses in "
        "the cart, to check out with the code). Wrong codes are throttled per learner and "
        "address (429).",
        request=None,
        ok={201: CodeAttachmentSerializer, 200: CodeAttachmentSerializer},
        errors=(404, 409, 429),
        example={"contract_id": 7, "contract": "UniversityX Contract", "joined": True},
        tags=["learner"],
    )
    def post(self, request, code: str):
        result = attach_with_code(user=request.user, code=code, address=client_address(request))
        body = {
            "contract_id": result.contract.pk,
            "contract": result.contract.title,
            "joined": result.joined,
        }
        return Response(
            body, status=status.HTTP_201_CREATED if result.joined else status.HTTP_200_OK
        )


class Enroll(GenericAPIView):
    permission_classes = [IsAuthenticated]
    serializer_class = EnrolledSerializer

    @documented(
        "Enroll in a run of my free contract",
        description="In verified mode, pushed to Open edX as checkout does. 201 enrolled, 200 "
        "already enrolled; 403 not a member of the run's contract; 404 no such run; 409 the "
        "contract has a price (`product_urls`), is inactive or outside its dates.",
        request=None,
        ok={201: EnrolledSerializer, 200: EnrolledSerializer},
        errors=(404, 409),
        example={
            "courseware_id": "course-v1:UAI_UNIVERSITYX+AI101+2026_C7",
            "mode": "verified",
            "active": True,
            "edx_sync": "pending",
        },
        tags=["learner"],
    )
    def post(self, request, courseware_id: str):
        result = enroll_by_courseware_id(user=request.user, courseware_id=courseware_id)
        enrollment = result.enrollment
        body = {
            "courseware_id": courseware_id,
            "mode": enrollment.mode,
            "active": enrollment.active,
            "edx_sync": enrollment.edx_sync_state,
        }
        return Response(
            body, status=status.HTTP_201_CREATED if result.created else status.HTTP_200_OK
        )
