"""The survey's vocabulary, its records and its indicators, over the API."""

import django_filters
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import mixins, permissions, viewsets
from rest_framework.decorators import action
from rest_framework.parsers import MultiPartParser
from rest_framework.response import Response as ApiResponse

from core.api.caching import CacheControlMixin
from core.api.errors import errors
from core.api.filters import CleanQueryMixin, StrictFilterBackend
from core.api.pagination import PagePagination, ResponseCursorPagination

from .imports import import_survey
from .jobs import survey_import_start, visible_jobs
from .models import (
    ColumnMapping,
    Country,
    Job,
    Question,
    ReferenceValue,
    Response,
    Sector,
    Wave,
)
from .reports import cached_indicator_rows
from .serializers import (
    ColumnMappingSerializer,
    CountrySerializer,
    IndicatorQuerySerializer,
    IndicatorRowSerializer,
    JobSerializer,
    MappingPreviewRequestSerializer,
    MappingPreviewSerializer,
    QuestionSerializer,
    ReferenceValueSerializer,
    ResponseSerializer,
    SectorSerializer,
    SurveyImportErrorsSerializer,
    SurveyImportSerializer,
    SurveyImportSummarySerializer,
    WaveSerializer,
)
from .uploads import keep_upload
from .widefiles import preview

CODE_REGEX = r"[A-Za-z0-9_.-]{1,32}"


class VocabularyViewSet(
    CleanQueryMixin,
    CacheControlMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    viewsets.GenericViewSet,
):
    """Read-only code lists; cacheable for an hour."""

    permission_classes = [permissions.AllowAny]
    pagination_class = PagePagination
    filter_backends = []
    lookup_field = "code"
    lookup_value_regex = CODE_REGEX


def _vocabulary(name, description, serializer):
    return extend_schema_view(
        list=extend_schema(
            summary=f"List {name}",
            description=description + " Cached for an hour (`Cache-Control: max-age=3600`).",
            responses={200: serializer(many=True), **errors(400, 404)},
        ),
        retrieve=extend_schema(
            summary=f"One of the {name}, by code",
            description=description,
            responses={200: serializer, **errors(404)},
        ),
    )


@_vocabulary("sectors", "Service sectors: the ten COFOG divisions, `01` to `10`.", SectorSerializer)
class SectorViewSet(VocabularyViewSet):
    queryset = Sector.objects.all()
    serializer_class = SectorSerializer


@_vocabulary("countries", "Countries by ISO 3166-1 alpha-3 code.", CountrySerializer)
class CountryViewSet(VocabularyViewSet):
    queryset = Country.objects.all()
    serializer_class = CountrySerializer


@_vocabulary("waves", "Survey waves, such as `OECD-2010`.", WaveSerializer)
class WaveViewSet(VocabularyViewSet):
    queryset = Wave.objects.all()
    serializer_class = WaveSerializer


@_vocabulary(
    "questions", "Survey questions, each with the items respondents tick.", QuestionSerializer
)
class QuestionViewSet(VocabularyViewSet):
    queryset = Question.objects.prefetch_related("items")
    serializer_class = QuestionSerializer


class ReferenceValueFilterSet(django_filters.FilterSet):
    wave = django_filters.ModelChoiceFilter(
        queryset=Wave.objects.all(), to_field_name="code", label="Wave code"
    )
    question = django_filters.ModelChoiceFilter(
        field_name="item__question",
        queryset=Question.objects.all(),
        to_field_name="code",
        label="Question code",
    )

    class Meta:
        model = ReferenceValue
        fields = []


@extend_schema_view(
    list=extend_schema(
        summary="List the OECD's published reference values",
        description="Reference data, never computed: one value per wave, question and item. "
        "Cached for an hour.",
        responses={200: ReferenceValueSerializer(many=True), **errors(400, 404)},
    ),
)
class ReferenceValueViewSet(
    CleanQueryMixin, CacheControlMixin, mixins.ListModelMixin, viewsets.GenericViewSet
):
    permission_classes = [permissions.AllowAny]
    pagination_class = PagePagination
    queryset = ReferenceValue.objects.select_related("wave", "item__question").order_by(
        "wave__code", "item__question__order", "item__order", "item__code"
    )
    serializer_class = ReferenceValueSerializer
    filterset_class = ReferenceValueFilterSet
    filter_backends = [StrictFilterBackend]


