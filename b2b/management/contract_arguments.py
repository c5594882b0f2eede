"""The options of ``manage.py b2b_contract``, one sub-command at a time (the command itself
only dispatches)."""

from b2b.enums import IntegrationType
from b2b.management import arguments

# Sub-commands that create runs for every course they copy have no --no-create-runs.
RUNS_ALWAYS = {"renew", "import"}


def add_contract_arguments(parser) -> None:
    """Add every sub-command of b2b_contract and its options to ``parser``."""
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
    courseware.add_argument("--dry-run", action="store_true", help="Show changes, write nothing")

    sync = sub.add_parser("sync-codes", help="Reconcile a contract's codes now, in this process.")
    which = sync.add_mutually_exclusive_group(required=True)
    which.add_argument("contract_id", type=arguments.object_id, nargs="?")
    which.add_argument(
        "--all-pending",
        action="store_true",
        help="Every contract whose codes are pending, one after the other",
    )
