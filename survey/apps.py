from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SurveyConfig(AppConfig):
    name = "survey"
    verbose_name = _("Survey")

    def ready(self):
        # Cached reports start over after every write to the survey or initiatives tables.
        from core import reportcache

        reportcache.connect()
