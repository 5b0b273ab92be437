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


class SurveyImportForm(forms.Form):
    file = forms.FileField(
        label=_("Survey file (CSV or XLSX)"),
        help_text=_(
            "CSV (UTF-8, comma-separated) or an XLSX workbook's first sheet, with the header "
            "wave,country,respondent,sector,question,item,answer."
        ),
    )
    create_wave = forms.BooleanField(label=_("Create waves that do not exist yet"), required=False)
    create_items = forms.BooleanField(
        label=_("Create items that do not exist yet (never questions)"), required=False
    )
    replace = forms.BooleanField(
        label=_("Replace answers that differ from the stored ones"), required=False
    )
