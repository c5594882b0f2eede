"""A page's history as people read it: its audit entries with who, through which channel, and
what changed."""

from dataclasses import dataclass
from datetime import datetime

from wagtail.log_actions import registry as log_actions
from wagtail.models import PageLogEntry


@dataclass(frozen=True)
class HistoryEntry:
    """One change in a page's audit trail (b2b.services.audit), or one of Wagtail's own actions
    (an editor's save, publish, move), which carry no channel: they were made in Wagtail."""

    timestamp: datetime
    action: str
    label: str
    actor: str
    channel: str
    changes: dict
    details: dict


_ENTRY_KEYS = {"channel", "actor", "changes"}


def page_history(page_id: int) -> list[HistoryEntry]:
    """The audit trail of an organization or a contract, oldest first, in one query."""
    entries = PageLogEntry.objects.filter(page_id=page_id).select_related("user")
    rows = []
    for entry in entries.order_by("timestamp", "id"):
        data = entry.data or {}
        user = entry.user
        actor = data.get("actor") or (user.email if user is not None else "system")
        label = (
            log_actions.get_action_label(entry.action)
            if log_actions.action_exists(entry.action)
            else entry.action
        )
        rows.append(
            HistoryEntry(
                timestamp=entry.timestamp,
                action=entry.action,
                label=str(label),
                actor=actor,
                channel=data.get("channel", "wagtail"),
                changes=data.get("changes", {}),
                details={k: v for k, v in data.items() if k not in _ENTRY_KEYS},
            )
        )
    return rows
