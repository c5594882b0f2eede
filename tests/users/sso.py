"""A real local OpenID Connect provider (oidc-provider-mock) and the sign-in flow against it."""

from urllib.parse import urlsplit

import requests


def set_identity(provider_url: str, sub: str, **claims) -> None:
    """Define what the provider says about ``sub``."""
    response = requests.put(f"{provider_url}/users/{sub}", json=claims, timeout=10)
    response.raise_for_status()


def sign_in(client, provider_url: str, sub: str):
    """Sign in through the provider as ``sub``; returns the site's final response."""
    start = client.post("/auth/login/oidc/")
    assert start.status_code == 302, start
    authorize_url = start["Location"]
    assert authorize_url.startswith(provider_url)
    consent = requests.post(authorize_url, data={"sub": sub}, allow_redirects=False, timeout=10)
    assert consent.status_code == 302, consent.text
    callback = urlsplit(consent.headers["Location"])
    return client.get(f"{callback.path}?{callback.query}")
