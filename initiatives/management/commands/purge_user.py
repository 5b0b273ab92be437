"""Erase a person's personal data on a data-protection request (see services.user_purge)."""

from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management.base import BaseCommand, CommandError

from initiatives.services import user_purge


class Command(BaseCommand):
    help = "Anonymise a user account and remove their personal data, including from history."

    def add_arguments(self, parser):
        parser.add_argument("username", help="The account to purge.")
        parser.add_argument("--by", required=True, help="Username of the staff member doing it.")
        parser.add_argument("--reason", required=True, help="The request this answers.")
        parser.add_argument(
            "--yes", action="store_true", help="Do it; without this, only say what would happen."
        )

    def handle(self, *args, **options):
        users = get_user_model().objects
        try:
            user = users.get(username=options["username"])
            by = users.get(username=options["by"])
        except users.model.DoesNotExist as exc:
            raise CommandError(f"No such user: {exc}") from exc
        if not options["yes"]:
            self.stdout.write(
                f"Would anonymise user #{user.pk} ({user.get_username()}). "
                "Run again with --yes to do it; this cannot be undone."
            )
            return
        try:
            user_purge(user=user, by=by, reason=options["reason"])
        except (PermissionDenied, ValidationError) as exc:
            raise CommandError("; ".join(getattr(exc, "messages", [str(exc)]))) from exc
        self.stdout.write(f"User #{user.pk} purged; now {user.get_username()}.")
