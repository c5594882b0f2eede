"""Requests the site refuses before any part of it reads them.

``RefuseNulMiddleware``: a NUL character (``config.text``) in a request's address, query
string, headers (cookies included) or form fields (Django already drops a NUL from an uploaded
file's name). Sessions, the sign-in throttle and the audit trail store parts of a request in the
database, which cannot hold a NUL: such a request would end in a database error. It is answered
at once with a 400 that names where the NUL was, in the API's error shape under /api/, as a page
elsewhere; nothing is read or written.
"""

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse, JsonResponse, QueryDict
from django.shortcuts import render

from config.api.errors import error_body
from config.text import NUL, has_nul

# The bodies Django parses into request.POST (a file's content is its reader's to check).
FORM_TYPES = {"application/x-www-form-urlencoded", "multipart/form-data"}


def _header_name(meta_key: str) -> str:
    """``HTTP_USER_AGENT`` as people write it: ``User-Agent``."""
    return "-".join(part.capitalize() for part in meta_key.removeprefix("HTTP_").split("_"))


def _where_nul(request: HttpRequest) -> str | None:
    """Where the request carries a NUL, said for its sender; None when nowhere."""
    if has_nul(request.path_info) or any(
        has_nul(key) or NUL in "".join(values) for key, values in request.GET.lists()
    ):
        return "address"
    for key, value in request.META.items():
        if key.startswith("HTTP_") and has_nul(value):
            return f"{_header_name(key)} header"
    parsed = request.method == "POST" and request.content_type in FORM_TYPES
    form = request.POST if parsed else QueryDict()
    if any(has_nul(key) or NUL in "".join(values) for key, values in form.lists()):
        return "form fields"
    return None


class RefuseNulMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        where = _where_nul(request)
        if where is None:
            return self.get_response(request)
        message = f"The request has a NUL character in its {where}, which this site refuses."
        if request.path_info.startswith("/api/"):
            return JsonResponse(error_body(code="nul_character", message=message), status=400)
        return render(request, "request_refused.html", {"message": message}, status=400)
