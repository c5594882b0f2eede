"""Helpers of the user tests: the sign-in flow against a real local OpenID Connect provider
(oidc-provider-mock), and the Django admin's user page as the tests post it.
"""

from urllib.parse import urlsplit

import requests
from django.urls import reverse

MEMBERSHIPS = "contract_memberships"


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


def post_user_page(client, learner, rows, initial=0):
    """POST the user page of ``learner`` with ``rows`` in the contracts inline (``initial`` of
    them existing rows); its own fields as they are, the managed organizations inline left
    empty."""
    data = {
        "email": learner.email,
        "name": learner.name,
        "first_name": "",
        "last_name": "",
        "global_id": "",
        "is_active": "on",
        "date_joined_0": "2026-01-01",
        "date_joined_1": "00:00:00",
        f"{MEMBERSHIPS}-TOTAL_FORMS": str(len(rows)),
        f"{MEMBERSHIPS}-INITIAL_FORMS": str(initial),
        f"{MEMBERSHIPS}-MIN_NUM_FORMS": "0",
        f"{MEMBERSHIPS}-MAX_NUM_FORMS": "1000",
        # the manager roles inline, untouched
        "managed_organizations-TOTAL_FORMS": "0",
        "managed_organizations-INITIAL_FORMS": "0",
        "managed_organizations-MIN_NUM_FORMS": "0",
        "managed_organizations-MAX_NUM_FORMS": "1000",
    }
    for index, row in enumerate(rows):
        for key, value in row.items():
            data[f"{MEMBERSHIPS}-{index}-{key}"] = value
    return client.post(reverse("admin:users_user_change", args=[learner.pk]), data)
