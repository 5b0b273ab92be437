from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SurveyConfig(AppConfig):
    name = "survey"
    verbose_name = _("Survey")

    def ready(self):
        # The survey tables are read by the reports and the public pages (vocabulary labels,
        # indicators): cached results start over after each write (core/reportcache.py).
        from core import reportcache

        from .models import ColumnMapping, Job, Respondent, Response

        # How files are read and the background jobs: no report reads them, and a job's
        # progress must not throw the cached reports away every few seconds.
        unread = (ColumnMapping, Job)
        bulk_deleted = (Respondent, Response)
        reportcache.watch(
            *(m for m in self.get_models() if m not in unread and m not in bulk_deleted)
        )
        # Deleted a whole wave at a time: their deletions call data_changed() themselves.
        reportcache.watch(*bulk_deleted, deletes=False)
