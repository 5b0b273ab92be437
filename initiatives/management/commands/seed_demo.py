"""Demo data for trying coprod locally: `python manage.py seed_demo` (run by `make run`).

Loads realistic co-production initiatives from fourteen countries, with their partners,
frameworks, tags, timelines and stage histories over several years; the organisations
that keep them; a synthetic survey wave `DEMO`; and people to sign in as: one for each
staff role, and a group's admin. The data is `initiatives/demo/initiatives.json`;
`initiatives.demo.loader` makes it through `initiatives.services`, as the product makes
it, with fixed random choices, so every run gives the same data.

It is idempotent: what exists already (found by username, organisation name, initiative
title, wave code) is left as it is, so a second run changes nothing. It creates users
with known passwords, so it refuses to run unless DEBUG is on.
"""

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.test.utils import override_settings

from initiatives.demo.loader import DemoLoader, demo_data


class Command(BaseCommand):
    help = "Load demo data and demo logins (DEBUG only; safe to run again)."

    def handle(self, *args, **options):
        if not settings.DEBUG:
            raise CommandError(
                "seed_demo creates users with known passwords, so it only runs with DEBUG on "
                "(DEBUG=true; `make run` sets it). Never load demo data on a public server."
            )
        # Demo submissions and decisions would e-mail the demo people: send those nowhere.
        with (
            override_settings(EMAIL_BACKEND="django.core.mail.backends.dummy.EmailBackend"),
            transaction.atomic(),
        ):
            created, survey_made = DemoLoader().load()

        if created or survey_made:
            self.stdout.write(
                f"Demo data loaded: {created} initiatives, "
                f"{'the' if survey_made else 'no new'} synthetic survey wave DEMO."
            )
        else:
            self.stdout.write("Demo data already loaded; nothing changed.")
        self.stdout.write("Demo logins (local development only):")
        for username, login in demo_data()["logins"].items():
            role, what = login["role"], login["what"]
            who = f"staff role: {role}; {what}" if role else f"citizens' group: {what}"
            self.stdout.write(f"  {username} / {login['password']}  — {who}")
        self.stdout.write("Staff work in the admin at /admin/; groups use the site at /.")
