"""One error shape for the whole API: ``{"error": {"code", "message", "fields"}}``.

DRF's own errors (validation, authentication, permission, throttling, 404) and the apps' domain
exceptions go through ``api_exception_handler``: a domain error keeps the one-line message the
command line gives, and its class says the status (400 bad terms, 404 unknown, 409 a state
conflict, 429 throttled). An exception that is not ours is left to Django (a 500).
"""

import re

from django.core.exceptions import PermissionDenied
from django.http import Http404
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import APIView, set_rollback

from b2b.enums import AdmissionRefusal
from b2b.exceptions import (
    B2BError,
    ContractNotFound,
    CoursewareNotFound,
    InvalidContractTerms,
    InvitationInUse,
    OrganizationNotFound,
    RemindTooSoon,
    UploadRefused,
)
from courses.exceptions import CourseRunNotFound, CoursesError
from ecommerce.exceptions import (
    CodeInactive,
    CodeNotFound,
    CodeWithoutContract,
    EcommerceError,
    EnrollmentRefused,
    TooManyCodeAttempts,
)

DOMAIN_ERRORS = (B2BError, EcommerceError, CoursesError)

# The status of a domain error, by its class (the nearest listed base wins); 409 otherwise.
STATUS_BY_ERROR: dict[type[Exception], int] = {
    InvalidContractTerms: status.HTTP_400_BAD_REQUEST,
    UploadRefused: status.HTTP_400_BAD_REQUEST,
    OrganizationNotFound: status.HTTP_404_NOT_FOUND,
    ContractNotFound: status.HTTP_404_NOT_FOUND,
    CoursewareNotFound: status.HTTP_404_NOT_FOUND,
    CourseRunNotFound: status.HTTP_404_NOT_FOUND,
    CodeNotFound: status.HTTP_404_NOT_FOUND,
    CodeInactive: status.HTTP_404_NOT_FOUND,
    CodeWithoutContract: status.HTTP_404_NOT_FOUND,
    TooManyCodeAttempts: status.HTTP_429_TOO_MANY_REQUESTS,
    RemindTooSoon: status.HTTP_429_TOO_MANY_REQUESTS,
}

# Enrolling: who may not is forbidden, a run that does not exist is unknown.
ENROLLMENT_STATUS = {
    AdmissionRefusal.NOT_MEMBER: status.HTTP_403_FORBIDDEN,
    None: status.HTTP_404_NOT_FOUND,
}


def error_code(exc: Exception) -> str:
    """``ContractNotFound`` -> ``contract_not_found``."""
    return re.sub(r"(?<!^)(?=[A-Z])", "_", type(exc).__name__).lower()


def domain_status(exc: Exception) -> int:
    if isinstance(exc, EnrollmentRefused):
        return ENROLLMENT_STATUS.get(exc.reason, status.HTTP_409_CONFLICT)
    for cls in type(exc).__mro__:
        if cls in STATUS_BY_ERROR:
            return STATUS_BY_ERROR[cls]
    return status.HTTP_409_CONFLICT


def error_body(*, code: str, message: str, fields: dict | None = None, **extra) -> dict:
    return {"error": {"code": code, "message": message, "fields": fields or {}, **extra}}


def _domain_response(exc: Exception) -> Response:
    extra = {}
    product_urls = getattr(exc, "product_urls", None)
    if product_urls:
        extra["product_urls"] = list(product_urls)
    outcome = getattr(exc, "outcome", None)  # why an invitation was refused
    if outcome:
        extra["outcome"] = str(outcome)
    response = Response(
        error_body(code=error_code(exc), message=str(exc), **extra), status=domain_status(exc)
    )
    if isinstance(exc, TooManyCodeAttempts | RemindTooSoon | InvitationInUse):
        response["Retry-After"] = str(max(1, round(exc.wait_seconds)))
    return response


def _flatten(detail) -> str:
    """The first message of a DRF error detail, however nested."""
    if isinstance(detail, dict):
        return _flatten(next(iter(detail.values()), ""))
    if isinstance(detail, list):
        return _flatten(detail[0]) if detail else ""
    return str(detail)


def _field_messages(detail) -> dict:
    if isinstance(detail, dict):
        return {name: [str(m) for m in _as_list(value)] for name, value in detail.items()}
    return {"non_field_errors": [str(m) for m in _as_list(detail)]}


def _as_list(value) -> list:
    if isinstance(value, dict):
        return [_flatten(value)]
    return value if isinstance(value, list) else [value]


def _drf_response(exc: exceptions.APIException) -> Response:
    headers = {}
    if isinstance(exc, exceptions.Throttled) and exc.wait is not None:
        headers["Retry-After"] = str(int(exc.wait))
    if isinstance(exc, exceptions.ValidationError):
        fields = _field_messages(exc.detail)
        first_field, messages = next(iter(fields.items()), ("", [""]))
        label = "" if first_field == "non_field_errors" else f"{first_field}: "
        body = error_body(
            code="validation_error", message=f"{label}{messages[0]}".strip(), fields=fields
        )
    else:
        code = exc.get_codes() if isinstance(exc.get_codes(), str) else exc.default_code
        body = error_body(code=code, message=_flatten(exc.detail))
    return Response(body, status=exc.status_code, headers=headers)


def api_exception_handler(exc, context):
    """DRF's EXCEPTION_HANDLER: every handled error in the one shape; nothing is logged as an
    error, and the request's transaction (if any) is rolled back."""
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied()
    if isinstance(exc, DOMAIN_ERRORS):
        set_rollback()
        return _domain_response(exc)
    if isinstance(exc, exceptions.APIException):
        set_rollback()
        return _drf_response(exc)
    return None


class UnknownEndpoint(APIView):
    """Any address under /api/v1/ that names no endpoint (``contracts/abc/``, a typo): the
    error shape with 404, not the site's HTML page, whatever the method and whoever asks."""

    schema = None  # not an endpoint: left out of the OpenAPI schema
    authentication_classes: list = []
    permission_classes: list = []

    def http_method_not_allowed(self, request, *args, **kwargs):
        raise exceptions.NotFound(f"No endpoint at {request.path}")

    options = http_method_not_allowed
