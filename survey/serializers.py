from django.core.exceptions import ValidationError as DjangoValidationError
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from core.api.fields import StrictSlugRelatedField

from .models import (
    ColumnMapping,
    Country,
    Item,
    Job,
    Question,
    ReferenceValue,
    Response,
    Sector,
    Wave,
)
from .reports import BREAKDOWNS


class SectorSerializer(serializers.ModelSerializer):
    class Meta:
        model = Sector
        fields = ["code", "label"]


class CountrySerializer(serializers.ModelSerializer):
    class Meta:
        model = Country
        fields = ["code", "name"]


class WaveSerializer(serializers.ModelSerializer):
    class Meta:
        model = Wave
        fields = ["code", "title", "year", "synthetic", "notes"]


class ItemSerializer(serializers.ModelSerializer):
    class Meta:
        model = Item
        fields = ["code", "label", "order"]


class QuestionSerializer(serializers.ModelSerializer):
    items = ItemSerializer(many=True, read_only=True)

    class Meta:
        model = Question
        fields = ["code", "label", "order", "items"]


class ReferenceValueSerializer(serializers.ModelSerializer):
    wave = serializers.CharField(source="wave.code", read_only=True)
    question = serializers.CharField(source="item.question.code", read_only=True)
    item = serializers.CharField(source="item.code", read_only=True)
    percent = serializers.DecimalField(
        max_digits=5,
        decimal_places=1,
        coerce_to_string=False,
        allow_null=True,
        read_only=True,
        help_text="The percentage the OECD published; null when it gave none.",
    )

    class Meta:
        model = ReferenceValue
        fields = ["wave", "question", "item", "percent", "note"]


class ResponseSerializer(serializers.ModelSerializer):
    wave = serializers.CharField(source="respondent.wave.code", read_only=True)
    country = serializers.CharField(source="respondent.country_id", read_only=True)
    respondent = serializers.CharField(source="respondent.code", read_only=True)
    sector = serializers.CharField(source="sector_id", read_only=True)
    question = serializers.CharField(source="item.question.code", read_only=True)
    item = serializers.CharField(source="item.code", read_only=True)
    answer = serializers.BooleanField(
        source="affirmative", read_only=True, help_text="Ticked (true) or not (false)."
    )

    class Meta:
        model = Response
        fields = ["id", "wave", "country", "respondent", "sector", "question", "item", "answer"]


def _code_field(model, field, help_text, required=True):
    return StrictSlugRelatedField(
        slug_field=field,
        queryset=model.objects.all(),
        required=required,
        help_text=help_text,
        error_messages={
            "does_not_exist": _("Unknown code “{value}”."),
            "invalid": _("Give a code."),
        },
    )


class IndicatorQuerySerializer(serializers.Serializer):
    """The same parameters as `/reports/indicators.csv`."""

    wave = _code_field(Wave, "code", "Wave code, e.g. OECD-2010.")
    question = _code_field(Question, "code", "Question code: reasons, barriers or factors.")
    country = _code_field(
        Country, "code", "Restrict to one country (ISO 3166-1 alpha-3).", required=False
    )
    sector = _code_field(Sector, "code", "Restrict to one sector (COFOG 01..10).", required=False)
    by = serializers.ChoiceField(
        choices=sorted(BREAKDOWNS),
        required=False,
        help_text="Break the rows down by country or by sector.",
    )

    def to_internal_value(self, data):
        data = data.copy()
        if data.get("country"):
            data["country"] = data["country"].upper()
        return super().to_internal_value(data)


class IndicatorRowSerializer(serializers.Serializer):
    wave = serializers.CharField()
    question = serializers.CharField()
    item = serializers.CharField(help_text="Item code.")
    item_label = serializers.CharField()
    country = serializers.CharField(
        allow_null=True, help_text="Country code when broken down or filtered by country."
    )
    sector = serializers.CharField(
        allow_null=True, help_text="Sector code when broken down or filtered by sector."
    )
    affirmative = serializers.IntegerField(help_text="(respondent, sector) pairs ticking it.")
    responses = serializers.IntegerField(help_text="(respondent, sector) pairs answering.")
    percent = serializers.DecimalField(
        max_digits=4,
        decimal_places=1,
        coerce_to_string=False,
        allow_null=True,
        help_text="affirmative / responses × 100, one decimal; null when no responses.",
    )
    reference_percent = serializers.DecimalField(
        max_digits=4,
        decimal_places=1,
        coerce_to_string=False,
        allow_null=True,
        help_text="The value the OECD published; null when unpublished.",
    )


