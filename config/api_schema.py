"""The OpenAPI schema: what it describes, and who may read it."""

from drf_spectacular.views import SpectacularAPIView
from rest_framework.permissions import IsAdminUser

API_PREFIX = "/api/"


def project_endpoints_only(endpoints):
    """drf-spectacular preprocessing hook: keep the endpoints under /api/.

    Wagtail's admin API (/cms/api/...) serves the editor's own screens; it is not part of the
    project's API, and drf-spectacular cannot describe it.
    """
    return [endpoint for endpoint in endpoints if endpoint[0].startswith(API_PREFIX)]


class StaffSchemaView(SpectacularAPIView):
    """The schema, for staff only: it maps every endpoint, which visitors need not know."""

    permission_classes = [IsAdminUser]
