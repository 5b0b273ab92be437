"""Initiatives over the API: the record, its workflows (submit, review, stage changes,
archive and restore) and its two frameworks."""

from django.conf import settings
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import exceptions, mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.parsers import MultiPartParser
from rest_framework.response import Response

from core.api.errors import errors
from core.api.filters import CleanQueryMixin, StrictFilterBackend
from core.api.pagination import PagePagination
from core.api.versions import (
    IF_MATCH_OPTIONAL,
    IF_MATCH_REQUIRED,
    check_version,
    if_match_version,
    with_etag,
)
from survey.serializers import JobSerializer

from .. import services
from ..filters import InitiativeFilterSet
from ..imports import import_initiatives
from ..jobs import register_import_start
from ..models import AccountabilityFramework, BudgetFramework, Initiative, Stage
from ..serializers import (
    AccountabilitySerializer,
    BudgetSerializer,
    InitiativeSerializer,
    RegisterImportErrorsSerializer,
    RegisterImportResultSerializer,
    RegisterImportSerializer,
    ReturnSerializer,
    StageChangeRequestSerializer,
    StageChangeSerializer,
    StageProposalSerializer,
)
from .common import ETAG, REFERENCE_REGEX, initiative_for


@extend_schema_view(
    list=extend_schema(
        summary="List initiatives",
        description="The initiatives you may see (published ones; also your organisations' "
        "when signed in; all for staff), with the same filters as the public list.",
        responses={200: InitiativeSerializer(many=True), **errors(400, 404)},
    ),
    retrieve=extend_schema(
        summary="One initiative",
        description='Carries `ETag: "<version>"`; send it back in If-Match to change it.',
        parameters=[ETAG],
        responses={200: InitiativeSerializer, **errors(404)},
    ),
    create=extend_schema(
        summary="Record an initiative",
        description="Members record initiatives for an organisation they are active in; "
        "staff for any. The reference is assigned; the first stage is written to the stage "
        "history.",
        parameters=[ETAG],
        responses={201: InitiativeSerializer, **errors(400, 401, 403)},
    ),
    update=extend_schema(
        summary="Replace an initiative's details",
        description="Requires If-Match with the version read; the stage is not changed here.",
        parameters=[IF_MATCH_REQUIRED, ETAG],
        responses={200: InitiativeSerializer, **errors(400, 401, 403, 404, 412, 428)},
    ),
    partial_update=extend_schema(
        summary="Change some of an initiative's details",
        description="Requires If-Match with the version read; the stage is not changed here.",
        parameters=[IF_MATCH_REQUIRED, ETAG],
        responses={200: InitiativeSerializer, **errors(400, 401, 403, 404, 412, 428)},
    ),
    destroy=extend_schema(
        summary="Archive an initiative",
        description="Hides it (kept with its history; staff can restore it). Staff or members "
        "of the owner organisation.",
        parameters=[IF_MATCH_OPTIONAL],
        responses={
            204: OpenApiResponse(description="Archived."),
            **errors(400, 401, 403, 404, 412),
        },
    ),
)
class InitiativeViewSet(
    CleanQueryMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    mixins.DestroyModelMixin,
    viewsets.GenericViewSet,
):
    serializer_class = InitiativeSerializer
    filterset_class = InitiativeFilterSet
    filter_backends = [StrictFilterBackend]
    pagination_class = PagePagination
    lookup_field = "reference"
    lookup_value_regex = REFERENCE_REGEX
    queryset = Initiative.objects.none()  # for the schema; see get_queryset

    def get_queryset(self):
        return (
            Initiative.objects.visible_to(self.request.user)
            .select_related("country", "sector")
            .prefetch_related(*Initiative.TAG_FIELDS)
            .order_by("-updated_at", "-pk")
        )

    def _fresh(self, initiative):
        return self.get_queryset().get(pk=initiative.pk)

    def _respond(self, initiative, status_code=status.HTTP_200_OK):
        fresh = self._fresh(initiative)
        return with_etag(
            Response(self.get_serializer(fresh).data, status=status_code), fresh.version
        )

    def retrieve(self, request, reference=None):
        initiative = initiative_for(request, reference, write=False)
        return self._respond(initiative)

    def create(self, request):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        fields, tags, reason = serializer.split()
        stage = fields.pop("stage", Stage.PLANNED)
        dates = services.stage_dates_from(fields)
        for name in map(services.since_field, services.STAGE_ORDER):
            fields.pop(name, None)
        initiative = services.initiative_create(
            by=request.user, stage=stage, stage_dates=dates, tags=tags, reason=reason, **fields
        )
        return self._respond(initiative, status.HTTP_201_CREATED)

    def update(self, request, reference=None, partial=False):
        initiative = initiative_for(request, reference, write=True)
        if_match_version(request, required=True)
        serializer = self.get_serializer(initiative, data=request.data, partial=partial)
        serializer.is_valid(raise_exception=True)
        expected = check_version(initiative, request, required=True)
        fields, tags, reason = serializer.split()
        fields.pop("stage", None)
        for name in map(services.since_field, services.STAGE_ORDER):
            fields.pop(name, None)
        services.initiative_update(
            initiative=initiative,
            by=request.user,
            expected_version=expected,
            fields=fields,
            tags=tags,
            reason=reason,
        )
        return self._respond(initiative)

    def destroy(self, request, reference=None):
        initiative = initiative_for(request, reference, write=True)
        expected = check_version(initiative, request, required=False)
        services.initiative_archive(
            initiative=initiative, by=request.user, expected_version=expected
        )
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(
        summary="Change the maturity stage",
        description=(
            "Staff change the stage directly: the change is written to the stage history and "
            "the timeline (201, the stage change). Members of the owner organisation propose "
            "the change instead, with a reason, for a case officer to confirm (202, the "
            "proposal); `date` is then the date the change took effect. The date is never "
            "in the future nor before the latest entry of the stage history; past changes "
            "are recorded under `stage-history/`."
        ),
        request=StageChangeRequestSerializer,
        parameters=[IF_MATCH_OPTIONAL],
        responses={
            201: StageChangeSerializer,
            202: StageProposalSerializer,
            **errors(400, 401, 403, 404, 412),
        },
    )
    @action(detail=True, methods=["post"], filter_backends=[])
    def stage(self, request, reference=None):
        initiative = initiative_for(request, reference, write=True)
        body = StageChangeRequestSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        expected = check_version(initiative, request, required=False)
        to_stage, reason = body.validated_data["to_stage"], body.validated_data["reason"]
        if request.user.has_perm("initiatives.review_case", initiative):
            change = services.initiative_change_stage(
                initiative=initiative,
                to_stage=to_stage,
                by=request.user,
                reason=reason,
                on=body.validated_data.get("date"),
                expected_version=expected,
            )
            response = Response(
                StageChangeSerializer(change, context={"request": request}).data, status=201
            )
            return with_etag(response, change.initiative.version)
        proposal = services.stage_proposal_create(
            initiative=initiative,
            to_stage=to_stage,
            by=request.user,
            reason=reason,
            effective_on=body.validated_data.get("date"),
        )
        return Response(
            StageProposalSerializer(proposal, context={"request": request}).data, status=202
        )

    @extend_schema(
        summary="Import a register of initiatives (staff)",
        description=(
            "The same file and rules as `manage.py import_initiatives`: CSV or XLSX in the "
            "export's format. Rows without a reference create initiatives, rows with one "
            "update them and must carry the version they were exported at. All or nothing: "
            "with any problem in the file nothing is written and the answer is 400 with each "
            "problem's line and column in `details.errors`. `dry_run` says what would be "
            "created, updated or unchanged. A large file (over the server's JOB_IMPORT_BYTES), "
            "or any with `background`, is imported by a background job: the answer is 202 "
            "with the job; its `outcome` then holds the counts or the problems."
        ),
        request={"multipart/form-data": RegisterImportSerializer},
        responses={
            200: RegisterImportResultSerializer,
            201: RegisterImportResultSerializer,
            202: OpenApiResponse(JobSerializer, description="Started as a background job."),
            400: OpenApiResponse(
                RegisterImportErrorsSerializer,
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
        filter_backends=[],
    )
    def import_register(self, request):
        if not request.user.has_perm("initiatives.import_register"):
            raise exceptions.PermissionDenied(
                _("Only staff who review and change any initiative import.")
            )
        body = RegisterImportSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        upload = body.validated_data["file"]
        if body.validated_data["background"] or upload.size > settings.JOB_IMPORT_BYTES:
            job = register_import_start(
                owner=request.user, upload=upload, dry_run=body.validated_data["dry_run"]
            )
            return Response(JobSerializer(job).data, status=status.HTTP_202_ACCEPTED)
        result = import_initiatives(
            body.validated_data["file"], by=request.user, dry_run=body.validated_data["dry_run"]
        )
        if not result.ok:
            return Response(
                {"code": "import_error", "message": result.summary(), "details": result.as_dict()},
                status=status.HTTP_400_BAD_REQUEST,
            )
        created = result.written and result.created
        return Response(
            result.as_dict(), status=status.HTTP_201_CREATED if created else status.HTTP_200_OK
        )

    def _review(self, request, reference, service, *, write, **kwargs):
        initiative = initiative_for(request, reference, write=write)
        check_version(initiative, request, required=False)
        initiative = service(initiative=initiative, by=request.user, **kwargs)
        return self._respond(initiative)

    @extend_schema(
        summary="Submit for review",
        description="A draft or returned initiative, complete enough (a 400 lists what is "
        "missing), goes to the case officers.",
        request=None,
        parameters=[IF_MATCH_OPTIONAL],
        responses={200: InitiativeSerializer, **errors(400, 401, 403, 404, 412)},
    )
    @action(detail=True, methods=["post"], filter_backends=[])
    def submit(self, request, reference=None):
        return self._review(request, reference, services.initiative_submit, write=True)

    @extend_schema(
        summary="Approve and publish (staff)",
        request=None,
        parameters=[IF_MATCH_OPTIONAL],
        responses={200: InitiativeSerializer, **errors(400, 401, 403, 404, 412)},
    )
    @action(detail=True, methods=["post"], filter_backends=[])
    def approve(self, request, reference=None):
        return self._review(request, reference, services.initiative_approve, write=False)

    @extend_schema(
        summary="Return to the group with a reason (staff)",
        request=ReturnSerializer,
        parameters=[IF_MATCH_OPTIONAL],
        responses={200: InitiativeSerializer, **errors(400, 401, 403, 404, 412)},
    )
    @action(detail=True, methods=["post"], url_path="return", filter_backends=[])
    def return_(self, request, reference=None):
        body = ReturnSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        return self._review(
            request,
            reference,
            services.initiative_return,
            write=False,
            reason=body.validated_data["reason"],
        )

    def _framework(self, request, reference, name, model, serializer_class):
        write = request.method in ("PUT", "PATCH")
        initiative = initiative_for(request, reference, write=write)
        framework = model.objects.filter(initiative=initiative).first() or model(
            initiative=initiative
        )
        if not write:
            return with_etag(Response(serializer_class(framework).data), initiative.version)
        if_match_version(request, required=True)
        serializer = serializer_class(
            framework, data=request.data, partial=request.method == "PATCH"
        )
        serializer.is_valid(raise_exception=True)
        expected = check_version(initiative, request, required=True)
        framework = services.framework_save(
            initiative=initiative,
            name=name,
            by=request.user,
            expected_version=expected,
            values=serializer.validated_data,
        )
        return with_etag(Response(serializer_class(framework).data), initiative.version)

    @extend_schema(
        methods=["GET"],
        summary="The accountability framework",
        description="Empty values when none is recorded yet.",
        responses={200: AccountabilitySerializer, **errors(404)},
    )
    @extend_schema(
        methods=["PUT", "PATCH"],
        summary="Record the accountability framework",
        description="Requires If-Match with the initiative's version; bumps it.",
        parameters=[IF_MATCH_REQUIRED],
        request=AccountabilitySerializer,
        responses={200: AccountabilitySerializer, **errors(400, 401, 403, 404, 412, 428)},
    )
    @action(detail=True, methods=["get", "put", "patch"], filter_backends=[])
    def accountability(self, request, reference=None):
        return self._framework(
            request, reference, "accountability", AccountabilityFramework, AccountabilitySerializer
        )

    @extend_schema(
        methods=["GET"],
        summary="The budget framework",
        description="Empty values when none is recorded yet.",
        responses={200: BudgetSerializer, **errors(404)},
    )
    @extend_schema(
        methods=["PUT", "PATCH"],
        summary="Record the budget framework",
        description="Requires If-Match with the initiative's version; bumps it. Amounts need "
        "a currency (ISO 4217).",
        parameters=[IF_MATCH_REQUIRED],
        request=BudgetSerializer,
        responses={200: BudgetSerializer, **errors(400, 401, 403, 404, 412, 428)},
    )
    @action(detail=True, methods=["get", "put", "patch"], filter_backends=[])
    def budget(self, request, reference=None):
        return self._framework(request, reference, "budget", BudgetFramework, BudgetSerializer)
