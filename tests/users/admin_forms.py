"""The Django admin's user page as the tests post it: the user's own fields and the contracts
inline (rows as given), the managed organizations inline left empty."""

from django.urls import reverse

MEMBERSHIPS = "contract_memberships"


def post_user_page(client, learner, rows, initial=0):
    """POST the user page of ``learner`` with ``rows`` in the contracts inline (``initial`` of
    them existing rows)."""
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
