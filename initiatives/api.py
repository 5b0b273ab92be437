"""Initiatives, their parts, their workflows and their history, over the API.

Reading follows `Initiative.objects.visible_to` (others' drafts are 404), writing follows
`editable_by` (403 for a visible record one may not change); every change goes through
`services`, so the rules are the same as on the site and in the admin.
"""

import datetime

from django.db.models import Q
from django.http import Http404
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_view,
)
from rest_framework import exceptions, mixins, permissions, status, viewsets
from rest_framework.decorators import action
from rest_framework.parsers import JSONParser, MultiPartParser
from rest_framework.response import Response

from coprod_site.api import (
    IF_MATCH_OPTIONAL,
    IF_MATCH_REQUIRED,
    CleanQueryMixin,
    Conflict,
    PagePagination,
    StrictFilterBackend,
    check_version,
    errors,
    if_match_version,
    with_etag,
)

from . import rules, services
from .filters import InitiativeFilterSet
from .models import (
    AccountabilityFramework,
    Activity,
    BudgetFramework,
    Initiative,
    Organisation,
    Participation,
    Stage,
    StageProposal,
)
from .serializers import (
    TAG_FIELDS,
    AccountabilitySerializer,
    ActivitySerializer,
    BudgetSerializer,
    HistoryRecordSerializer,
    InitiativeSerializer,
    OrganisationSerializer,
    ParticipationSerializer,
    ReturnSerializer,
    StageChangeRequestSerializer,
    StageChangeSerializer,
    StageProposalDecisionSerializer,
    StageProposalSerializer,
)

REFERENCE_REGEX = r"[A-Za-z0-9-]{1,20}"
ID_REGEX = r"[0-9]{1,18}"

ETAG = OpenApiParameter(
    "ETag",
    str,
    OpenApiParameter.HEADER,
    response=[200, 201, 412],
    description='The initiative\'s current version, e.g. `"3"`: send it back in If-Match.',
)
PARENT_PARAMETER = OpenApiParameter(
    "initiative_reference",
    str,
    OpenApiParameter.PATH,
    description="The initiative's reference, e.g. `COP-2026-0042`.",
)


