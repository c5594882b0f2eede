"""One error shape for the whole API: ``{"error": {"code", "message", "fields"}}``.

DRF's own errors (validation, authentication, permission, throttling, 404) and the apps' domain
exceptions go through ``api_exception_handler``: a domain error keeps the one-line message the
command line gives, and its class says the status and any Retry-After (``config.errors``), so
this module knows no app. An exception that is not ours is left to Django (a 500).

What Django itself refuses before a view runs, or a bug's 500, goes through Django's error
handlers (``handler400`` and ``handler500`` of ``config.urls``): under /api/ they answer in the
same shape, naming the limit a request went over (413 a body over DATA_UPLOAD_MAX_MEMORY_SIZE,
400 more fields or files than DATA_UPLOAD_MAX_NUMBER_FIELDS / _FILES); elsewhere the site's pages.
"""

import re

from django.conf import settings
from django.core.exceptions import (
    PermissionDenied,
    RequestDataTooBig,
    TooManyFieldsSent,
    TooManyFilesSent,
)
from django.http import Http404, JsonResponse
from django.urls import Resolver404, resolve
from django.views import defaults
from rest_framework import exceptions
from rest_framework.response import Response
from rest_framework.views import APIView, set_rollback

from config.errors import DomainError


def error_code(exc: Exception) -> str:
    """``ContractNotFound`` -> ``contract_not_found``."""
    return re.sub(r"(?<!^)(?=[A-Z])", "_", type(exc).__name__).lower()


def error_body(*, code: str, message: str, fields: dict | None = None, **extra) -> dict:
    return {"error": {"code": code, "message": message, "fields": fields or {}, **extra}}


def _domain_response(exc: DomainError) -> Response:
    """The error's own status and details (``config.errors.DomainError``), in the one shape."""
    body = error_body(code=error_code(exc), message=str(exc))
    body["error"].update(exc.api_details())
    response = Response(body, status=exc.http_status)
    if exc.wait_seconds is not None:
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
    headers: dict[str, str] = {}
    if isinstance(exc, exceptions.Throttled):
        # Throttled.__init__ sets ``wait`` (whole seconds, or None); DRF's stubs leave it out.
        wait: int | None = exc.wait  # type: ignore[attr-defined]
        if wait is not None:
            headers["Retry-After"] = str(int(wait))
    if isinstance(exc, exceptions.ValidationError):
        fields = _field_messages(exc.detail)
        first_field, messages = next(iter(fields.items()), ("", [""]))
        label = "" if first_field == "non_field_errors" else f"{first_field}: "
        body = error_body(
            code="validation_error", message=f"{label}{messages[0]}".strip(), fields=fields
        )
    else:
        codes = exc.get_codes()
        code = codes if isinstance(codes, str) else exc.default_code
        body = error_body(code=code, message=_flatten(exc.detail))
    return Response(body, status=exc.status_code, headers=headers)


def api_exception_handler(exc, context):
    """DRF's EXCEPTION_HANDLER: every handled error in the one shape; nothing is logged as an
    error, and the request's transaction (if any) is rolled back."""
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied()
    if isinstance(exc, DomainError):
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


# The bulk invitation endpoint (b2b.api.manager_urls): its body limit also names the row limit.
BULK_INVITE_URL_NAME = "api-manager-bulk"


def _is_api(request) -> bool:
    return request.path_info.startswith("/api/")


def _url_name(request) -> str | None:
    try:
        return resolve(request.path_info).url_name
    except Resolver404:
        return None


def _too_large_message(request) -> str:
    message = (
        f"The request body is larger than the {settings.DATA_UPLOAD_MAX_MEMORY_SIZE} bytes the "
        "API accepts (DATA_UPLOAD_MAX_MEMORY_SIZE)."
    )
    if _url_name(request) == BULK_INVITE_URL_NAME:
        message += (
            f" A list of people to invite has at most {settings.B2B_INVITE_MAX_ROWS} rows "
            "(B2B_INVITE_MAX_ROWS); send a longer one as a CSV file, or in parts."
        )
    return message


def _json_error(*, status_code: int, code: str, message: str) -> JsonResponse:
    return JsonResponse(error_body(code=code, message=message), status=status_code)


def bad_request(request, exception):
    """Django's ``handler400``: a request Django refused (a ``SuspiciousOperation``: too large,
    too many fields, a bad Host header). Under /api/ the API's shape, with the limit named."""
    if not _is_api(request):
        return defaults.bad_request(request, exception)
    if isinstance(exception, RequestDataTooBig):
        return _json_error(
            status_code=413, code="request_too_large", message=_too_large_message(request)
        )
    if isinstance(exception, TooManyFieldsSent):
        return _json_error(
            status_code=400,
            code="too_many_fields",
            message=f"The request has more than {settings.DATA_UPLOAD_MAX_NUMBER_FIELDS} "
            "fields (DATA_UPLOAD_MAX_NUMBER_FIELDS).",
        )
    if isinstance(exception, TooManyFilesSent):
        return _json_error(
            status_code=400,
            code="too_many_files",
            message=f"The request has more than {settings.DATA_UPLOAD_MAX_NUMBER_FILES} "
            "files (DATA_UPLOAD_MAX_NUMBER_FILES).",
        )
    return _json_error(status_code=400, code="bad_request", message="Bad request.")


def server_error(request):
    """Django's ``handler500``: a bug (Django has logged it with its traceback). Under /api/
    the API's shape, saying nothing of the error itself."""
    if not _is_api(request):
        return defaults.server_error(request)
    return _json_error(
        status_code=500,
        code="server_error",
        message="The server met an error; it is logged. Try again later.",
    )
