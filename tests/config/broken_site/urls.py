"""The site's URL configuration plus an entry that is not a URL pattern (check urls.E004)."""

from config.urls import urlpatterns as site_patterns

urlpatterns = [*site_patterns, ("broken/", "not a view")]
