"""The case timeline: its entries, the events the system records and who reads them."""

from typing import TYPE_CHECKING

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from ..validators import validate_document
from .common import Stage, long_text
from .initiative import Initiative

if TYPE_CHECKING:
    from django.contrib.auth.models import User


class ActivityKind(models.TextChoices):
    NOTE = "note", _("Note")
    MEETING = "meeting", _("Meeting")
    DOCUMENT = "document", _("Document")
    CONTACT = "contact", _("Contact")
    STAGE = "stage", _("Stage change")
    REVIEW = "review", _("Review")


class ActivityEvent(models.TextChoices):
    """What the system recorded on a timeline; the entry's words are made from it, in the
    reader's language (`Activity.describe`)."""

    SUBMITTED = "submitted", _("Submitted for review")
    APPROVED = "approved", _("Approved and published")
    RETURNED = "returned", _("Returned to the group")
    STAGE_CHANGED = "stage_changed", _("Stage changed")
    STAGE_PROPOSED = "stage_proposed", _("Stage change proposed")
    STAGE_RECORDED = "stage_recorded", _("Past stage change recorded")
    STAGE_CORRECTED = "stage_corrected", _("Stage history corrected")
    STAGE_REMOVED = "stage_removed", _("Stage history entry removed")
    STAGE_CONFIRMED = "stage_confirmed", _("Stage dates confirmed")
    PROPOSAL_SUPERSEDED = "proposal_superseded", _("Stage proposal superseded")


def _stage_label(code):
    return Stage(code).label if code in Stage.values else code


def _stage_since(code, date):
    return _("“%(stage)s” since %(date)s") % {"stage": _stage_label(code), "date": date}


#: The words of each event; `params` fill them in (stage codes become stage labels).
EVENT_TEXTS = {
    ActivityEvent.SUBMITTED: lambda p: _("Submitted for review."),
    ActivityEvent.APPROVED: lambda p: _("Approved and published."),
    ActivityEvent.RETURNED: lambda p: _("Returned: %(reason)s") % {"reason": p.get("reason", "")},
    ActivityEvent.STAGE_CHANGED: lambda p: (
        _("Stage changed from “%(from)s” to “%(to)s”. %(reason)s")
        % {
            "from": _stage_label(p.get("from", "")),
            "to": _stage_label(p.get("to", "")),
            "reason": p.get("reason", ""),
        }
    ).strip(),
    ActivityEvent.STAGE_PROPOSED: lambda p: (
        _("Proposed a stage change to “%(to)s” from %(date)s: %(reason)s")
        % {"to": _stage_label(p.get("to", "")), "date": p["date"], "reason": p.get("reason", "")}
        if p.get("date")
        else _("Proposed a stage change to “%(to)s”: %(reason)s")
        % {"to": _stage_label(p.get("to", "")), "reason": p.get("reason", "")}
    ),
    ActivityEvent.STAGE_RECORDED: lambda p: (
        _("Past stage change recorded: %(entry)s. %(reason)s")
        % {
            "entry": _stage_since(p.get("stage", ""), p.get("date", "")),
            "reason": p.get("reason", ""),
        }
    ).strip(),
    ActivityEvent.STAGE_CORRECTED: lambda p: (
        _("Stage history corrected: %(before)s is now %(after)s. %(reason)s")
        % {
            "before": _stage_since(p.get("before_stage", ""), p.get("before_date", "")),
            "after": _stage_since(p.get("stage", ""), p.get("date", "")),
            "reason": p.get("reason", ""),
        }
    ).strip(),
    ActivityEvent.STAGE_REMOVED: lambda p: (
        _("Stage history entry removed: %(entry)s. %(reason)s")
        % {
            "entry": _stage_since(p.get("stage", ""), p.get("date", "")),
            "reason": p.get("reason", ""),
        }
    ).strip(),
    ActivityEvent.STAGE_CONFIRMED: lambda p: _("Stage dates reported by the group confirmed."),
    ActivityEvent.PROPOSAL_SUPERSEDED: lambda p: (
        _(
            "The proposal to move to “%(proposed)s” was closed as superseded: the stage is "
            "now “%(stage)s”. Propose again if it is still not right."
        )
        % {
            "proposed": _stage_label(p.get("proposed", "")),
            "stage": _stage_label(p.get("stage", "")),
        }
    ),
}


class Visibility(models.TextChoices):
    """Who reads a timeline entry and its document (the rules are in `rules.py`)."""

    PUBLIC = "public", _("Public")
    GROUP = "group", _("Shared with the group")
    INTERNAL = "internal", _("Internal (staff only)")


class ActivityQuerySet(models.QuerySet):
    def visible_to(self, user, initiative=None):
        """The entries `user` may read: of `initiative`, or of any initiative (the admin's lists).

        Only the entries' own visibility: whether the initiative itself may be read is asked
        of the initiative (`Initiative.objects.visible_to`, `rules`).
        """
        from .. import rules

        if initiative is not None:
            visibilities = rules.activity_visibilities(user, initiative)
            return self.filter(initiative=initiative, visibility__in=visibilities)
        condition = rules.visible_activities_q(user)
        return self if condition is None else self.filter(condition)


def document_path(instance, filename):
    return f"documents/{instance.initiative.reference}/{filename}"


class Activity(models.Model):
    """An entry of the case timeline."""

    initiative = models.ForeignKey(
        Initiative, models.CASCADE, related_name="activities", verbose_name=_("initiative")
    )
    kind = models.CharField(_("kind"), max_length=10, choices=ActivityKind.choices)
    visibility = models.CharField(
        _("visibility"),
        max_length=10,
        choices=Visibility.choices,
        default=Visibility.PUBLIC,
        help_text=_(
            "Public: everyone who can read the initiative. Shared with the group: the owner "
            "organisation's members and staff. Internal: staff only."
        ),
    )
    date = models.DateField(_("date"), default=timezone.localdate)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("author"),
    )
    text = long_text(_("text"))
    # Entries the system writes keep what happened; their words follow the reader.
    event = models.CharField(_("event"), max_length=20, choices=ActivityEvent.choices, blank=True)
    params = models.JSONField(_("event details"), default=dict, blank=True)
    file = models.FileField(
        _("file"), upload_to=document_path, blank=True, validators=[validate_document]
    )
    created_at = models.DateTimeField(_("recorded at"), default=timezone.now)

    objects = ActivityQuerySet.as_manager()
    history = HistoricalRecords()
    #: Who the next history row names; the services set it before they save.
    _history_user: "User | None"

    class Meta:
        ordering = ["initiative", "date", "created_at", "pk"]
        verbose_name = _("activity")
        verbose_name_plural = _("activities")
        indexes = [models.Index(fields=["initiative", "date"], name="activity_timeline")]

    def __str__(self):
        return f"{self.date} {self.get_kind_display()}"

    @classmethod
    def for_event(cls, event, params=None, **fields):
        """An unsaved entry for `event`; its `text` keeps the English words (the API, exports
        and searches read it), `describe()` gives them in the active language."""
        params = params or {}
        with translation.override("en"):
            text = str(EVENT_TEXTS[event](params))
        return cls(event=event, params=params, text=text, **fields)

    def describe(self):
        """The entry's words in the active language."""
        if self.event in EVENT_TEXTS:
            return str(EVENT_TEXTS[self.event](self.params or {}))
        return self.text

    def clean(self):
        if self.kind == ActivityKind.DOCUMENT and not self.file:
            raise ValidationError({"file": _("Attach the document.")}, code="document_file")
