"""The columns of b2b_list's listings: which fields of the read models (``b2b.selectors``) are
shown, under which heading, and how a value that is not plain data is spelled."""

from b2b.management.rendering import Column
from b2b.selectors.history import HistoryEntry
from b2b.selectors.listings import AttachedRow, ContractRow

ORG_COLUMNS = [
    Column("id", "ID"),
    Column("name", "Name"),
    Column("org_key", "Key"),
    Column("slug", "Slug"),
    Column("sso_organization_id", "SSO org ID"),
    Column("contracts", "Contracts"),
]


def codes_status(row: ContractRow) -> str:
    if row.codes_pending_since is not None:
        return f"pending since {row.codes_pending_since:%Y-%m-%d %H:%M}"
    return "up to date"


CONTRACT_COLUMNS = [
    Column("id", "ID"),
    Column("name", "Name"),
    Column("slug", "Slug"),
    Column("organization", "Organization"),
    Column("integration_type", "Type", lambda row: row.integration_type.value),
    Column("start", "Start"),
    Column("end", "End"),
    Column("active", "Active"),
    Column("max_learners", "Cap"),
    Column("price", "Price"),
    Column("learners", "Learners"),
    Column("codes_total", "Codes", lambda row: row.codes.total),
    Column("codes_usable", "Usable", lambda row: row.codes.usable),
    Column("codes_redeemed", "Redeemed", lambda row: row.codes.redeemed),
    Column("codes_status", "Code status", codes_status),
    Column("codes_error", "Code error"),
    # Added after the columns scripts already read by position.
    Column("state", "State", lambda row: row.state.value),
    Column("renews", "Renews"),
]

RUN_COLUMNS = [
    Column("courseware_id", "Run"),
    Column("course", "Course"),
    Column("start", "Start"),
    Column("end", "End"),
    Column("product_id", "Product"),
    Column("price", "Price"),
    Column("usable_codes", "Usable codes"),
    Column("edx_copy", "Open edX copy", lambda row: row.edx_copy.label),
    Column("edx_error", "Last error"),
]
# The JSON listing of runs also gives each run's title.
RUN_JSON_COLUMNS = [*RUN_COLUMNS[:2], Column("title", "Title"), *RUN_COLUMNS[2:]]


def has_run(row: AttachedRow) -> str | None:
    if row.has_run is None:
        return None
    return "yes" if row.has_run else "none yet"


ATTACHED_COLUMNS = [
    Column("type", "Type"),
    Column("readable_id", "ID"),
    Column("title", "Title"),
    Column("runs", "Contract run", has_run),
]


def changes_text(row: HistoryEntry) -> str:
    """A change as one line: ``field: before -> after; ...`` (``-`` for no value), then what
    the action was about (the learner, the courseware)."""
    parts = [
        f"{name}: {_spelled(change.get('before'))} -> {_spelled(change.get('after'))}"
        for name, change in sorted(row.changes.items())
    ]
    parts += [f"{name}: {_spelled(value)}" for name, value in sorted(row.details.items())]
    return "; ".join(parts)


def _spelled(value: object) -> str:
    if value is None:
        return "-"
    if isinstance(value, list):
        return "[" + ", ".join(str(item) for item in value) + "]"
    return str(value)


HISTORY_COLUMNS = [
    Column("when", "When", lambda row: row.timestamp),
    Column("who", "Who", lambda row: row.actor),
    Column("channel", "Channel"),
    Column("action", "Action"),
    Column("changes", "Changes", changes_text),
]
# JSON keeps the changes and details as objects.
HISTORY_JSON_COLUMNS = [
    *HISTORY_COLUMNS[:4],
    Column("label", "Label"),
    Column("changes", "Changes"),
    Column("details", "Details"),
]

MANAGER_COLUMNS = [
    Column("email", "E-mail"),
    Column("name", "Name"),
    Column("organization_id", "Org ID"),
    Column("organization", "Organization"),
    Column("granted_by", "Granted by"),
    Column("granted_on", "Granted on"),
]
