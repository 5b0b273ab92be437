"""Write a consistent copy of the database (and of uploaded documents) to a file.

PostgreSQL: `pg_dump --format=custom`, one consistent snapshot taken while the site
keeps running. SQLite: the SQLite online backup API, which copies a consistent
snapshot even while other connections write.
"""

import os
import sqlite3
import subprocess
import tarfile
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import connections
from django.utils import timezone


def postgres_env(config):
    """libpq's environment for the Django database settings (keeps the password off argv)."""
    env = dict(os.environ)
    pairs = {
        "PGHOST": config.get("HOST"),
        "PGPORT": config.get("PORT"),
        "PGUSER": config.get("USER"),
        "PGPASSWORD": config.get("PASSWORD"),
        "PGDATABASE": config.get("NAME"),
    }
    env.update({key: str(value) for key, value in pairs.items() if value})
    return env


def run_postgres_tool(command, config):
    """Run pg_dump or pg_restore against the Django database; a failure is a CommandError."""
    program = command[0]
    try:
        result = subprocess.run(  # noqa: S603 - fixed program, arguments are ours
            command, env=postgres_env(config), capture_output=True, text=True, check=False
        )
    except FileNotFoundError as exc:
        raise CommandError(f"{program} is not installed (Debian: postgresql-client).") from exc
    if result.returncode != 0:
        raise CommandError(f"{program} failed: {result.stderr.strip()}")


class Command(BaseCommand):
    help = "Back up the database (pg_dump or the SQLite backup API) and uploaded documents."

    def add_arguments(self, parser):
        parser.add_argument(
            "--output",
            help="File to write (default: backups/coprod-<timestamp>.dump or .sqlite3).",
        )
        parser.add_argument("--database", default="default")
        parser.add_argument(
            "--no-media",
            action="store_true",
            help="Do not archive MEDIA_ROOT next to the database copy.",
        )

    def handle(self, *args, **options):
        connection = connections[options["database"]]
        vendor = connection.vendor
        suffix = {"postgresql": ".dump", "sqlite": ".sqlite3"}.get(vendor)
        if suffix is None:
            raise CommandError(f"Backups of {vendor} databases are not supported.")
        stamp = timezone.now().strftime("%Y%m%d-%H%M%S")
        output = Path(options["output"] or Path("backups") / f"coprod-{stamp}{suffix}")
        output.parent.mkdir(parents=True, exist_ok=True)
        partial = output.with_name(output.name + ".partial")
        if vendor == "postgresql":
            self._pg_dump(connection, partial)
        else:
            self._sqlite_backup(connection, partial)
        # Only a complete copy gets the final name, so a crash never leaves a half file
        # that looks like a backup.
        partial.replace(output)
        self.stdout.write(f"Database backed up to {output}")
        if not options["no_media"]:
            media = self._archive_media(output)
            if media:
                self.stdout.write(f"Documents archived to {media}")

    def _pg_dump(self, connection, path):
        command = ["pg_dump", "--format=custom", "--no-owner", "--no-privileges", "--file", path]
        try:
            run_postgres_tool(command, connection.settings_dict)
        except CommandError:
            path.unlink(missing_ok=True)
            raise

    def _sqlite_backup(self, connection, path):
        connection.ensure_connection()
        path.unlink(missing_ok=True)
        target = sqlite3.connect(path)
        try:
            connection.connection.backup(target)
        finally:
            target.close()

    def _archive_media(self, output):
        root = Path(settings.MEDIA_ROOT)
        backend = settings.STORAGES["default"]["BACKEND"]
        if not backend.endswith("FileSystemStorage") or not root.is_dir():
            return None
        archive = output.with_name(output.name + ".media.tar.gz")
        with tarfile.open(archive, "w:gz") as tar:
            tar.add(root, arcname="media")
        return archive
