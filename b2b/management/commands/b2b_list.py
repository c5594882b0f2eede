"""manage.py b2b_list: list organizations, contracts and a contract's courseware; export codes."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from b2b.enums import ContractState
from b2b.exceptions import B2BError, CodesFileExists
from b2b.management import arguments
from b2b.management.listings import (
    ATTACHED_COLUMNS,
    CONTRACT_COLUMNS,
    HISTORY_COLUMNS,
    HISTORY_JSON_COLUMNS,
    ORG_COLUMNS,
    RUN_COLUMNS,
    RUN_JSON_COLUMNS,
)
from b2b.management.rendering import FORMATS, render, render_sections_json
from b2b.selectors.history import page_history
from b2b.selectors.listings import contracts_listing, courseware_listing, organizations_listing
from b2b.services.codes.export import check_codes_file, write_codes_csv
from b2b.services.contracts.terms import get_contract
from b2b.services.organizations.create import find_organization


class Command(arguments.OneLineErrorsMixin, BaseCommand):
    help = "List B2B organizations, contracts and courseware; export a contract's codes."

    def add_arguments(self, parser):
        sub = arguments.add_subcommands(parser, dest="what", metavar="WHAT")
        for name, help_text in (
            ("organizations", "List organizations."),
            ("contracts", "List contracts, or export a contract's codes with --codes."),
            ("courseware", "List a contract's runs and attached courseware."),
            ("courses", "Export a contract's codes (same as `contracts --codes`)."),
            ("history", "A contract's audit trail, oldest first: who changed what, and how."),
        ):
            p = sub.add_parser(name, help=help_text)
            p.add_argument(
                "--org", "--organization", dest="org", help="Organization name, key or id"
            )
            p.add_argument("--format", choices=FORMATS, default="table")
            if name in ("contracts", "courses"):
                p.add_argument(
                    "--codes",
                    type=arguments.object_id,
                    metavar="CONTRACT_ID",
                    required=name == "courses",
                    help="Write the contract's enrollment codes to codes-<id>.csv",
                )
                p.add_argument("--codes-out", metavar="FILE", help="Where to write the codes CSV")
                p.add_argument(
                    "--force", action="store_true", help="Replace the codes CSV if it exists"
                )
            if name == "contracts":
                p.add_argument(
                    "--state",
                    choices=ContractState.values,
                    help="Only contracts in this state today (inactive: deactivated; scheduled: "
                    "not started; ended: past the last day; active: running)",
                )
            if name in ("courseware", "history"):
                p.add_argument("--contract", type=arguments.object_id, required=True)

    def handle(self, *args, what, **options):
        try:
            identifier = options.pop("org", None)
            org = find_organization(identifier) if identifier is not None else None
            getattr(self, f"_{what}")(org=org, **options)
        except CodesFileExists as exc:
            raise CommandError(f"{exc}; add --force to replace it") from exc
        except B2BError as exc:
            raise CommandError(str(exc)) from exc

    def _organizations(self, *, org, **o):
        render(
            self.stdout,
            organizations_listing(org),
            ORG_COLUMNS,
            fmt=o["format"],
            title="Organizations",
        )

    def _contracts(self, *, org, **o):
        if o["codes"] is not None:
            if o["state"]:
                raise CommandError("--state filters the listing; it does not go with --codes")
            self._export_codes(o["codes"], o["codes_out"], replace=o["force"])
            return
        for option in ("codes_out", "force"):
            if o[option]:
                raise CommandError(f"--{option.replace('_', '-')} needs --codes <contract id>")
        state = ContractState(o["state"]) if o["state"] else None
        render(
            self.stdout,
            contracts_listing(org, state=state),
            CONTRACT_COLUMNS,
            fmt=o["format"],
            title="Contracts",
        )

    def _courses(self, **o):
        self._export_codes(o["codes"], o["codes_out"], replace=o["force"])

    def _export_codes(self, contract_id: int, codes_out: str | None, *, replace: bool):
        contract = get_contract(contract_id)
        path = Path(codes_out or f"codes-{contract_id}.csv")
        check_codes_file(path, replace=replace)
        status = getattr(contract, "code_status", None)
        if status is not None and status.is_pending:
            failed = f" (last attempt: {status.last_error})" if status.last_error else ""
            self.stderr.write(
                self.style.WARNING(
                    f"Warning: codes of contract {contract_id} are pending since "
                    f"{status.pending_since:%Y-%m-%d %H:%M}{failed}; the file may be incomplete. "
                    f"Run `b2b_contract sync-codes {contract_id}` (or `sync-codes --all-pending`) "
                    "to bring them up to date now, then export again."
                )
            )
        rows = write_codes_csv(contract, path, replace=replace)
        self.stdout.write(f"Wrote {rows} codes of contract {contract_id} to {path}")

    def _courseware(self, *, org, **o):
        contract = get_contract(o["contract"])
        if org is not None and contract.organization.pk != org.pk:
            raise CommandError(f"Contract {contract.pk} does not belong to {org.title}")
        listing = courseware_listing(contract)
        if o["format"] == "json":
            render_sections_json(
                self.stdout,
                {
                    "runs": (listing.runs, RUN_JSON_COLUMNS),
                    "attached": (listing.attached, ATTACHED_COLUMNS),
                },
            )
            return
        render(
            self.stdout,
            listing.runs,
            RUN_COLUMNS,
            fmt=o["format"],
            title=f"Runs of contract {contract.pk} ({contract.title})",
        )
        if o["format"] == "table":
            render(
                self.stdout,
                listing.attached,
                ATTACHED_COLUMNS,
                fmt="table",
                title="Attached courseware",
            )

    def _history(self, *, org, **o):
        contract = get_contract(o["contract"])
        if org is not None and contract.organization.pk != org.pk:
            raise CommandError(f"Contract {contract.pk} does not belong to {org.title}")
        fmt = o["format"]
        render(
            self.stdout,
            page_history(contract.pk),
            HISTORY_JSON_COLUMNS if fmt == "json" else HISTORY_COLUMNS,
            fmt=fmt,
            title=f"History of contract {contract.pk} ({contract.title})",
        )
