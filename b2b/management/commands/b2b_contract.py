"""manage.py b2b_contract: create, modify, renew, export and import contracts, and manage their
courseware."""

import json
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.db import DatabaseError, transaction

from b2b.exceptions import (
    B2BError,
    ContractFileError,
    LearnersDoNotFit,
    NoSourceRun,
    OrganizationNotFound,
)
from b2b.management import arguments
from b2b.management.contract_arguments import RUNS_ALWAYS, add_contract_arguments
from b2b.management.contract_reports import report_codes, report_courseware
from b2b.management.rendering import TerminalProgress
from b2b.services.codes.dry_run import preview
from b2b.services.codes.reconcile import progress_reporter, reconcile_contract_codes
from b2b.services.codes.status import pending_contract_ids
from b2b.services.contracts.renewal import renew_contract
from b2b.services.contracts.terms import UNSET, ContractChange, create_contract, modify_contract
from b2b.services.contracts.transfer import describe_contract, import_contract, read_description
from b2b.services.courseware import add_courseware, remove_courseware
from b2b.services.organizations.create import resolve_organization
from config.db_errors import one_line, transient_db_error
from config.exports import private_file
from config.queueing import noting_unsent

# What the operator can do about a service error, in this command's words (services name no
# command-line options).
CLI_HINTS: dict[type[B2BError], str] = {
    OrganizationNotFound: "; add --create to create it",
    NoSourceRun: " (manage.py import_courserun) or use --no-create-runs",
    LearnersDoNotFit: ": give a larger --max-learners, or leave out --carry-learners",
}


