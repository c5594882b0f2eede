"""System checks of the ecommerce app."""

from django.conf import settings
from django.core.checks import Tags, Warning, register

PROCESS_LOCAL_CACHES = {
    "django.core.cache.backends.locmem.LocMemCache",
    "django.core.cache.backends.dummy.DummyCache",
}


@register(Tags.security, Tags.caches, deploy=True)
def code_throttle_cache_is_shared(app_configs, **kwargs):
    """The enrollment-code throttle needs a cache that every web process shares."""
    if settings.CACHES["default"]["BACKEND"] not in PROCESS_LOCAL_CACHES:
        return []
    return [
        Warning(
            "The cache is local to each process (CACHE_URL is not set): with several web "
            "processes, each one counts enrollment-code attempts on its own.",
            hint="Set CACHE_URL to a Redis URL that every web process shares.",
            id="ecommerce.W001",
        )
    ]