class ResponseFilterSet(django_filters.FilterSet):
    wave = django_filters.ModelChoiceFilter(
        field_name="respondent__wave",
        queryset=Wave.objects.all(),
        to_field_name="code",
        label="Wave code",
    )
    country = django_filters.ModelChoiceFilter(
        field_name="respondent__country", queryset=Country.objects.all(), label="Country code"
    )
    sector = django_filters.ModelChoiceFilter(queryset=Sector.objects.all(), label="Sector code")
    question = django_filters.ModelChoiceFilter(
        field_name="item__question",
        queryset=Question.objects.all(),
        to_field_name="code",
        label="Question code",
    )
    item = django_filters.CharFilter(
        field_name="item__code", max_length=32, label="Item code (combine with question)"
    )
    answer = django_filters.BooleanFilter(field_name="affirmative", label="Ticked or not")

    class Meta:
        model = Response
        fields = []


class SurveyRecordsPermission(permissions.BasePermission):
    """Staff whose role reads survey records list them; a survey manager imports.

    The rule names are registered in `initiatives/rules.py` (survey never imports it).
    """

    def has_permission(self, request, view):
        user = request.user
        if not (user and user.is_authenticated):
            return False
        if getattr(view, "action", None) == "import_file":
            return user.has_perm("survey.import_records")
        return user.has_perm("survey.read_records")


@extend_schema_view(
    list=extend_schema(
        summary="List survey records (staff)",
        description="One record per answer: (wave, country, respondent, sector, question, "
        "item, yes/no). Cursor-paginated: follow `next`; a deep page costs the same as the "
        "first.",
        responses={200: ResponseSerializer(many=True), **errors(400, 401, 403, 404)},
    ),
)
class ResponseViewSet(CleanQueryMixin, mixins.ListModelMixin, viewsets.GenericViewSet):
    permission_classes = [SurveyRecordsPermission]
    pagination_class = ResponseCursorPagination
    queryset = Response.objects.select_related("respondent__wave", "item__question")
    serializer_class = ResponseSerializer
    filterset_class = ResponseFilterSet
    filter_backends = [StrictFilterBackend]

    @extend_schema(
        summary="Import a survey file (staff)",
        description=(
            "The same file and options as `manage.py import_survey`: CSV (UTF-8) or XLSX, a "
            "header row with wave,country,respondent,sector,question,item,answer. All or "
            "nothing: with any problem nothing is written and the answer is 400 with the "
            "problems, each with its line, column, cell (XLSX) and value (the first 50, and "
            "the total). 201 when records were "
            "created, 200 when the file changed nothing."
        ),
        request={"multipart/form-data": SurveyImportSerializer},
        responses={
            200: SurveyImportSummarySerializer,
            201: SurveyImportSummarySerializer,
            202: OpenApiResponse(JobSerializer, description="Started as a background job."),
            400: OpenApiResponse(
                SurveyImportErrorsSerializer,
                description="The file was refused whole; `details.errors` lists the problems.",
            ),
            **errors(401, 403),
        },
    )
    @action(
        detail=False,
        methods=["post"],
        url_path="import",
        parser_classes=[MultiPartParser],
        pagination_class=None,
        filter_backends=[],
    )
    def import_file(self, request):
        body = SurveyImportSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        options = {
            name: body.validated_data.get(name)
            for name in ("mapping", "wave", "create_wave", "create_items", "replace")
        }
        if body.validated_data["background"]:
            upload = body.validated_data["file"]
            job = survey_import_start(
                owner=request.user,
                upload_key=keep_upload(upload, owner=request.user),
                name=upload.name,
                size=upload.size,
                **{name: value or "" for name, value in options.items()},
            )
            return ApiResponse(JobSerializer(job).data, status=202)
        result = import_survey(body.validated_data["file"], **options)
        if not result.ok:
            return ApiResponse(
                {
                    "code": "import_error",
                    "message": result.summary(),
                    "details": {"error_count": result.error_count, "errors": result.errors},
                },
                status=400,
            )
        summary = SurveyImportSummarySerializer(result).data
        created = result.respondents_created or result.responses_created
        return ApiResponse(summary, status=201 if created else 200)


