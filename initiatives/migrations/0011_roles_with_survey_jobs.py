"""Administrators hold every permission of their apps: give them those of the survey's new
models (column mappings, background jobs). See docs/RULES.md, "Changing a role"."""

from django.db import migrations


def seed_roles(apps, schema_editor):
    from initiatives.roles import sync_roles

    sync_roles(apps)


class Migration(migrations.Migration):
    dependencies = [
        ("initiatives", "0010_stage_history_events"),
        ("survey", "0006_background_jobs"),
    ]

    operations = [migrations.RunPython(seed_roles, migrations.RunPython.noop)]
