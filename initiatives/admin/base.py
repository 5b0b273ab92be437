"""What the admin classes of this app share."""

import datetime

from django.contrib import admin
from django.contrib.admin import helpers
from django.contrib.auth import get_permission_codename
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Case, Value, When
from django.template.response import TemplateResponse
from django.utils.formats import date_format
from django.utils.html import conditional_escape
from django.utils.text import Truncator
from django.utils.timezone import localtime
from django.utils.translation import gettext
from simple_history.admin import SimpleHistoryAdmin
from simple_history.models import ModelDelta
from simple_history.template_utils import HistoricalRecordContextHelper

from .. import history, rules, services
from ..models import Visibility

ACTION_TEMPLATE = "admin/initiatives/action_form.html"


class HistoryAdmin(SimpleHistoryAdmin):
    """History pages list who changed what, and when; old versions are for reading only.

    Reverting from the history page would save an old version past the rules the
    services keep (the version lock, the stage and review workflow), so it is disabled:
    to undo a change, edit the record.
    """

    def revert_disabled(self, request, obj=None):
        return True

    def set_history_delta_changes(self, request, historical_records, foreign_keys_are_objs=True):
        # The one diff of initiatives/history.py, which adds what the workflows change
        # (stage, review status, archiving) to the fields a form edits.
        previous = None
        records = list(historical_records)
        for current in records:
            if previous is not None:
                found = history.changes(previous, current, readable=foreign_keys_are_objs)
                delta = ModelDelta(found, [change.field for change in found], current, previous)
                helper = self.get_historical_record_context_helper(request, previous)
                previous.history_delta_changes = helper.context_for_delta_changes(delta)
            previous = current

    def get_historical_record_context_helper(self, request, historical_record):
        return ReadableHistory(self.model, historical_record)

    def history_form_view(self, request, object_id, version_id, extra_context=None):
        if request.method == "POST":
            raise PermissionDenied
        return super().history_form_view(request, object_id, version_id, extra_context)


class ReadableHistory(HistoricalRecordContextHelper):
    """History values as people read them: names and dates rather than raw values, "—" for
    nothing, lists joined, long text cut at a word."""

    def prepare_delta_change_value(self, change, value):
        value = super().prepare_delta_change_value(change, value)
        field = self.model._meta.get_field(change.field)
        if isinstance(value, list):
            return ", ".join(str(item) for item in value) or "—"
        if value is None or value == "":
            return "—"
        if isinstance(value, datetime.datetime):
            return date_format(localtime(value), "DATETIME_FORMAT")
        if isinstance(value, datetime.date):
            return date_format(value, "DATE_FORMAT")
        if isinstance(value, bool):
            return gettext("yes") if value else gettext("no")
        choices = dict(field.flatchoices) if getattr(field, "flatchoices", None) else {}
        return str(choices.get(value, value))

    def stringify_delta_change_values(self, change, old, new):
        def short(value):
            return conditional_escape(Truncator(str(value)).words(30, truncate=" …"))

        return short(old), short(new)


class DefaultListFilter(admin.SimpleListFilter):
    """A filter that shows the slice staff mostly want (`default`) until they pick another.

    Give the lookups an "all" choice so that the whole list stays one click away.
    """

    default = None

    def value(self):
        return super().value() or self.default

    def choices(self, changelist):
        for lookup, title in self.lookup_choices:
            yield {
                "selected": self.value() == str(lookup),
                "query_string": changelist.get_query_string({self.parameter_name: lookup}),
                "display": title,
            }


def has_model_permission(request, opts, action):
    return request.user.has_perm(f"{opts.app_label}.{get_permission_codename(action, opts)}")


def in_choice_order(field, choices):
    """Order by a value's place in its choices (commission before design...), not A to Z."""
    whens = [When(**{field: value}, then=Value(i)) for i, value in enumerate(choices.values)]
    return Case(*whens, default=Value(len(whens)))


def framework_name(framework):
    """ "accountability" or "budget": the name `services.framework_save` knows it by."""
    return next(name for name, model in services.FRAMEWORKS.items() if isinstance(framework, model))


def framework_values(framework):
    """A framework's own values as a form left them on the instance."""
    return {
        field.name: getattr(framework, field.attname)
        for field in framework._meta.concrete_fields
        if field.name not in ("id", "initiative")
    }


def error_text(exc):
    """What a refused service call says, for a message."""
    if isinstance(exc, services.StaleEdit):
        return gettext("someone else saved it meanwhile; nothing was changed.")
    if isinstance(exc, ValidationError):
        return " ".join(exc.messages)
    return str(exc)


def submitted_form(form_class, request, **kwargs):
    """The form of an action's intermediate page: bound once its "apply" button was pressed."""
    return form_class(request.POST if "apply" in request.POST else None, **kwargs)


def action_page(model_admin, request, objects, form, *, title, submit, action=None, **extra):
    """The intermediate page of an action that needs more input (a reason, a date...).

    With `action`, the page posts back to the changelist as that action with the same
    selection; without, to its own URL (a view of one object).
    """
    context = {
        **model_admin.admin_site.each_context(request),
        "title": title,
        "opts": model_admin.opts,
        "objects": list(objects),
        "form": form,
        "action": action,
        "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
        "submit_label": submit,
        "cancel_url": request.get_full_path(),
        "media": model_admin.media + form.media,
        **extra,
    }
    return TemplateResponse(request, ACTION_TEMPLATE, context)


def limit_entry_choices(fields, user, initiative):
    """A timeline entry form offers the kinds people write and the visibilities `user` may give.

    The admin is the staff's door: a new entry is shared with the group unless staff choose
    otherwise, so that nothing is published by a forgotten choice.
    """
    if "kind" in fields:
        fields["kind"].choices = [(kind.value, kind.label) for kind in services.WRITTEN_KINDS]
    if "visibility" in fields:
        allowed = rules.writable_visibilities(user, initiative)
        field = fields["visibility"]
        field.choices = [(value, label) for value, label in Visibility.choices if value in allowed]
        if Visibility.GROUP in allowed:
            field.initial = Visibility.GROUP
