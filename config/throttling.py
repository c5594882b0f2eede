"""Helpers shared by the sign-in and enrollment-code throttles: who is asking, and for how long
they must wait; and the per-manager write limit the manager API and the manager pages share."""

import math

from django.conf import settings
from django.http import HttpRequest
from rest_framework.throttling import UserRateThrottle


def client_address(request: HttpRequest) -> str:
    """The address of the client that sent ``request`` ("" when unknown).

    With TRUSTED_PROXY_COUNT proxies in front of the site, each appending the address it saw to
    X-Forwarded-For, the client is the entry the outermost trusted proxy added; entries before it
    were written by the client and are ignored. Without proxies it is REMOTE_ADDR.
    """
    remote = request.META.get("REMOTE_ADDR", "") or ""
    hops = settings.TRUSTED_PROXY_COUNT
    if hops <= 0:
        return remote
    forwarded = [
        part.strip()
        for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")
        if part.strip()
    ]
    if len(forwarded) < hops:
        return remote  # the request did not come through every proxy
    return forwarded[-hops]


def describe_wait(seconds: float) -> str:
    """A wait for people to read: "45 seconds", "1 minute", "15 minutes" (rounded up)."""
    whole = max(1, math.ceil(seconds))
    if whole < 60:
        return f"{whole} second{'s' if whole != 1 else ''}"
    minutes = math.ceil(whole / 60)
    return f"{minutes} minute{'s' if minutes != 1 else ''}"


class ManagerWriteThrottle(UserRateThrottle):
    """Writes (invite, bulk invite, remind, revoke) per manager account, through the manager API
    and the manager pages together: ``B2B_MANAGER_API_WRITES_PER_MINUTE``; reads are not
    counted. The counts are kept in the default cache (Redis when several processes serve)."""

    scope = "manager_write"

    def get_rate(self) -> str:
        return f"{settings.B2B_MANAGER_API_WRITES_PER_MINUTE}/minute"

    def allow_request(self, request, view) -> bool:
        if request.method in ("GET", "HEAD", "OPTIONS"):
            return True
        return super().allow_request(request, view)


def manager_write_wait(request: HttpRequest) -> float | None:
    """For a manager page's write: None when it is allowed (and counted), else the seconds to
    wait before the next one is."""
    throttle = ManagerWriteThrottle()
    if throttle.allow_request(request, None):
        return None
    return throttle.wait() or 1.0