class Command(arguments.OneLineErrorsMixin, BaseCommand):
    help = "Manage B2B contracts: create, modify, renew, export, import, courseware, sync-codes."

    def add_arguments(self, parser):
        add_contract_arguments(parser)

    def handle(self, *args, action, **options):
        # Reconciliations run in this process (eager tasks, sync-codes) draw a progress bar when
        # stderr is a terminal.
        with TerminalProgress() as progress, noting_unsent() as unsent:
            token = progress_reporter.set(progress)
            try:
                getattr(self, f"_{action.replace('-', '_')}")(unsent=unsent, **options)
            except B2BError as exc:
                hint = CLI_HINTS.get(type(exc), "")
                if action in RUNS_ALWAYS and isinstance(exc, NoSourceRun):
                    hint = " (manage.py import_courserun)"
                raise CommandError(f"{exc}{hint}") from exc
            except DatabaseError as exc:
                conflict = transient_db_error(exc)
                if conflict is None:
                    raise
                raise CommandError(
                    f"Nothing was changed: the database stopped this change because another "
                    f"one on the same rows ran at the same time ({conflict}). Run it again."
                ) from exc
            finally:
                progress_reporter.reset(token)

    def _create(self, **o):
        with transaction.atomic():  # a new organization is kept only with its contract
            match = resolve_organization(
                identifier=o["organization"], create=o["create"], org_key=o["org_key"]
            )
            org = match.organization
            contract = create_contract(
                organization=org,
                name=o["name"],
                integration_type=o["integration_type"],
                contract_start=o["start"],
                contract_end=o["end"],
                max_learners=o["max_learners"],
                enrollment_fixed_price=o["price"],
                description=o["description"],
            ).contract
        if match.created:
            self.stdout.write(
                f"Created organization {org.title} "
                f"(id {org.pk}, key {org.org_key}, slug {org.slug})"
            )
        elif match.matched_by == "similar name":
            self.stdout.write(
                f"Using organization {org.title} (id {org.pk}, key {org.org_key}): "
                f"{o['organization']!r} differs from its name only in case or spacing"
            )
        self.stdout.write(
            f"Created contract {contract.title} (id {contract.pk}, slug {contract.slug}) "
            f"for organization {org.title} (id {org.pk})"
        )
        report_codes(self, contract.pk, None, queued=True, unsent=o["unsent"], only_trouble=True)

    def _modify(self, **o):
        change = ContractChange(
            contract_start=None if o["no_start_date"] else (o["start"] or UNSET),
            contract_end=None if o["no_end_date"] else (o["end"] or UNSET),
            max_learners=None if o["no_learner_cap"] else (o["max_learners"] or UNSET),
            enrollment_fixed_price=(
                None if o["no_price"] else (UNSET if o["price"] is None else o["price"])
            ),
            active=True if o["active"] else (False if o["inactive"] else UNSET),
            description=UNSET if o["description"] is None else o["description"],
        )
        if not change.as_dict():
            raise CommandError("Nothing to change: give at least one option (see --help)")

        def run():
            return modify_contract(contract_id=o["contract_id"], change=change)

        if o["dry_run"]:
            result, plan = preview(run, contract_id=o["contract_id"])
        else:
            result, plan = run(), None
        prefix = "Would change" if o["dry_run"] else "Changed"
        if not result.changes:
            self.stdout.write(f"Contract {result.contract.pk}: nothing to change.")
        for name, (old, new) in result.changes.items():
            self.stdout.write(f"{prefix} {name}: {_show(old)} -> {_show(new)}")
        report_codes(
            self, o["contract_id"], plan, queued=result.reconciliation_requested, unsent=o["unsent"]
        )

    def _renew(self, **o):
        renewal = renew_contract(
            contract_id=o["contract_id"],
            start=o["start"],
            end=o["end"],
            max_learners=UNSET if o["max_learners"] is None else o["max_learners"],
            price=UNSET if o["price"] is None else o["price"],
            name=o["name"],
            carry_learners=o["carry_learners"],
        )
        new, old, org = renewal.contract, renewal.renews, renewal.organization
        self.stdout.write(
            f"Created contract {new.title} (id {new.pk}, slug {new.slug}) for organization "
            f"{org.title} (id {org.pk}), renewing contract {old.title} (id {old.pk})"
        )
        report_courseware(self, renewal.courseware, dry_run=False)
        if o["carry_learners"]:
            count = renewal.learners_carried
            self.stdout.write(
                f"Carried over {count} learner{'' if count == 1 else 's'} from contract {old.pk}"
            )
        report_codes(self, new.pk, None, queued=True, unsent=o["unsent"])

    def _export(self, **o):
        text = json.dumps(describe_contract(o["contract_id"]), indent=2, ensure_ascii=False)
        if o["output"] is None:
            self.stdout.write(text)
            return
        path = Path(o["output"])
        try:
            with private_file(path, replace=o["force"]) as handle:
                handle.write(f"{text}\n")
        except FileExistsError as exc:
            raise CommandError(f"{exc}; add --force to replace it") from exc
        except OSError as exc:
            raise CommandError(f"Cannot write {path}: {exc.strerror or exc}") from exc
        self.stdout.write(f"Wrote contract {o['contract_id']} to {path}")

    def _import(self, **o):
        path = Path(o["file"])
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            reason = exc.strerror if isinstance(exc, OSError) else "not UTF-8 text"
            raise CommandError(f"Cannot read {path}: {reason or exc}") from exc
        try:
            description = read_description(text)
        except ContractFileError as exc:
            raise CommandError(f"{path}: {exc}") from exc

        def run():
            return import_contract(description)

        dry_run = o["dry_run"]
        if dry_run:
            result, plan = preview(run)
        else:
            result, plan = run(), None
        org, new = result.organization, result.contract
        if result.organization_created:
            self.stdout.write(
                f"{'Would create' if dry_run else 'Created'} organization {org.title} "
                f"(key {org.org_key})"
            )
        else:
            self.stdout.write(f"Using organization {org.title} (id {org.pk}, key {org.org_key})")
        made = f"Created contract {new.title} (id {new.pk}, slug {new.slug})"
        self.stdout.write(
            f"{f'Would create contract {new.title}' if dry_run else made} for organization "
            f"{org.title}{' (inactive)' if not new.active else ''}"
        )
        if result.renews is not None:
            self.stdout.write(f"Renews contract {result.renews.title} (id {result.renews.pk})")
        elif result.renews_missing:
            self.stdout.write(
                f"It renews contract {result.renews_missing!r}, which is not here: "
                "the link is left empty"
            )
        report_courseware(self, result.courseware, dry_run=dry_run)
        report_codes(self, new.pk, plan, queued=True, unsent=o["unsent"])

    def _courseware(self, **o):
        def run():
            if o["remove"]:
                return remove_courseware(
                    contract_id=o["contract_id"], courseware_id=o["courseware_id"]
                )
            return add_courseware(
                contract_id=o["contract_id"],
                courseware_id=o["courseware_id"],
                create_runs=not o["no_create_runs"],
            )

        if o["dry_run"]:
            result, plan = preview(run, contract_id=o["contract_id"])
        else:
            result, plan = run(), None
        report_courseware(self, result, dry_run=o["dry_run"])
        report_codes(
            self, o["contract_id"], plan, queued=result.reconciliation_requested, unsent=o["unsent"]
        )

    def _sync_codes(self, **o):
        if not o["all_pending"]:
            for line in _sync_now(o["contract_id"]):
                self.stdout.write(line)
            return
        contract_ids = pending_contract_ids()
        if not contract_ids:
            self.stdout.write("No contract has pending codes.")
            return
        total = len(contract_ids)
        self.stdout.write(f"{total} contract{'s' if total > 1 else ''} with pending codes.")
        failed = 0
        for number, contract_id in enumerate(contract_ids, start=1):
            head = f"[{number}/{total}] Contract {contract_id}"
            try:
                lines = _sync_now(contract_id)
            except (B2BError, DatabaseError) as exc:
                failed += 1
                self.stdout.write(f"{head}: failed: {one_line(exc)}")
                continue
            self.stdout.write(f"{head}: {lines[0]}")
            for line in lines[1:]:
                self.stdout.write(line)
        if failed:
            raise CommandError(
                f"{failed} of {total} contracts still have pending codes; run the command again"
            )
        self.stdout.write(f"Done: the codes of {total} contracts are up to date.")


def _sync_now(contract_id: int) -> list[str]:
    """Reconcile the contract's codes whether or not a reconciliation was requested; the lines
    that say what was done."""
    result = reconcile_contract_codes(contract_id=contract_id, force=True)
    # Only a reconciliation that is not forced, and finds nothing requested, returns no plan.
    assert result.plan is not None
    return result.plan.summary_lines()


def _show(value) -> str:
    return "none" if value is None else str(value)
