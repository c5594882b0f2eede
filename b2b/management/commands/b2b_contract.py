"""manage.py b2b_contract: create, modify, renew, export and import contracts, and manage their
courseware."""

import json
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import DatabaseError, connection, transaction

from b2b.enums import IntegrationType
from b2b.exceptions import (
    B2BError,
    ContractFileError,
    LearnersDoNotFit,
    NoSourceRun,
    OrganizationNotFound,
)
from b2b.management import arguments
from b2b.management.rendering import TerminalProgress
from b2b.services.code_status import code_status, pending_contract_ids
from b2b.services.codes import (
    RECONCILE_TASK,
    CodePlan,
    progress_reporter,
    reconcile_contract_codes,
)
from b2b.services.contract_transfer import describe_contract, import_contract, read_description
from b2b.services.contracts import UNSET, ContractChange, create_contract, modify_contract
from b2b.services.courseware import CoursewareResult, add_courseware, remove_courseware
from b2b.services.dry_run import preview
from b2b.services.organizations import resolve_organization
from b2b.services.renewal import renew_contract
from config.db_errors import one_line, transient_db_error
from config.exports import private_file
from config.queueing import Call, noting_unsent

# What the operator can do about a service error, in this command's words (services name no
# command-line options).
CLI_HINTS: dict[type[B2BError], str] = {
    OrganizationNotFound: "; add --create to create it",
    NoSourceRun: " (manage.py import_courserun) or use --no-create-runs",
    LearnersDoNotFit: ": give a larger --max-learners, or leave out --carry-learners",
}
# Sub-commands that create runs for every course they copy have no --no-create-runs.
RUNS_ALWAYS = {"renew", "import"}


