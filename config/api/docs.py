"""How endpoints describe themselves in the OpenAPI schema: a summary, the success response with
an example, and each error status with the one error shape."""

from drf_spectacular.utils import OpenApiExample, OpenApiResponse, extend_schema
from rest_framework import serializers

ERROR_MEANINGS = {
    400: "Invalid input: `fields` says which.",
    401: "Not signed in: send a token (Authorization: Token ...) or a session cookie.",
    403: "Signed in, but not allowed (staff only, or not yours).",
    404: "Unknown, or not yours.",
    409: "The request conflicts with the current state (full, inactive, outside its dates...).",
    429: "Too many attempts: wait for the time in Retry-After.",
    503: "Saved, but not done now (the database failed): follow what the body names.",
}
ERROR_EXAMPLES = {
    400: ("validation_error", "name: This field is required."),
    401: ("not_authenticated", "Authentication credentials were not provided."),
    403: ("permission_denied", "You do not have permission to perform this action."),
    404: ("not_found", "Not found."),
    409: ("membership_refused", "Contract 'Acme 2026' is full (200 learners)"),
    429: ("too_many_code_attempts", "Too many wrong codes were tried. Try again in 15 minutes."),
    503: (
        "invite_job_deferred",
        "The list could not be handled just now; it is saved and will be handled automatically "
        "within 15 minutes.",
    ),
}


class ErrorDetailSerializer(serializers.Serializer):
    code = serializers.CharField(help_text="A machine code, e.g. contract_not_found.")
    message = serializers.CharField(help_text="One line, the same the command line gives.")
    # Named like Serializer.fields; DRF's metaclass takes declared fields off the class, which
    # the stubs cannot see.
    fields = serializers.DictField(  # type: ignore[assignment]
        child=serializers.ListField(child=serializers.CharField()),
        help_text="Per input field, its problems (400 only).",
    )
    product_urls = serializers.ListField(
        child=serializers.URLField(),
        required=False,
        help_text="For a priced contract: the addresses that put its courses in the cart.",
    )
    outcome = serializers.ChoiceField(
        choices=["already-member", "already-invited", "no-seats"],
        required=False,
        help_text="For a refused invitation: why.",
    )
    job = serializers.DictField(
        required=False,
        help_text="For a list saved but not handled (503): its job, to poll at its Location.",
    )


class ErrorSerializer(serializers.Serializer):
    error = ErrorDetailSerializer()


def error_response(status: int) -> OpenApiResponse:
    code, message = ERROR_EXAMPLES[status]
    return OpenApiResponse(
        ErrorSerializer,
        description=ERROR_MEANINGS[status],
        examples=[
            OpenApiExample(
                code,
                value={"error": {"code": code, "message": message, "fields": {}}},
                response_only=True,
                status_codes=[str(status)],
            )
        ],
    )


def documented(
    summary: str,
    *,
    ok: dict[int, object],
    errors: tuple[int, ...] = (),
    example: object = None,
    request=None,
    parameters=None,
    description: str = "",
    tags: list[str] | None = None,
    operation_id: str | None = None,
):
    """``extend_schema`` for one operation: ``ok`` maps success statuses to their serializers;
    ``example`` is a response example for the first of them; 401 and 403 are always listed."""
    responses: dict[int, object] = {}
    first = next(iter(ok))
    for status, serializer in ok.items():
        examples = []
        if example is not None and status == first:
            examples = [
                OpenApiExample(
                    "example", value=example, response_only=True, status_codes=[str(status)]
                )
            ]
        responses[status] = OpenApiResponse(serializer, description=summary, examples=examples)
    for status in sorted({401, 403, *errors}):
        responses[status] = error_response(status)
    return extend_schema(
        summary=summary,
        description=description or summary,
        request=request,
        responses=responses,
        parameters=parameters,
        tags=tags,
        operation_id=operation_id,
    )