class SurveyImportSerializer(serializers.Serializer):
    file = serializers.FileField(
        help_text="CSV (UTF-8) or XLSX: the long format (columns wave,country,respondent,"
        "sector,question,item,answer), or a wide file read through `mapping`."
    )
    mapping = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=64,
        help_text="For a wide file: a saved column mapping's name, or a preset (`limesurvey`, "
        "`kobo`, `qualtrics`). Without it, a wide file is read through the mapping proposed "
        "from its header.",
    )
    wave = serializers.CharField(
        required=False, max_length=32, help_text="For a wide file: the wave's code."
    )
    create_wave = serializers.BooleanField(
        default=False, help_text="Create the wave when its code is unknown."
    )
    create_items = serializers.BooleanField(
        default=False, help_text="Create items whose codes are unknown."
    )
    replace = serializers.BooleanField(
        default=False, help_text="Replace existing answers that differ, instead of refusing."
    )
    background = serializers.BooleanField(
        default=False,
        help_text="Run as a background job: the answer is 202 with the job; follow its `url`.",
    )


class SurveyImportSummarySerializer(serializers.Serializer):
    rows = serializers.IntegerField(help_text="Data rows read.")
    answers = serializers.IntegerField(help_text="Answers read (a wide row holds several).")
    respondents_created = serializers.IntegerField()
    responses_created = serializers.IntegerField()
    responses_unchanged = serializers.IntegerField()
    responses_replaced = serializers.IntegerField()
    waves_created = serializers.ListField(
        child=serializers.CharField(), help_text="Codes of the waves created."
    )
    items_created = serializers.ListField(
        child=serializers.CharField(), help_text="Items created, as `question/item`."
    )


class SurveyImportErrorSerializer(serializers.Serializer):
    line = serializers.IntegerField(allow_null=True, help_text="Line number in the file.")
    column = serializers.CharField(allow_null=True, allow_blank=True)
    cell = serializers.CharField(
        required=False,
        allow_blank=True,
        help_text="The cell's address (`D17`) in an XLSX file; empty or left out in CSV.",
    )
    value = serializers.CharField(allow_null=True, allow_blank=True)
    message = serializers.CharField()


class SurveyImportErrorDetailsSerializer(serializers.Serializer):
    """For a refused file, its problems; for a bad request, the messages per field."""

    error_count = serializers.IntegerField(
        required=False, help_text="How many problems the file has in all."
    )
    errors = SurveyImportErrorSerializer(
        many=True, required=False, help_text="The problems, line by line (the first 50)."
    )


class SurveyImportErrorsSerializer(serializers.Serializer):
    code = serializers.CharField(
        help_text="`import_error` for a refused file; `validation_error` for a bad request."
    )
    message = serializers.CharField()
    details = SurveyImportErrorDetailsSerializer()


class ColumnMappingSerializer(serializers.ModelSerializer):
    """A saved column mapping; its checks are the model's (`survey.mappings.check_mapping`)."""

    class Meta:
        model = ColumnMapping
        fields = ["name", "description", "preset", *ColumnMapping.READING_FIELDS, "updated_at"]
        read_only_fields = ["preset", "updated_at"]

    def validate(self, attrs):
        instance = ColumnMapping(**{**self._current(), **attrs})
        try:
            instance.clean()
        except DjangoValidationError as exc:
            raise serializers.ValidationError(exc.message_dict) from None
        return attrs

    def _current(self):
        if self.instance is None:
            return {}
        return {name: getattr(self.instance, name) for name in self.Meta.fields}


class MappingPreviewRequestSerializer(serializers.Serializer):
    file = serializers.FileField(help_text="The wide file, CSV (UTF-8) or XLSX.")
    mapping = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=64,
        help_text="A saved mapping's name or a preset; without it, one is proposed.",
    )
    rows = serializers.IntegerField(default=5, min_value=1, max_value=50)


class MappingPreviewSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(
        choices=["long", "wide"], help_text="`long`: the long format, no mapping needed."
    )
    header = serializers.ListField(child=serializers.CharField())
    mapping = serializers.DictField(
        allow_null=True, help_text="The mapping read with: saved, or proposed (`saved` false)."
    )
    ignored = serializers.ListField(
        child=serializers.CharField(), help_text="Columns the mapping does not read."
    )
    problems = SurveyImportErrorSerializer(many=True)
    answers = serializers.ListField(
        child=serializers.DictField(),
        help_text="The first rows read back as answers: line, respondent, country, sector, "
        "question, item, answer (`yes`, `no`, or empty when the question was not answered).",
    )


class JobSerializer(serializers.ModelSerializer):
    """A background job: its progress while it runs, its outcome after."""

    url = serializers.SerializerMethodField(help_text="The job's page on the site.")
    download = serializers.SerializerMethodField(
        help_text="For a finished export, its file (for its owner, while it is kept)."
    )

    class Meta:
        model = Job
        fields = [
            "id",
            "kind",
            "status",
            "phase",
            "rows_read",
            "rows_total",
            "rows_written",
            "message",
            "outcome",
            "attempts",
            "created_at",
            "started_at",
            "finished_at",
            "url",
            "download",
        ]

    def get_url(self, job) -> str:
        return reverse("jobs:detail", args=[job.pk])

    def get_download(self, job) -> str | None:
        from .jobs import export_available

        return reverse("jobs:download", args=[job.pk]) if export_available(job) else None
