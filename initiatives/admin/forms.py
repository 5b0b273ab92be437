"""The admin's forms: the initiative record, and the input of actions that need some."""

from django import forms
from django.contrib.admin.widgets import AdminDateWidget
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from .. import rules, services
from ..models import Initiative, Stage, StageChange

TAG_FIELDS = Initiative.TAG_FIELDS


def stale_message(opened, current):
    return gettext(
        "Someone else saved this initiative after you opened it (you opened version "
        "%(opened)s; it is now at version %(current)s), so nothing was saved. Open it again "
        "to see their changes, then make yours."
    ) % {"opened": opened, "current": current}


class ConfirmForm(forms.Form):
    """An action's confirmation page: nothing to fill in, only a button to press."""


class InitiativeForm(forms.ModelForm):
    """The record as staff edit it; each tag list offers only its own question's items."""

    class Meta:
        model = Initiative
        fields = (
            "title",
            "summary",
            "description",
            "country",
            "sector",
            "level",
            "lead_public_body",
            "organisation",
            "case_officer",
            "start_date",
            "end_date",
            "participants",
            *TAG_FIELDS,
        )
        widgets = dict.fromkeys(TAG_FIELDS, forms.CheckboxSelectMultiple)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name in TAG_FIELDS:
            if name in self.fields:  # validate_tags reads each item's question
                self.fields[name].queryset = self.fields[name].queryset.select_related("question")

    # The service's field names, where this form calls a field otherwise.
    FIELD_NAMES = {}

    def add_rule_error(self, error):
        """Show a rule's ValidationError (from the model or a service) on this form's fields."""
        for name, messages in error.message_dict.items():
            name = self.FIELD_NAMES.get(name, name)
            self.add_error(name if name in self.fields else None, messages)

    def clean(self):
        cleaned = super().clean()
        tags = {name: cleaned[name] for name in TAG_FIELDS if cleaned.get(name) is not None}
        try:
            self.instance.clean_tags(tags)
        except ValidationError as exc:
            self.add_rule_error(exc)
        return cleaned

    def record_values(self, names):
        """The cleaned values of the record's own columns among `names` (no tags, no extras)."""
        columns = {field.name for field in Initiative._meta.concrete_fields}
        return {name: self.cleaned_data[name] for name in names if name in columns}

    def tag_values(self, names):
        return {name: self.cleaned_data[name] for name in names if name in TAG_FIELDS}


class InitiativeAddForm(InitiativeForm):
    initial_stage = forms.ChoiceField(
        label=_("Maturity stage"), choices=Stage.choices, initial=Stage.PLANNED
    )
    # When each stage began, as on the site and in the API (`services.since_field`).
    planned_since = forms.DateField(
        label=_("Planned since"), required=False, widget=AdminDateWidget
    )
    pilot_since = forms.DateField(label=_("Pilot since"), required=False, widget=AdminDateWidget)
    embedded_since = forms.DateField(
        label=_("Embedded since"), required=False, widget=AdminDateWidget
    )
    discontinued_since = forms.DateField(
        label=_("Discontinued since"),
        required=False,
        widget=AdminDateWidget,
        help_text=_("Leave the current stage's date empty for today."),
    )

    FIELD_NAMES = {"stage": "initial_stage"}
    user = None  # set by the admin's get_form
    stage_dates = None

    def _stage_dates(self, cleaned):
        """The dates as the service takes them, checked now so that errors show on the form."""
        stage = cleaned["initial_stage"]
        dates = services.stage_dates_from(cleaned)
        dates[stage] = dates.get(stage) or timezone.localdate()
        services.check_initial_history(stage=stage, dates=dates)
        return dates

    def clean(self):
        cleaned = super().clean()
        try:
            if cleaned.get("initial_stage"):
                services.check_initial_stage(by=self.user, stage=cleaned["initial_stage"])
                self.stage_dates = self._stage_dates(cleaned)
            if "organisation" in cleaned:
                services.check_owner(by=self.user, organisation=cleaned["organisation"])
        except ValidationError as exc:
            self.add_rule_error(exc)
        return cleaned