def initiative_for(request, reference, *, write):
    """The initiative the user may see (404 otherwise); 403 when writing is not theirs."""
    initiative = get_object_or_404(Initiative.objects.visible_to(request.user), reference=reference)
    if write and not Initiative.objects.editable_by(request.user).filter(pk=initiative.pk).exists():
        raise exceptions.PermissionDenied(
            _("Only members of the owner organisation and staff change this initiative.")
        )
    return initiative


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
            .prefetch_related(*TAG_FIELDS)
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
        fields, tags = serializer.split()
        stage = fields.pop("stage", Stage.PLANNED)
        initiative = services.initiative_create(by=request.user, stage=stage, tags=tags, **fields)
        return self._respond(initiative, status.HTTP_201_CREATED)

    def update(self, request, reference=None, partial=False):
        initiative = initiative_for(request, reference, write=True)
        if_match_version(request, required=True)
        serializer = self.get_serializer(initiative, data=request.data, partial=partial)
        serializer.is_valid(raise_exception=True)
        expected = check_version(initiative, request, required=True)
        fields, tags = serializer.split()
        fields.pop("stage", None)
        services.initiative_update(
            initiative=initiative,
            by=request.user,
            expected_version=expected,
            fields=fields,
            tags=tags,
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
            "proposal); `date` is then ignored."
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
        check_version(initiative, request, required=False)
        to_stage, reason = body.validated_data["to_stage"], body.validated_data["reason"]
        if request.user.has_perm("initiatives.review_case", initiative):
            change = services.initiative_change_stage(
                initiative=initiative,
                to_stage=to_stage,
                by=request.user,
                reason=reason,
                on=body.validated_data.get("date"),
            )
            response = Response(
                StageChangeSerializer(change, context={"request": request}).data, status=201
            )
            return with_etag(response, change.initiative.version)
        proposal = services.stage_proposal_create(
            initiative=initiative, to_stage=to_stage, by=request.user, reason=reason
        )
        return Response(
            StageProposalSerializer(proposal, context={"request": request}).data, status=202
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


class InitiativePartViewSet(CleanQueryMixin, viewsets.GenericViewSet):
    """A list kept under one initiative; writing it bumps the initiative's version."""

    pagination_class = PagePagination
    filter_backends = []
    lookup_value_regex = ID_REGEX

    #: Only for the owner group and staff (`initiatives.read_case_privately`); for anyone
    #: else the list does not exist (404), as a draft does not for the public.
    private = False

    def parent(self, *, write=False):
        if not hasattr(self, "_parent"):
            initiative = initiative_for(
                self.request, self.kwargs["initiative_reference"], write=write
            )
            if self.private and not self.request.user.has_perm(
                "initiatives.read_case_privately", initiative
            ):
                raise Http404
            self._parent = initiative
        return self._parent


@extend_schema(parameters=[PARENT_PARAMETER])
@extend_schema_view(
    list=extend_schema(
        summary="Who does what",
        description="The partners taking part in each phase, with their level.",
        responses={200: ParticipationSerializer(many=True), **errors(400, 404)},
    ),
    retrieve=extend_schema(
        summary="One participation", responses={200: ParticipationSerializer, **errors(404)}
    ),
    create=extend_schema(
        summary="Add a partner to a phase",
        description="One row per phase and partner type (409 when it exists).",
        parameters=[IF_MATCH_OPTIONAL],
        responses={201: ParticipationSerializer, **errors(400, 401, 403, 404, 409, 412)},
    ),
    update=extend_schema(
        summary="Replace a participation",
        parameters=[IF_MATCH_REQUIRED],
        responses={200: ParticipationSerializer, **errors(400, 401, 403, 404, 409, 412, 428)},
    ),
    partial_update=extend_schema(
        summary="Change a participation",
        parameters=[IF_MATCH_REQUIRED],
        responses={200: ParticipationSerializer, **errors(400, 401, 403, 404, 409, 412, 428)},
    ),
    destroy=extend_schema(
        summary="Remove a participation",
        parameters=[IF_MATCH_OPTIONAL],
        responses={204: OpenApiResponse(description="Removed."), **errors(401, 403, 404, 412)},
    ),
)
class ParticipationViewSet(
    InitiativePartViewSet,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    mixins.DestroyModelMixin,
):
    serializer_class = ParticipationSerializer
    queryset = Participation.objects.none()

    def get_queryset(self):
        return Participation.objects.filter(initiative=self.parent()).order_by("phase", "pk")

    def _written(self, response):
        return with_etag(response, self.parent().version)

    def create(self, request, initiative_reference=None):
        parent = self.parent(write=True)
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        expected = check_version(parent, request, required=False)
        try:
            serializer.instance = services.participation_create(
                initiative=parent, by=request.user, expected_version=expected,
                **serializer.validated_data,
            )  # fmt: skip
        except services.CellTaken as taken:
            raise Conflict(taken.messages[0]) from None
        return self._written(Response(serializer.data, status=status.HTTP_201_CREATED))

    def update(self, request, initiative_reference=None, pk=None, partial=False):
        parent = self.parent(write=True)
        if_match_version(request, required=True)
        serializer = self.get_serializer(self.get_object(), data=request.data, partial=partial)
        serializer.is_valid(raise_exception=True)
        expected = check_version(parent, request, required=True)
        serializer.instance.initiative = parent
        try:
            serializer.instance = services.participation_update(
                participation=serializer.instance, by=request.user, expected_version=expected,
                **serializer.validated_data,
            )  # fmt: skip
        except services.CellTaken as taken:
            raise Conflict(taken.messages[0]) from None
        return self._written(Response(serializer.data))

    def destroy(self, request, initiative_reference=None, pk=None):
        parent = self.parent(write=True)
        expected = check_version(parent, request, required=False)
        participation = self.get_object()
        participation.initiative = parent
        services.participation_delete(
            participation=participation, by=request.user, expected_version=expected
        )
        return self._written(Response(status=status.HTTP_204_NO_CONTENT))


@extend_schema(parameters=[PARENT_PARAMETER])
@extend_schema_view(
    list=extend_schema(
        summary="The case timeline",
        description="Notes, meetings, documents, stage changes and review decisions, in date "
        "order.",
        responses={200: ActivitySerializer(many=True), **errors(400, 404)},
    ),
    retrieve=extend_schema(
        summary="One timeline entry", responses={200: ActivitySerializer, **errors(404)}
    ),
    create=extend_schema(
        summary="Add a timeline entry",
        description="A note, meeting, document (multipart, with `file`) or contact.",
        parameters=[IF_MATCH_OPTIONAL],
        responses={201: ActivitySerializer, **errors(400, 401, 403, 404, 412)},
    ),
)
class ActivityViewSet(
    InitiativePartViewSet,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
):
    serializer_class = ActivitySerializer
    parser_classes = [JSONParser, MultiPartParser]
    queryset = Activity.objects.none()

    def get_queryset(self):
        return (
            Activity.objects.visible_to(self.request.user, self.parent())
            .select_related("author")
            .order_by("date", "created_at", "pk")
        )

    def create(self, request, initiative_reference=None):
        parent = self.parent()
        if not request.user.has_perm("initiatives.add_timeline_entry", parent):
            raise exceptions.PermissionDenied(
                _("Only members of the owner organisation and staff add entries.")
            )
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        expected = check_version(parent, request, required=False)
        serializer.instance = services.activity_create(
            initiative=parent,
            by=request.user,
            expected_version=expected,
            **serializer.validated_data,
        )
        response = Response(serializer.data, status=status.HTTP_201_CREATED)
        return with_etag(response, parent.version)


@extend_schema(parameters=[PARENT_PARAMETER])
@extend_schema_view(
    list=extend_schema(
        summary="Stage proposals",
        description="Stage changes the group proposed (`POST .../stage/` by a member), newest "
        "first, open or decided. Case officers confirm or decline them with `decide/`. For the "
        "owner organisation's members and staff; 404 for everyone else.",
        responses={200: StageProposalSerializer(many=True), **errors(400, 404)},
    ),
)
class StageProposalViewSet(InitiativePartViewSet, mixins.ListModelMixin):
    serializer_class = StageProposalSerializer
    private = True
    queryset = StageProposal.objects.none()

    def get_queryset(self):
        return (
            StageProposal.objects.filter(initiative=self.parent())
            .select_related("proposed_by", "decided_by")
            .order_by("-proposed_at", "-pk")
        )

    @extend_schema(
        summary="Confirm or decline a stage proposal (staff)",
        description="Accepting changes the initiative's stage, writing the stage history and "
        "the timeline as a direct change would; declining leaves the stage as it is. A "
        "proposal is decided once: deciding it again is a 400.",
        request=StageProposalDecisionSerializer,
        responses={200: StageProposalSerializer, **errors(400, 401, 403, 404)},
    )
    @action(detail=True, methods=["post"])
    def decide(self, request, initiative_reference=None, pk=None):
        self.parent()  # someone else's draft is 404 before it is 403
        proposal = self.get_object()
        if not request.user.has_perm("initiatives.review_case", proposal.initiative):
            raise exceptions.PermissionDenied(_("Only staff decide stage proposals."))
        body = StageProposalDecisionSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        proposal = services.stage_proposal_decide(
            proposal=proposal,
            by=request.user,
            accept=body.validated_data["accept"],
            note=body.validated_data["note"],
        )
        return Response(self.get_serializer(self.get_queryset().get(pk=proposal.pk)).data)


def _history_through_models():
    """The tables where simple-history keeps each historical record's tag lists."""
    history = Initiative.history.model
    models = {}
    for field in TAG_FIELDS:
        relation = history._meta.get_field(f"historicalinitiative_{field}")
        models[field] = relation.related_model
    return models


_HISTORY_TYPES = {"+": "created", "~": "changed", "-": "deleted"}
_HISTORY_META = {
    "id",
    "history_id",
    "history_date",
    "history_change_reason",
    "history_type",
    "history_user",
    "updated_at",
    "updated_by",
}


def _plain(value):
    if isinstance(value, datetime.date | datetime.datetime):
        return value.isoformat()
    return value


def _snapshot(record, tags):
    values = {
        field.name: _plain(getattr(record, field.attname))
        for field in record._meta.fields
        if field.name not in _HISTORY_META
    }
    for field in TAG_FIELDS:
        values[field] = sorted(tags[field].get(record.history_id, []))
    return values


@extend_schema(parameters=[PARENT_PARAMETER])
@extend_schema_view(
    list=extend_schema(
        summary="The audit trail",
        description="Every saved version of the initiative, newest first: who, when, and "
        "which fields changed from the version before (with old and new values). For the "
        "owner organisation's members and staff; 404 for everyone else.",
        responses={200: HistoryRecordSerializer(many=True), **errors(400, 404)},
    ),
)
class HistoryViewSet(InitiativePartViewSet, mixins.ListModelMixin):
    serializer_class = HistoryRecordSerializer
    private = True
    queryset = Initiative.history.none()

    def get_queryset(self):
        return (
            Initiative.history.filter(id=self.parent().pk)
            .select_related("history_user")
            .order_by("-history_date", "-history_id")
        )

    def list(self, request, initiative_reference=None):
        page = list(self.paginate_queryset(self.get_queryset()))
        before = None
        if page:
            oldest = page[-1]
            before = (
                self.get_queryset()
                .filter(
                    Q(history_date__lt=oldest.history_date)
                    | Q(history_date=oldest.history_date, history_id__lt=oldest.history_id)
                )
                .first()
            )
        records = page + ([before] if before else [])
        ids = [record.history_id for record in records]
        tags = {}
        for field, through in _history_through_models().items():
            tags[field] = {}
            for history_id, code in through.objects.filter(history_id__in=ids).values_list(
                "history_id", "item__code"
            ):
                tags[field].setdefault(history_id, []).append(code)
        snapshots = [_snapshot(record, tags) for record in records]
        shows_people = rules.sees_people(request.user, self.parent())
        rows = []
        for index, record in enumerate(page):
            new = snapshots[index]
            old = snapshots[index + 1] if index + 1 < len(snapshots) else {}
            changes = [
                {"field": name, "old": old.get(name), "new": value}
                for name, value in new.items()
                if old.get(name) != value and (old or value not in (None, "", []))
            ]
            rows.append(
                {
                    "history_id": record.history_id,
                    "history_date": record.history_date,
                    "type": _HISTORY_TYPES.get(record.history_type, "changed"),
                    "user": record.history_user.username
                    if record.history_user and shows_people
                    else None,
                    "changes": changes,
                }
            )
        return self.get_paginated_response(self.get_serializer(rows, many=True).data)


class OrganisationPermission(permissions.BasePermission):
    """Everyone reads; the organisation's active admins and staff who change organisations
    edit it (`initiatives.manage_organisation`)."""

    def has_object_permission(self, request, view, organisation):
        if request.method in permissions.SAFE_METHODS:
            return True
        return request.user.has_perm("initiatives.manage_organisation", organisation)


@extend_schema_view(
    list=extend_schema(
        summary="List organisations",
        description="Contact details are shown to staff and the organisation's members only.",
        responses={200: OrganisationSerializer(many=True), **errors(400, 404)},
    ),
    retrieve=extend_schema(
        summary="One organisation", responses={200: OrganisationSerializer, **errors(404)}
    ),
    create=extend_schema(
        summary="Create an organisation",
        description="Any signed-in user; they become its active admin, as on the site. "
        "Names are unique (400 when taken); only staff set `verified`.",
        responses={201: OrganisationSerializer, **errors(400, 401, 403)},
    ),
    update=extend_schema(
        summary="Replace an organisation's details (its admins, staff)",
        responses={200: OrganisationSerializer, **errors(400, 401, 403, 404)},
    ),
    partial_update=extend_schema(
        summary="Change an organisation's details (its admins, staff)",
        responses={200: OrganisationSerializer, **errors(400, 401, 403, 404)},
    ),
)
class OrganisationViewSet(
    CleanQueryMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    serializer_class = OrganisationSerializer
    pagination_class = PagePagination
    permission_classes = [permissions.IsAuthenticatedOrReadOnly, OrganisationPermission]
    filter_backends = []
    queryset = Organisation.objects.select_related("country").order_by("name", "pk")
    lookup_value_regex = ID_REGEX

    def get_serializer_context(self):
        context = super().get_serializer_context()
        if getattr(self, "request", None) is not None:
            context["member_of"] = rules.active_organisation_ids(self.request.user)
        return context

    def perform_create(self, serializer):
        serializer.instance = services.organisation_create(
            by=self.request.user, **serializer.validated_data
        )
        # The creator is now a member, so the answer shows them the contact details.
        serializer.context["member_of"] = {
            *serializer.context.get("member_of", ()),
            serializer.instance.pk,
        }

    def perform_update(self, serializer):
        serializer.instance = services.organisation_update(
            organisation=serializer.instance,
            by=self.request.user,
            fields=serializer.validated_data,
        )
