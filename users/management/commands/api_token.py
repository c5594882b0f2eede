"""manage.py api_token create|revoke EMAIL: API tokens of staff accounts and managers."""

from django.core.management.base import BaseCommand, CommandError

from config.commands import OneLineErrorsMixin
from users.exceptions import ApiTokenRefused
from users.services.api_tokens import create_api_token, revoke_api_tokens


class Command(OneLineErrorsMixin, BaseCommand):
    help = (
        "Create an API token for a staff account or an organization manager (shown once), "
        "or revoke all of its tokens."
    )

    def add_arguments(self, parser):
        parser.add_argument("action", choices=["create", "revoke"])
        parser.add_argument("email", help="The account's e-mail address")

    def handle(self, *args, action, email, **options):
        try:
            if action == "create":
                issued = create_api_token(email=email)
            else:
                revoked = revoke_api_tokens(email=email)
        except ApiTokenRefused as exc:
            raise CommandError(str(exc)) from exc
        if action == "revoke":
            self.stdout.write(f"Revoked {revoked} token{'s' if revoked != 1 else ''} of {email}")
            return
        expiry = issued.expiry.isoformat(timespec="seconds") if issued.expiry else "never"
        self.stdout.write(
            f"Token for {issued.user.email} (expires {expiry}); it is not shown again:\n"
            f"{issued.token}"
        )
