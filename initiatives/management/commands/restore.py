"""Restore a copy written by `backup` into the configured database.

Restore into a fresh, empty database (the safe way, then switch DATABASE_URL to it);
replacing the contents of a database that already has data needs --replace.
"""

import sqlite3
import tarfile
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import connections

from core import reportcache

from .backup import run_postgres_tool


class Command(BaseCommand):
    help = "Restore a backup made by `manage.py backup` (pg_restore or the SQLite backup API)."

    def add_arguments(self, parser):
        parser.add_argument("file", help="A .dump (PostgreSQL) or .sqlite3 (SQLite) backup.")
        parser.add_argument("--database", default="default")
        parser.add_argument(
            "--replace",
            action="store_true",
            help="Allow overwriting a database that already holds coprod's tables.",
        )
        parser.add_argument(
            "--media",
            action="store_true",
            help="Also unpack <file>.media.tar.gz into MEDIA_ROOT.",
        )

    def handle(self, *args, **options):
        source = Path(options["file"])
        if not source.is_file():
            raise CommandError(f"No backup file at {source}.")
        connection = connections[options["database"]]
        if not options["replace"] and "django_migrations" in connection.introspection.table_names():
            raise CommandError(
                "The target database already has coprod's tables. Restore into a fresh "
                "database, or pass --replace to overwrite it."
            )
        if connection.vendor == "postgresql":
            self._pg_restore(connection, source, options["replace"])
        elif connection.vendor == "sqlite":
            self._sqlite_restore(connection, source)
        else:
            raise CommandError(f"Restoring {connection.vendor} databases is not supported.")
        # Cached reports (in a shared cache) describe the data before the restore.
        reportcache.data_changed()
        self.stdout.write(f"Database restored from {source}")
        if options["media"]:
            self._unpack_media(source)

    def _pg_restore(self, connection, source, replace):
        connection.close()
        command = ["pg_restore", "--no-owner", "--no-privileges", "--exit-on-error"]
        # One transaction: a restore that fails half-way leaves the target as it was.
        command += ["--single-transaction"]
        if replace:
            command += ["--clean", "--if-exists"]
        command += ["--dbname", connection.settings_dict["NAME"], str(source)]
        run_postgres_tool(command, connection.settings_dict)

    def _sqlite_restore(self, connection, source):
        with open(source, "rb") as handle:
            if handle.read(16) != b"SQLite format 3\x00":
                raise CommandError(f"{source} is not a SQLite database file.")
        connection.ensure_connection()
        backup = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
        try:
            backup.backup(connection.connection)
        finally:
            backup.close()

    def _unpack_media(self, source):
        archive = source.with_name(source.name + ".media.tar.gz")
        if not archive.is_file():
            self.stdout.write(f"No document archive at {archive}; documents not restored.")
            return
        root = Path(settings.MEDIA_ROOT)
        root.mkdir(parents=True, exist_ok=True)
        with tarfile.open(archive, "r:gz") as tar:
            members = [m for m in tar.getmembers() if m.name.startswith("media/")]
            for member in members:
                member.name = member.name.removeprefix("media/")
            # The "data" filter refuses absolute paths, links out of the folder and devices.
            tar.extractall(root, members=[m for m in members if m.name], filter="data")
        self.stdout.write(f"Documents restored into {root}")
