"""URL map: the liveness probe (/healthz), Django admin, Wagtail admin, the REST API (/api/v1/;
its schema and docs for staff), learner accounts, cart and dashboard, and Wagtail's page serving
last.

The admin modules are discovered here, not when Django sets up (config/apps.py): a management
command that serves no page does not import them.
"""

from django.contrib import admin
from django.urls import include, path, re_path
from wagtail import urls as wagtail_urls
from wagtail.admin import urls as wagtailadmin_urls

from b2b.api.urls import me_urlpatterns
from config.api.errors import UnknownEndpoint
from config.api.schema import StaffDocsView, StaffSchemaView
from config.health import healthz

admin.autodiscover()

# Under /api/ a request Django refuses, or a bug, is answered in the API's error shape.
handler400 = "config.api.errors.bad_request"
handler500 = "config.api.errors.server_error"

urlpatterns = [
    path("healthz", healthz, name="healthz"),
    path("admin/", admin.site.urls),
    path("cms/", include(wagtailadmin_urls)),
    path("api/v1/schema/", StaffSchemaView.as_view(), name="api-schema"),
    path("api/v1/docs/", StaffDocsView.as_view(), name="api-docs"),
    path("api/v1/b2b/", include("b2b.api.urls")),
    path("api/v1/b2b/", include("ecommerce.api.urls")),
    path("api/v1/me/", include(me_urlpatterns)),
    path("api/v1/manager/", include("b2b.api.manager_urls")),
    re_path(r"^api/", UnknownEndpoint.as_view()),  # the rest of /api/: a 404 in the API's shape
    path("auth/", include("social_django.urls", namespace="social")),
    path("manage/", include("b2b.manage.urls")),
    path("", include("users.urls")),
    path("", include("b2b.urls")),
    path("", include("ecommerce.urls")),
    path("", include(wagtail_urls)),
]
