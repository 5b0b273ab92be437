from pathlib import Path

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
            "--dry-run",
            action="store_true",
            help="Check the file and say what would be created, updated or unchanged.",
        )

    def handle(self, *args, file, dry_run, **options):
        path = Path(file)
        if not path.is_file():
            raise CommandError(f"No such file: {file}")
        result = import_initiatives(path, by=None, dry_run=dry_run)
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