class IndicatorViewSet(CleanQueryMixin, viewsets.ViewSet):
    permission_classes = [permissions.AllowAny]
    filter_backends = []

    @extend_schema(
        summary="Survey indicators",
        description=(
            "The same numbers as `/reports/indicators.csv`, with the same parameters: one row "
            "per item (per item and country with `by=country`, per item and sector with "
            "`by=sector`). The percentage follows the OECD's definition: affirmative "
            "(respondent, sector) pairs over the pairs that answered the question. The rows "
            "of one question are few, so the report is not paginated."
        ),
        parameters=[IndicatorQuerySerializer],
        responses={
            200: IndicatorRowSerializer(many=True),
            400: errors(400)[400],
        },
    )
    def list(self, request):
        query = IndicatorQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        params = query.validated_data
        wave, question = params["wave"], params["question"]
        country, sector, by = params.get("country"), params.get("sector"), params.get("by")
        rows = cached_indicator_rows(
            wave=wave, question=question, country=country, sector=sector, by=by
        )
        data = [
            {
                "wave": wave.code,
                "question": question.code,
                "item": row.item.code,
                "item_label": row.item.label,
                "country": row.group if by == "country" else (country.pk if country else None),
                "sector": row.group if by == "sector" else (sector.pk if sector else None),
                "affirmative": row.affirmative,
                "responses": row.responses,
                "percent": row.percent_rounded,
                "reference_percent": row.reference_percent,
            }
            for row in rows
        ]
        return ApiResponse(IndicatorRowSerializer(data, many=True).data)


class SurveyManagerPermission(permissions.BasePermission):
    """Column mappings and their previews: survey managers (`survey.import_records`)."""

    def has_permission(self, request, view):
        user = request.user
        return bool(user and user.is_authenticated and user.has_perm("survey.import_records"))


@extend_schema_view(
    list=extend_schema(
        summary="List column mappings (survey managers)",
        responses={200: ColumnMappingSerializer(many=True), **errors(400, 403)},
    ),
    retrieve=extend_schema(
        summary="A column mapping (survey managers)",
        responses={200: ColumnMappingSerializer, **errors(400, 403, 404)},
    ),
    create=extend_schema(
        summary="Save a column mapping (survey managers)",
        responses={201: ColumnMappingSerializer, **errors(400, 403)},
    ),
    update=extend_schema(
        summary="Change a column mapping (survey managers)",
        responses={200: ColumnMappingSerializer, **errors(400, 403, 404)},
    ),
    partial_update=extend_schema(
        summary="Change part of a column mapping (survey managers)",
        responses={200: ColumnMappingSerializer, **errors(400, 403, 404)},
    ),
    destroy=extend_schema(
        summary="Delete a column mapping (survey managers)",
        responses={204: None, **errors(400, 403, 404)},
    ),
)
class ColumnMappingViewSet(viewsets.ModelViewSet):
    """How wide survey files are read: saved mappings, by name (see README, "Wide survey
    files"). `POST survey/mappings/preview/` reads a file's first rows back as answers."""

    permission_classes = [SurveyManagerPermission]
    queryset = ColumnMapping.objects.all()
    serializer_class = ColumnMappingSerializer
    pagination_class = None
    lookup_field = "name"
    lookup_value_regex = CODE_REGEX

    @extend_schema(
        summary="Preview a wide file (survey managers)",
        description=(
            "Reads the file's first rows back as answers through the mapping named (saved, "
            "or a preset), or through the one proposed from the header; writes nothing. The "
            "proposal can be saved with `POST survey/mappings/`."
        ),
        request={"multipart/form-data": MappingPreviewRequestSerializer},
        responses={200: MappingPreviewSerializer, **errors(400, 401, 403)},
    )
    @action(detail=False, methods=["post"], parser_classes=[MultiPartParser])
    def preview(self, request):
        body = MappingPreviewRequestSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        name = body.validated_data.get("mapping") or None
        try:
            shown = preview(
                body.validated_data["file"], mapping=name, rows=body.validated_data["rows"]
            )
        except LookupError:
            return ApiResponse(
                {
                    "code": "validation_error",
                    "message": "No saved mapping and no preset has this name.",
                    "details": {"mapping": [name]},
                },
                status=400,
            )
        return ApiResponse(shown.as_dict())


class JobViewSet(mixins.RetrieveModelMixin, mixins.ListModelMixin, viewsets.GenericViewSet):
    """A person's own background jobs (survey imports and exports)."""

    permission_classes = [permissions.IsAuthenticated]
    serializer_class = JobSerializer
    pagination_class = PagePagination
    queryset = Job.objects.none()

    def get_queryset(self):
        return visible_jobs(self.request.user)

    @extend_schema(
        summary="Your background jobs",
        responses={200: JobSerializer(many=True), **errors(400, 404)},
    )
    def list(self, request, *args, **kwargs):
        return super().list(request, *args, **kwargs)

    @extend_schema(
        summary="One of your background jobs: progress and outcome",
        responses={200: JobSerializer, **errors(400, 404)},
    )
    def retrieve(self, request, *args, **kwargs):
        return super().retrieve(request, *args, **kwargs)
