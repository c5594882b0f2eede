"""The project's settings plus this package as an app (its admin module is broken) and its
URL configuration (the site's, plus a pattern that is not one)."""

from config import settings as project

globals().update({name: value for name, value in vars(project).items() if name.isupper()})

INSTALLED_APPS = [*project.INSTALLED_APPS, "tests.config.broken_site"]
ROOT_URLCONF = "tests.config.broken_site.urls"
