"""Forms of the survey: the indicator report's parameters and the admin upload."""

from django import forms
from django.db.models import Exists, OuterRef
from django.utils.translation import gettext_lazy as _

from .models import Country, Question, Respondent, Sector, Wave

BREAKDOWN_CHOICES = [
    ("", _("No breakdown")),
    ("country", _("By country")),
    ("sector", _("By sector")),
]


class CodeChoiceField(forms.ModelChoiceField):
    """A choice by code (as in URLs and CSV files); unknown codes say which code."""

    def __init__(self, *args, upper=False, unknown=None, **kwargs):
        self.upper = upper
        super().__init__(*args, to_field_name=kwargs.pop("to_field_name", "code"), **kwargs)
        if unknown:
            self.error_messages["invalid_choice"] = unknown

    def to_python(self, value):
        if isinstance(value, str):
            value = value.strip()
            if self.upper:
                value = value.upper()
        return super().to_python(value)


def default_wave():
    """OECD-2010 when it has records, else the latest wave with records, else any wave."""
    with_data = Wave.objects.filter(Exists(Respondent.objects.filter(wave=OuterRef("pk"))))
    oecd = with_data.filter(code="OECD-2010").first()
    if oecd:
        return oecd
    return (
        with_data.first() or Wave.objects.filter(code="OECD-2010").first() or Wave.objects.first()
    )


class IndicatorForm(forms.Form):
    """The parameters of `/reports/indicators/` and its CSV twin (read from the query)."""

    wave = CodeChoiceField(
        Wave.objects.all(),
        label=_("Survey wave"),
        empty_label=None,
        unknown=_("Unknown wave “%(value)s”."),
    )
    question = CodeChoiceField(
        Question.objects.all(),
        label=_("Question"),
        empty_label=None,
        unknown=_("Unknown question “%(value)s”."),
    )
    country = CodeChoiceField(
        Country.objects.all(),
        label=_("Country"),
        required=False,
        empty_label=_("All countries"),
        upper=True,
        unknown=_("Unknown country “%(value)s”: use an ISO 3166-1 alpha-3 code."),
    )
    sector = CodeChoiceField(
        Sector.objects.all(),
        label=_("Sector"),
        required=False,
        empty_label=_("All sectors"),
        unknown=_("Unknown sector “%(value)s”: use a COFOG code 01 to 10."),
    )
    by = forms.ChoiceField(
        choices=BREAKDOWN_CHOICES,
        label=_("Breakdown"),
        required=False,
        error_messages={
            "invalid_choice": _("Unknown breakdown “%(value)s”: use country or sector.")
        },
    )

    @classmethod
    def from_query(cls, query):
        """Bind the query string, filling in the default wave and question when absent."""
        data = {key: query.get(key, "") for key in ("wave", "question", "country", "sector", "by")}
        if not data["wave"]:
            wave = default_wave()
            data["wave"] = wave.code if wave else ""
        if not data["question"]:
            data["question"] = "reasons"
        return cls(data)


class CodesField(forms.ModelMultipleChoiceField):
    """Several choices by code (`?wave=A&wave=B`); an unknown code says which code."""

    def __init__(self, *args, unknown=None, **kwargs):
        super().__init__(*args, to_field_name="code", **kwargs)
        if unknown:
            self.error_messages["invalid_choice"] = unknown


class WaveComparisonForm(forms.Form):
    """The parameters of `/reports/waves/` and its CSV twin (read from the query)."""

    question = IndicatorForm.base_fields["question"]
    wave = CodesField(
        Wave.objects.order_by("year", "code"),
        label=_("Survey waves"),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("None chosen: every wave with records."),
        unknown=_("Unknown wave “%(value)s”."),
    )
    country = IndicatorForm.base_fields["country"]
    sector = IndicatorForm.base_fields["sector"]

    @classmethod
    def from_query(cls, query):
        data = {key: query.get(key, "") for key in ("question", "country", "sector")}
        data["question"] = data["question"] or "reasons"
        data["wave"] = [code for code in query.getlist("wave") if code]
        return cls(data)

    def clean_wave(self):
        from .reports import waves_with_data

        chosen = self.cleaned_data["wave"]
        waves = list(chosen.order_by("year", "code")) if chosen else list(waves_with_data())
        return waves


class SurveyImportForm(forms.Form):
    """An upload (or a file kept since its preview), with the import's options."""

    file = forms.FileField(
        label=_("Survey file (CSV or XLSX)"),
        required=False,
        help_text=_(
            "The long format (the columns wave, country, respondent, sector, question, item, "
            "answer), or a wide file from a survey tool: one row per respondent, one column "
            "per option."
        ),
    )
    upload = forms.CharField(widget=forms.HiddenInput, required=False)
    mapping = forms.ChoiceField(
        label=_("Column mapping"),
        required=False,
        help_text=_("For a wide file. Preview first to see how the file reads."),
    )
    wave = forms.CharField(
        label=_("Wave"),
        required=False,
        max_length=32,
        help_text=_("For a wide file (it has no wave column): the wave's code."),
    )
    create_wave = forms.BooleanField(label=_("Create waves that do not exist yet"), required=False)
    create_items = forms.BooleanField(
        label=_("Create items that do not exist yet (never questions)"), required=False
    )
    replace = forms.BooleanField(
        label=_("Replace answers that differ from the stored ones"), required=False
    )
    background = forms.BooleanField(
        label=_("Run in the background"),
        required=False,
        help_text=_("Large files always do: follow the progress on the job's page."),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        from .models import ColumnMapping

        self.fields["mapping"].choices = [
            ("", _("Recognise it from the header")),
            (
                _("Presets"),
                [(code, label) for code, label in ColumnMapping.PRESETS],
            ),
            (
                _("Saved mappings"),
                list(ColumnMapping.objects.values_list("name", "name")),
            ),
        ]

    def clean(self):
        data = super().clean()
        if not data.get("file") and not data.get("upload"):
            self.add_error("file", _("Choose a file."))
        return data