class Command(arguments.OneLineErrorsMixin, BaseCommand):
    help = "Manage B2B contracts: create, modify, renew, export, import, courseware, sync-codes."

    def add_arguments(self, parser):
        sub = arguments.add_subcommands(parser, dest="action", metavar="ACTION")

        create = sub.add_parser("create", help="Create a contract (and its organization).")
        create.add_argument("organization", help="Organization name (or org key)")
        create.add_argument("name", help="Contract name")
        create.add_argument("integration_type", choices=IntegrationType.values)
        create.add_argument("--start", type=arguments.iso_date, help="First day (YYYY-MM-DD)")
        create.add_argument("--end", type=arguments.iso_date, help="Last day, inclusive")
        create.add_argument("--max-learners", type=arguments.learner_cap)
        create.add_argument("--price", type=arguments.price, help="Fixed enrollment price")
        create.add_argument("--description", type=arguments.optional_text_argument, default="")
        create.add_argument("--create", action="store_true", help="Create a missing organization")
        create.add_argument("--org-key", help="Key of a new organization (default: from its name)")

        modify = sub.add_parser("modify", help="Change a contract's terms.")
        modify.add_argument("contract_id", type=arguments.object_id)
        start = modify.add_mutually_exclusive_group()
        start.add_argument("--start", type=arguments.iso_date)
        start.add_argument("--no-start-date", action="store_true")
        end = modify.add_mutually_exclusive_group()
        end.add_argument("--end", type=arguments.iso_date)
        end.add_argument("--no-end-date", action="store_true")
        cap = modify.add_mutually_exclusive_group()
        cap.add_argument("--max-learners", type=arguments.learner_cap)
        cap.add_argument("--no-learner-cap", action="store_true")
        price = modify.add_mutually_exclusive_group()
        price.add_argument("--price", type=arguments.price)
        price.add_argument("--no-price", action="store_true")
        active = modify.add_mutually_exclusive_group()
        active.add_argument("--active", action="store_true", help="Activate the contract")
        active.add_argument(
            "--inactive", "--delete", action="store_true", help="Deactivate the contract"
        )
        modify.add_argument("--description", type=arguments.optional_text_argument)
        modify.add_argument("--dry-run", action="store_true", help="Show changes, write nothing")

        renew = sub.add_parser(
            "renew", help="Create the next contract of the organization, with the same courseware."
        )
        renew.add_argument("contract_id", type=arguments.object_id)
        renew.add_argument("--start", type=arguments.iso_date, required=True, help="First day")
        renew.add_argument("--end", type=arguments.iso_date, required=True, help="Last day")
        renew.add_argument(
            "--max-learners", type=arguments.learner_cap, help="Default: the current cap"
        )
        renew.add_argument("--price", type=arguments.price, help="Default: the current price")
        renew.add_argument("--name", help="Default: from the current name and the new dates")
        renew.add_argument(
            "--carry-learners",
            action="store_true",
            help="Make the current members members of the renewal (within its cap)",
        )

        export = sub.add_parser("export", help="Write a contract's description as JSON.")
        export.add_argument("contract_id", type=arguments.object_id)
        export.add_argument("--output", metavar="FILE", help="Write to FILE (default: stdout)")
        export.add_argument("--force", action="store_true", help="Replace FILE if it exists")

        import_ = sub.add_parser("import", help="Recreate a contract from an exported file.")
        import_.add_argument("file", metavar="FILE")
        import_.add_argument("--dry-run", action="store_true", help="Show changes, write nothing")

        courseware = sub.add_parser("courseware", help="Add or remove a course, run or program.")
        courseware.add_argument("contract_id", type=arguments.object_id)
        courseware.add_argument("courseware_id", help="course-v1:..., or program-v1:...")
        courseware.add_argument("--no-create-runs", action="store_true")
        courseware.add_argument("--remove", action="store_true")
        courseware.add_argument(
            "--dry-run", action="store_true", help="Show changes, write nothing"
        )

        sync = sub.add_parser(
            "sync-codes", help="Reconcile a contract's codes now, in this process."
        )
        which = sync.add_mutually_exclusive_group(required=True)
        which.add_argument("contract_id", type=arguments.object_id, nargs="?")
        which.add_argument(
            "--all-pending",
            action="store_true",
            help="Every contract whose codes are pending, one after the other",
        )

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
        self._report_codes(contract.pk, None, queued=True, unsent=o["unsent"], only_trouble=True)

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
        self._report_codes(
            o["contract_id"], plan, queued=result.reconciliation_requested, unsent=o["unsent"]
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
        self._report_courseware(renewal.courseware, dry_run=False)
        if o["carry_learners"]:
            count = renewal.learners_carried
            self.stdout.write(
                f"Carried over {count} learner{'' if count == 1 else 's'} from contract {old.pk}"
            )
        self._report_codes(new.pk, None, queued=True, unsent=o["unsent"])

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
        self._report_courseware(result.courseware, dry_run=dry_run)
        self._report_codes(new.pk, plan, queued=True, unsent=o["unsent"])

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
        self._report_courseware(result, dry_run=o["dry_run"])
        self._report_codes(
            o["contract_id"], plan, queued=result.reconciliation_requested, unsent=o["unsent"]
        )

    def _sync_codes(self, **o):
        if not o["all_pending"]:
            result = reconcile_contract_codes(contract_id=o["contract_id"], force=True)
            for line in result.plan.summary_lines():
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
                result = reconcile_contract_codes(contract_id=contract_id, force=True)
            except (B2BError, DatabaseError) as exc:
                failed += 1
                self.stdout.write(f"{head}: failed: {one_line(exc)}")
                continue
            lines = result.plan.summary_lines()
            self.stdout.write(f"{head}: {lines[0]}")
            for line in lines[1:]:
                self.stdout.write(line)
        if failed:
            raise CommandError(
                f"{failed} of {total} contracts still have pending codes; run the command again"
            )
        self.stdout.write(f"Done: the codes of {total} contracts are up to date.")

    def _report_courseware(self, result: CoursewareResult, *, dry_run: bool):
        def say(done: str, would: str, what: str) -> None:
            self.stdout.write(f"{would if dry_run else done} {what}")

        for readable_id in result.attached:
            say("Attached", "Would attach", readable_id)
        for run in result.created_runs:
            say(
                "Created",
                "Would create",
                f"run {run.courseware_id} ({run.course.readable_id}); "
                f"Open edX copy: {run.get_edx_copy_state_display().lower()}",
            )
        for run in result.assigned_runs:
            say("Assigned", "Would assign", f"run {run.courseware_id}")
        for run in result.detached_runs:
            say("Detached", "Would detach", f"run {run.courseware_id}")
        created, deactivated = ("Created", "Would create"), ("Deactivated", "Would deactivate")
        counts = (
            (result.products_created, *created, "products"),
            (result.products_deactivated, *deactivated, "products"),
            (result.codes_deactivated, *deactivated, "unused enrollment codes"),
        )
        for count, done, would, what in counts:
            if count:
                say(done, would, f"{count} {what}")
        for readable_id, reason in result.skipped:
            self.stdout.write(f"Skipped {readable_id}: {reason}")
        for warning in result.warnings:
            self.stderr.write(self.style.WARNING(f"Warning: {warning}"))

    def _report_codes(
        self,
        contract_id: int,
        plan: CodePlan | None,
        *,
        queued: bool,
        unsent: list[Call],
        only_trouble: bool = False,
    ):
        """Say what happens to the contract's codes; with ``only_trouble``, only when they are
        left pending."""
        if plan is not None:
            for line in plan.summary_lines():
                self.stdout.write(line)
            self.stdout.write("Dry run: nothing was written.")
            return
        if not queued:
            return
        if (RECONCILE_TASK, (contract_id,)) in unsent:
            self.stdout.write(
                "Enrollment codes are pending: the queue could not be reached. The periodic "
                "sweep queues them again once it is back, or run "
                f"`b2b_contract sync-codes {contract_id}` now."
            )
        elif settings.CELERY_TASK_ALWAYS_EAGER:
            # The reconciliation ran in this process when the change committed; inside a
            # caller's transaction (call_command in a test) it runs only when that one commits.
            status = None if connection.in_atomic_block else code_status(contract_id)
            if status is not None and status.is_pending:
                error = f" ({status.last_error})" if status.last_error else ""
                self.stdout.write(
                    f"Enrollment codes are still pending{error}: run "
                    f"`b2b_contract sync-codes {contract_id}`."
                )
            elif not only_trouble:
                self.stdout.write("Enrollment codes were brought up to date.")
        elif not only_trouble:
            self.stdout.write(
                "Enrollment codes will be brought up to date in the background "
                "(`b2b_list contracts` shows when)."
            )


def _show(value) -> str:
    return "none" if value is None else str(value)