class InitiativeChangeForm(InitiativeForm):
    # The version the editor opened; if the record moved on since, the save is refused.
    opened_version = forms.IntegerField(widget=forms.HiddenInput)
    # Shown above the save buttons (the change form's template), not in a fieldset.
    change_reason = forms.CharField(
        label=_("Reason for this change"),
        required=False,
        max_length=100,
        help_text=_("Optional. Kept in the history beside what you changed."),
    )

    def edited(self):
        """The names of the record's fields that were changed (the reason is no change)."""
        return [name for name in self.changed_data if name != "change_reason"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.initial.setdefault("opened_version", self.instance.version)

    def clean(self):
        cleaned = super().clean()
        opened = cleaned.get("opened_version")
        if opened is not None and opened != self.instance.version:
            raise ValidationError(stale_message(opened, self.instance.version), code="stale")
        return cleaned


class StageForm(forms.Form):
    to_stage = forms.ChoiceField(label=_("New stage"), choices=Stage.choices)
    on = forms.DateField(label=_("Date"), widget=AdminDateWidget, initial=timezone.localdate)
    reason = forms.CharField(
        label=_("Reason"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3, "cols": 60}),
        help_text=_("Required to move an initiative out of “Discontinued”."),
    )
    # The version the case's page showed (none for a selection: each as the list read it).
    opened_version = forms.IntegerField(widget=forms.HiddenInput, required=False)


class StageHistoryForm(forms.Form):
    """Staff's work on the stage history as it happened: each through `services.stages`."""

    RECORD, CORRECT, REMOVE, CONFIRM = "record", "correct", "remove", "confirm"
    operation = forms.ChoiceField(
        label=_("what to do"),
        choices=[
            (RECORD, _("Record a past stage change at its real date")),
            (CORRECT, _("Correct an entry's date or stage")),
            (REMOVE, _("Remove a wrong entry")),
            (CONFIRM, _("Confirm the dates the group reported")),
        ],
        widget=forms.RadioSelect,
    )
    entry = forms.ModelChoiceField(
        label=_("entry"),
        queryset=StageChange.objects.none(),
        required=False,
        help_text=_("The entry to correct or remove."),
    )
    to_stage = forms.ChoiceField(
        label=_("stage"), choices=[("", "—"), *Stage.choices], required=False
    )
    on = forms.DateField(label=_("date"), widget=AdminDateWidget, required=False)
    reason = forms.CharField(
        label=_("reason"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3, "cols": 60}),
        help_text=_("Kept in the history with the change; required except to confirm."),
    )
    # The version the page showed: a history changed meanwhile is not changed over it.
    opened_version = forms.IntegerField(widget=forms.HiddenInput)

    def __init__(self, *args, initiative, **kwargs):
        super().__init__(*args, **kwargs)
        self.initial.setdefault("opened_version", initiative.version)
        self.fields["entry"].queryset = initiative.stage_changes.order_by(
            "changed_on", "changed_at", "pk"
        )
        self.fields["entry"].label_from_instance = lambda entry: str(entry.describe())

    def clean(self):
        cleaned = super().clean()
        operation = cleaned.get("operation")
        if operation in (self.CORRECT, self.REMOVE) and not cleaned.get("entry"):
            self.add_error("entry", _("Choose the entry."))
        if operation == self.RECORD:
            for name in ("to_stage", "on"):
                if not cleaned.get(name):
                    self.add_error(name, _("This field is required."))
        return cleaned


class ReturnForm(forms.Form):
    reason = forms.CharField(
        label=_("What the group should change"),
        widget=forms.Textarea(attrs={"rows": 4, "cols": 60}),
        help_text=_("The group reads this on their dashboard and in the e-mail."),
    )


class CaseOfficerForm(forms.Form):
    case_officer = forms.ModelChoiceField(
        label=_("Case officer"),
        queryset=get_user_model().objects.none(),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["case_officer"].queryset = rules.case_officers()


class DecisionNoteForm(forms.Form):
    note = forms.CharField(
        label=_("Note to the group"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3, "cols": 60}),
    )


class RegisterImportForm(forms.Form):
    file = forms.FileField(
        label=_("register"),
        help_text=_("CSV (UTF-8) or XLSX, as the export writes it."),
    )
