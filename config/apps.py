"""The Django admin without discovery at start-up.

Django's default ``AdminConfig`` imports every app's ``admin`` module when Django sets up, so
every ``manage.py`` command pays for them (and for what they import). ``SimpleAdminConfig``
leaves that to whoever needs the admin: the URL configuration calls ``admin.autodiscover()``
(Django documents both), and so does the admin system check below before it checks the
registered model admins, so ``manage.py check`` sees every admin module whatever order the
checks run in (Django keeps them in a set).
"""

from django.contrib import admin
from django.contrib.admin.apps import SimpleAdminConfig
from django.contrib.admin.checks import check_admin_app, check_dependencies
from django.core import checks


def check_discovered_admins(app_configs, **kwargs):
    """Django's checks of the registered model admins, once every app's admin module is
    imported."""
    admin.autodiscover()
    return check_admin_app(app_configs, **kwargs)


class AdminWithoutDiscoveryConfig(SimpleAdminConfig):
    def ready(self) -> None:
        # SimpleAdminConfig registers Django's two admin checks; the second runs on the model
        # admins registered so far, which without discovery may be none.
        checks.register(check_dependencies, checks.Tags.admin)
        checks.register(check_discovered_admins, checks.Tags.admin)
