"""The site's URL map plus one API address whose view fails (a bug's 500), for the error-shape
tests: the error handlers are the site's own (``config.urls``)."""

from django.urls import path

from config.urls import handler400, handler500
from config.urls import urlpatterns as site_urlpatterns


def _fails(request):
    raise RuntimeError("a bug")


urlpatterns = [path("api/v1/boom/", _fails), *site_urlpatterns]

__all__ = ["handler400", "handler500", "urlpatterns"]
