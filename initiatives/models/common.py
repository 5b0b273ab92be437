"""What the models of initiatives share: the length limits and the choices."""

from typing import TYPE_CHECKING

from django.core.validators import MaxLengthValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

if TYPE_CHECKING:
    pass

#: The longest text a free-text field holds (descriptions, notes, arrangements): generous,
#: but bounded, and the same through the site, the API and the admin.
LONG_TEXT_LIMIT = 20_000
#: The largest number of participants an initiative can report.
PARTICIPANTS_LIMIT = 1_000_000_000


def long_text(verbose_name, **kwargs):
    """A free-text field with the one length limit, enforced by `full_clean` and every form."""
    return models.TextField(
        verbose_name,
        max_length=LONG_TEXT_LIMIT,
        validators=[MaxLengthValidator(LONG_TEXT_LIMIT)],
        **kwargs,
    )


class Stage(models.TextChoices):
    PLANNED = "planned", _("Planned")
    PILOT = "pilot", _("Pilot")
    EMBEDDED = "embedded", _("Embedded")
    DISCONTINUED = "discontinued", _("Discontinued")


class ReviewStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    SUBMITTED = "submitted", _("Submitted")
    PUBLISHED = "published", _("Published")
    RETURNED = "returned", _("Returned")


class Level(models.TextChoices):
    LOCAL = "local", _("Local")
    REGIONAL = "regional", _("Regional")
    NATIONAL = "national", _("National")
    SUPRANATIONAL = "supranational", _("Supranational")


class Phase(models.TextChoices):
    COMMISSION = "commission", _("Commission")
    DESIGN = "design", _("Design")
    DELIVER = "deliver", _("Deliver")
    ASSESS = "assess", _("Assess")


class PartnerType(models.TextChoices):
    CITIZEN = "citizen", _("Citizen")
    USER = "user", _("Service user or carer")
    COMMUNITY_GROUP = "community_group", _("Community group")
    CSO = "cso", _("Civil-society organisation")
    PROFESSIONAL = "professional", _("Public professional")
    PRIVATE = "private", _("Private business")


class ParticipationLevel(models.TextChoices):
    INDIVIDUAL = "individual", _("Individual")
    GROUP = "group", _("Group")
    COLLECTIVE = "collective", _("Collective")


class EvidenceLevel(models.TextChoices):
    SELF_REPORTED = "self_reported", _("Self-reported")
    MONITORED = "monitored", _("Monitored")
    FORMALLY_EVALUATED = "formally_evaluated", _("Formally evaluated")


class OrganisationKind(models.TextChoices):
    CITIZENS_GROUP = "citizens_group", _("Citizens' group")
    CSO = "cso", _("Civil-society organisation")
    PUBLIC_AGENCY = "public_agency", _("Public agency")
    OTHER = "other", _("Other")
