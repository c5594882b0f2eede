"""manage.py b2b_manager add|remove|list --org <name or key> [EMAIL]: the manager role."""

from django.core.management.base import BaseCommand, CommandError

from b2b.exceptions import B2BError
from b2b.management import arguments
from b2b.management.listings import MANAGER_COLUMNS
from b2b.management.rendering import FORMATS, render
from b2b.selectors.managers import manager_rows
from b2b.services.invitations.managers import find_user, grant_manager, revoke_manager
from b2b.services.organizations.create import resolve_organization


class Command(arguments.OneLineErrorsMixin, BaseCommand):
    help = "Grant, remove or list the manager role of an organization."

    def add_arguments(self, parser):
        sub = arguments.add_subcommands(parser, dest="action", metavar="ACTION")
        for name, help_text in (
            ("add", "Make the user with this e-mail address a manager of the organization."),
            ("remove", "Take the manager role of the organization from the user."),
            ("list", "List the organization's managers (every organization's without --org)."),
        ):
            p = sub.add_parser(name, help=help_text)
            p.add_argument(
                "--org",
                "--organization",
                dest="org",
                required=name != "list",
                help="Organization name, key or id",
            )
            if name == "list":
                p.add_argument("--format", choices=FORMATS, default="table")
            else:
                p.add_argument("email", metavar="EMAIL", help="The user's e-mail address")

    def handle(self, *args, action, **options):
        try:
            identifier = options.pop("org", None)
            org = None
            if identifier is not None:  # an empty one is refused by its type (--org "")
                org = resolve_organization(identifier=identifier, create=False).organization
            getattr(self, f"_{action}")(org=org, **options)
        except B2BError as exc:
            raise CommandError(str(exc)) from exc

    def _add(self, *, org, email, **options):
        user = find_user(email)
        _, created = grant_manager(user=user, organization=org)
        if created:
            self.stdout.write(f"{user.email} now manages {org.title}")
        else:
            self.stdout.write(f"{user.email} already manages {org.title}; nothing changed")

    def _remove(self, *, org, email, **options):
        user = find_user(email)
        revoke_manager(user=user, organization=org)
        self.stdout.write(f"{user.email} no longer manages {org.title}")

    def _list(self, *, org, **options):
        render(
            self.stdout,
            manager_rows(org),
            MANAGER_COLUMNS,
            fmt=options["format"],
            title=f"Managers of {org.title}" if org else "Managers",
        )
