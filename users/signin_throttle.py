"""Hooks that django-axes calls to throttle sign-in attempts (see settings, AXES_*).

Axes counts failed sign-ins per e-mail address and client address together; once they reach
AXES_FAILURE_LIMIT, that pair is refused until AXES_COOLOFF_TIME has passed since its last
failure. These hooks say who is signing in and what a locked-out person sees.
"""

from axes.conf import settings
from axes.helpers import get_client_ip_address, get_cool_off
from axes.models import AccessAttempt
from django.db.models import Max
from django.shortcuts import render
from django.utils import timezone

from config.throttling import describe_wait


def attempted_username(request, credentials=None) -> str | None:
    """The e-mail address being tried, in lower case: ADA@example.com and ada@example.com are
    one account, so they share one count."""
    if credentials and credentials.get("username"):
        value = credentials["username"]
    else:
        value = request.POST.get("username") if request is not None else None
    return str(value).strip().lower() if value else None


def _wait_seconds(request, credentials) -> float:
    cool_off = get_cool_off(request)
    last_failure = AccessAttempt.objects.filter(
        username=attempted_username(request, credentials),
        ip_address=get_client_ip_address(request),
    ).aggregate(last=Max("attempt_time"))["last"]
    if cool_off is None or last_failure is None:
        return cool_off.total_seconds() if cool_off else 0
    return (last_failure + cool_off - timezone.now()).total_seconds()


def locked_out_response(request, original_response=None, credentials=None):
    """The page a locked-out person gets (HTTP 429), whichever sign-in form they used."""
    message = (
        "Too many failed sign-in attempts. Try again in "
        f"{describe_wait(_wait_seconds(request, credentials))}."
    )
    return render(
        request,
        "users/signin_locked.html",
        {"message": message},
        status=settings.AXES_HTTP_RESPONSE_CODE,
    )
