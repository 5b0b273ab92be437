from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class InitiativesConfig(AppConfig):
    name = "initiatives"
    verbose_name = _("Initiatives")

    def ready(self):
        # The audit log's receivers (sign-in, failure, lockout) and the deploy checks.
        from . import audit, checks  # noqa: F401
