"""Helpers shared by the sign-in and enrollment-code throttles: who is asking, and for how long
they must wait."""

import math

from django.conf import settings
from django.http import HttpRequest


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
