"""URL map: Django admin, Wagtail admin, the API schema (staff only), learner accounts, cart and
dashboard, and Wagtail's page serving last."""

from django.contrib import admin
from django.urls import include, path
from wagtail import urls as wagtail_urls
from wagtail.admin import urls as wagtailadmin_urls

from config.api_schema import StaffSchemaView

urlpatterns = [
    path("admin/", admin.site.urls),
    path("cms/", include(wagtailadmin_urls)),
    path("api/schema/", StaffSchemaView.as_view(), name="api-schema"),
    path("auth/", include("social_django.urls", namespace="social")),
    path("", include("users.urls")),
    path("", include("ecommerce.urls")),
    path("", include(wagtail_urls)),
]
