from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SurveyConfig(AppConfig):
    name = "survey"
    verbose_name = _("Survey")

    def ready(self):
        # Every survey table is read by the reports and the public pages (vocabulary labels,
        # indicators): cached results start over after each write (coprod_site/reportcache.py).
        from coprod_site import reportcache

        from .models import Respondent, Response

        bulk_deleted = (Respondent, Response)
        reportcache.watch(*(m for m in self.get_models() if m not in bulk_deleted))
        # Deleted a whole wave at a time: their deletions call data_changed() themselves.
        reportcache.watch(*bulk_deleted, deletes=False)
