"""Seed the four staff roles (case officer, survey manager, analyst, administrator)."""

from django.db import migrations


def seed_roles(apps, schema_editor):
    from initiatives.roles import sync_roles

    sync_roles(apps)


class Migration(migrations.Migration):
    dependencies = [
        ("initiatives", "0004_text_limits"),
        ("survey", "0004_import_permission"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("admin", "0003_logentry_add_action_flag_choices"),
        ("axes", "0010_accessattemptexpiration"),
    ]

    operations = [
        # Removing the migration leaves the groups: administrators may have changed them.
        migrations.RunPython(seed_roles, migrations.RunPython.noop),
    ]
