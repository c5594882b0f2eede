"""The audit trail: every change to an organization, a contract, its courseware, its members or
its managers, with who made it, through what, when, and the fields before and after.

It is Wagtail's own log (``PageLogEntry``), so a contract's changes made outside Wagtail (the
command line, the REST API, the admin, checkout, single sign-on, the manager pages) show in the
contract's History in Wagtail beside the editors' own. Who and through what come from
``config.acting.current_actor()``, set once at each entry point. ``record`` is the one way in;
``b2b.selectors.contract_history`` reads it back. Call ``record`` inside the transaction that
makes the change, so a change and its record land (or roll back) together.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from wagtail.log_actions import log
from wagtail.models import Page

from config.acting import current_actor

# Every action the trail records: its name (namespaced "b2b.") and its label in Wagtail.
# Wagtail needs each one registered (b2b/wagtail_hooks.py) to show it in a page's History.
ACTIONS: dict[str, str] = {
    "b2b.organization.create": "Organization created",
    "b2b.organization.change": "Organization changed",
    "b2b.contract.create": "Contract created",
    "b2b.contract.change": "Contract terms changed",
    "b2b.courseware.add": "Courseware added",
    "b2b.courseware.remove": "Courseware removed",
    "b2b.membership.add": "Learner joined",
    "b2b.membership.remove": "Learner removed",
    "b2b.manager.grant": "Manager role granted",
    "b2b.manager.revoke": "Manager role removed",
    "b2b.invitation.send": "Invitation sent",
    "b2b.invitation.remind": "Invitation reminder sent",
    "b2b.invitation.revoke": "Invitation revoked",
    "b2b.invitation.redeem": "Invitation redeemed",
    "b2b.manager.download": "File downloaded by a manager",
}


def jsonable(value: Any) -> Any:
    """A field's value as the log stores it (JSON): dates in ISO format, amounts as strings."""
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, list | tuple):
        return [jsonable(item) for item in value]
    if value is None or isinstance(value, bool | int | float | str):
        return value
    return str(value)


def changed_fields(
    before: Mapping[str, Any], after: Mapping[str, Any]
) -> dict[str, dict[str, Any]]:
    """The fields whose value differs, as ``{field: {"before": old, "after": new}}``."""
    changes: dict[str, dict[str, Any]] = {}
    for name in sorted(set(before) | set(after)):
        old, new = jsonable(before.get(name)), jsonable(after.get(name))
        if old != new:
            changes[name] = {"before": old, "after": new}
    return changes


def record(
    page: Page,
    action: str,
    *,
    changes: Mapping[str, Mapping[str, Any]] | None = None,
    details: Mapping[str, Any] | None = None,
) -> None:
    """Add ``action`` on ``page`` (an organization or a contract) to the audit trail.

    ``changes`` is what ``changed_fields`` returns; ``details`` names what the action was about
    (the learner, the course run), as JSON values. Raises ``ValueError`` for an action not in
    ``ACTIONS``, so that nothing is logged that Wagtail could not show.
    """
    if action not in ACTIONS:
        raise ValueError(f"unknown audit action {action!r}")
    actor = current_actor()
    data: dict[str, Any] = {
        "channel": actor.channel.value,
        "actor": actor.describe(),
        "changes": {name: dict(change) for name, change in (changes or {}).items()},
    }
    data.update({key: jsonable(value) for key, value in (details or {}).items()})
    log(
        instance=page,
        action=action,
        user=actor.resolved_user(),
        data=data,
        content_changed=bool(changes),
    )
