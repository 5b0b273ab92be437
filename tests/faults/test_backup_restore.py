"""`manage.py backup` then `manage.py restore` into a fresh database gives back every
record and every history entry, byte for byte, and the uploaded documents."""

import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import psycopg
import pytest
from django.apps import apps
from django.core.files.base import ContentFile
from django.core.management import CommandError, call_command
from django.db import connection

from initiatives import audit, services
from initiatives.models import Activity, Initiative
from tests.factories import WaveFactory, add_participation, answer, make_initiative

ROOT = Path(__file__).resolve().parents[2]


def _tables():
    tables = []
    for model in apps.get_models(include_auto_created=True):
        meta = model._meta
        if meta.managed and not meta.proxy and meta.db_table not in tables:
            tables.append((meta.db_table, meta.pk.column))
    return sorted(set(tables))


def _rows(cursor, quote):
    """Every row of every table, keyed by table, in primary-key order."""
    contents = {}
    for table, pk in _tables():
        cursor.execute(f"SELECT * FROM {quote(table)} ORDER BY {quote(pk)}")  # noqa: S608
        contents[table] = [tuple(_plain(value) for value in row) for row in cursor.fetchall()]
    return contents


def _plain(value):
    """JSON columns as text: Django's cursor hands them over as text, a bare psycopg one
    parses them."""
    if isinstance(value, dict | list):
        return json.dumps(value, sort_keys=True)
    if isinstance(value, str) and value[:1] in "{[":
        try:
            return json.dumps(json.loads(value), sort_keys=True)
        except ValueError:
            return value
    return value


def _make_records(staff, member):
    organisation = member.memberships.get().organisation
    initiative = make_initiative(
        by=member, organisation=organisation, title="Kept through a restore"
    )
    add_participation(initiative)
    services.initiative_update(
        initiative=initiative,
        by=member,
        expected_version=initiative.version,
        fields={"title": "Kept through a restore, edited"},
    )
    services.initiative_change_stage(initiative=initiative, to_stage="pilot", by=staff, reason="go")
    Activity.objects.create(
        initiative=initiative,
        kind="document",
        text="Minutes",
        file=ContentFile(b"%PDF-1.4 minutes", name="minutes.pdf"),
    )
    wave = WaveFactory(code="BACKUP-1")
    answer(wave, "FIN", "r1", "07", "barriers", {"resources": True, "evidence": False})
    audit.record_event(audit.SIGN_IN, user=staff)


def _restore(database_url, backup, media_root):
    env = {
        **os.environ,
        "SECRET_KEY": "restore-test",
        "DATABASE_URL": database_url,
        "MEDIA_ROOT": str(media_root),
    }
    return subprocess.run(  # noqa: S603 - our own interpreter and manage.py
        [sys.executable, "manage.py", "restore", str(backup), "--media"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_backup_restored_into_a_fresh_database_has_every_record_and_history(
    tmp_path, settings, staff, member
):
    _make_records(staff, member)
    assert Initiative.history.count() >= 3
    with connection.cursor() as cursor:
        before = _rows(cursor, connection.ops.quote_name)
    extension = ".dump" if connection.vendor == "postgresql" else ".sqlite3"
    backup = tmp_path / f"coprod{extension}"
    call_command("backup", output=str(backup))
    assert backup.is_file()
    assert not backup.with_name(backup.name + ".partial").exists()

    restored_media = tmp_path / "restored-media"
    if connection.vendor == "postgresql":
        config = connection.settings_dict
        fresh = f"{config['NAME']}_restore"
        admin = psycopg.connect(
            host=config["HOST"] or "127.0.0.1",
            port=config["PORT"] or 5432,
            user=config["USER"] or "postgres",
            password=config["PASSWORD"] or None,
            dbname="postgres",
            autocommit=True,
        )
        admin.execute(f'DROP DATABASE IF EXISTS "{fresh}"')
        admin.execute(f'CREATE DATABASE "{fresh}"')
        try:
            url = (
                f"postgres://{config['USER'] or 'postgres'}:{config['PASSWORD'] or ''}"
                f"@{config['HOST'] or '127.0.0.1'}:{config['PORT'] or 5432}/{fresh}"
            )
            result = _restore(url, backup, restored_media)
            assert result.returncode == 0, result.stderr
            with psycopg.connect(url.replace("postgres://", "postgresql://")) as target:
                after = _rows(target.cursor(), connection.ops.quote_name)
        finally:
            admin.execute(f'DROP DATABASE IF EXISTS "{fresh}" WITH (FORCE)')
            admin.close()
    else:
        fresh = tmp_path / "fresh.sqlite3"
        result = _restore(f"sqlite:///{fresh}", backup, restored_media)
        assert result.returncode == 0, result.stderr
        # Read with the same type conversions as Django's own SQLite connection.
        target = sqlite3.connect(
            fresh, detect_types=sqlite3.PARSE_DECLTYPES | sqlite3.PARSE_COLNAMES
        )
        try:
            after = _rows(target.cursor(), connection.ops.quote_name)
        finally:
            target.close()

    assert after.keys() == before.keys()
    for table in before:
        assert after[table] == before[table], table
    document = Activity.objects.exclude(file="").get().file.name
    assert (restored_media / document).read_bytes() == b"%PDF-1.4 minutes"


def test_restore_refuses_to_overwrite_a_database_that_has_data(tmp_path, db):
    backup = tmp_path / "any.sqlite3"
    sqlite3.connect(backup).close()
    with pytest.raises(CommandError, match="--replace"):
        call_command("restore", str(backup))
