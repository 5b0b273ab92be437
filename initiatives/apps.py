from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class InitiativesConfig(AppConfig):
    name = "initiatives"
    verbose_name = _("Initiatives")

    def ready(self):
        # The audit log's receivers (sign-in, failure, lockout) and the deploy checks.
        from . import audit, checks, jobs  # noqa: F401

        self.watch_public_data()
        # The survey's job machinery runs the register import; it cannot import this app.
        jobs.register()

    def watch_public_data(self):
        """What the reports and the public pages read (core/reportcache.py): cached
        results start over after each write to these tables. Writes elsewhere (sign-in
        records, tokens, memberships, history rows) leave them alone."""
        from django.contrib.auth import get_user_model
        from django.db.models.signals import post_save

        from core import reportcache

        from . import models

        reportcache.watch(
            models.Initiative,
            models.Participation,
            models.AccountabilityFramework,
            models.BudgetFramework,
            models.StageChange,
            models.Activity,  # the public timeline of a case page
            models.Organisation,  # its name and verified mark, on the list and case pages
        )
        # A person's name is shown as the author of public timeline entries; a sign-in
        # (which saves only last_login) changes nothing shown.
        post_save.connect(_person_saved, sender=get_user_model(), dispatch_uid="reportcache-person")


def _person_saved(sender, update_fields=None, **kwargs):
    from core import reportcache

    if update_fields is None or not set(update_fields) <= {"last_login", "password"}:
        reportcache.data_changed()
