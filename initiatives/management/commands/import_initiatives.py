from pathlib import Path

from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied
from django.core.management.base import BaseCommand, CommandError

from initiatives.imports import import_initiatives


class Command(BaseCommand):
    help = (
        "Import a register of initiatives, CSV or XLSX, in the export's format (see the "
        "codebook). Rows without a reference create initiatives, rows with one update them. "
        "All or nothing: any problem and nothing is written; each is listed with its line "
        "and column."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", help="The CSV (UTF-8) or XLSX file, with a header row.")
        parser.add_argument(
            "--user",
            help="The username the changes are recorded under in the history (default: the "
            "system itself).",
        )
        parser.add_argument(
            "--dry-run",
            action="store_true",
            help="Check the file and say what would be created, updated or unchanged.",
        )

    def handle(self, *args, file, dry_run, user=None, **options):
        path = Path(file)
        if not path.is_file():
            raise CommandError(f"No such file: {file}")
        by = None
        if user:
            by = get_user_model().objects.filter(username=user).first()
            if by is None:
                raise CommandError(f"No user is named {user}.")
        try:
            result = import_initiatives(path, by=by, dry_run=dry_run)
        except PermissionDenied as denied:
            raise CommandError(str(denied)) from None
        for error in result.errors:
            self.stderr.write(str(error))
        if not result.ok:
            raise CommandError(str(result.summary()))
        for label, rows in (
            ("created", result.created),
            ("updated", result.updated),
        ):
            for line, reference in rows:
                self.stdout.write(f"line {line}: {label} {reference}")
        self.stdout.write(str(result.summary()))
