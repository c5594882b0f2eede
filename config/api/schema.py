"""The OpenAPI schema and its interactive page: what they describe, and who may read them."""

from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView
from rest_framework.permissions import IsAdminUser

API_PREFIX = "/api/v1/"


def project_endpoints_only(endpoints):
    """drf-spectacular preprocessing hook: keep the endpoints of the API (/api/v1/).

    Wagtail's admin API (/cms/api/...) serves the editor's own screens; it is not part of the
    project's API, and drf-spectacular cannot describe it. The schema and docs pages are left out
    too: they describe the API, they are not part of it.
    """
    return [
        endpoint
        for endpoint in endpoints
        if endpoint[0].startswith(API_PREFIX)
        and not endpoint[0].startswith((f"{API_PREFIX}schema/", f"{API_PREFIX}docs/"))
    ]


class StaffSchemaView(SpectacularAPIView):
    """The schema, for staff only: it maps every endpoint, which visitors need not know."""

    permission_classes = [IsAdminUser]


class StaffDocsView(SpectacularSwaggerView):
    """Swagger UI over the schema, with its assets served by this site
    (drf-spectacular-sidecar), for staff only."""

    permission_classes = [IsAdminUser]
    url_name = "api-schema"
