"""The columns of b2b_list's listings: which fields of the read models (``b2b.selectors``) are
shown, under which heading, and how a value that is not plain data is spelled."""

from b2b.management.rendering import Column
from b2b.selectors import AttachedRow, ContractRow

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


MANAGER_COLUMNS = [
    Column("email", "E-mail"),
    Column("name", "Name"),
    Column("organization_id", "Org ID"),
    Column("organization", "Organization"),
    Column("granted_by", "Granted by"),
    Column("granted_on", "Granted on"),
]
