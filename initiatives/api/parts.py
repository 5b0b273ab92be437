"""The lists kept under one initiative: who does what, the timeline and stage proposals.
Each write goes through a service that claims the initiative's version."""

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import exceptions, mixins, status
from rest_framework.decorators import action
from rest_framework.parsers import JSONParser, MultiPartParser
from rest_framework.response import Response

from core.api.errors import Conflict, errors
from core.api.versions import (
    IF_MATCH_OPTIONAL,
    IF_MATCH_REQUIRED,
    check_version,
    if_match_version,
    with_etag,
)

from .. import services
from ..models import Activity, Participation, StageChange, StageProposal
from ..serializers import (
    ActivitySerializer,
    ParticipationSerializer,
    StageChangeSerializer,
    StageHistoryEntrySerializer,
    StageHistoryRemovalSerializer,
    StageProposalDecisionSerializer,
    StageProposalSerializer,
)
from .common import PARENT_PARAMETER, InitiativePartViewSet


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


@extend_schema(parameters=[PARENT_PARAMETER])
@extend_schema_view(
    list=extend_schema(
        summary="Stage history",
        description="The initiative's stage history in date order, each entry with whether "
        "its date is confirmed by a case officer or only reported by the group. The ETag "
        "is the initiative's version, to send as If-Match when changing the history.",
        responses={200: StageChangeSerializer(many=True), **errors(400, 404)},
    ),
)
class StageHistoryViewSet(InitiativePartViewSet, mixins.ListModelMixin):
    """The stage history as it happened; staff record past changes, correct and remove
    entries (each with a reason, kept in the entry's history) and confirm reported dates."""

    serializer_class = StageChangeSerializer
    queryset = StageChange.objects.none()
    # A history has a handful of entries: the whole of it, in one answer, every time.
    pagination_class = None

    def get_queryset(self):
        return (
            StageChange.objects.filter(initiative=self.parent())
            .select_related("changed_by", "confirmed_by")
            .order_by("changed_on", "changed_at", "pk")
        )

    def list(self, request, *args, **kwargs):
        return with_etag(super().list(request, *args, **kwargs), self.parent().version)

    def _staff_parent(self):
        initiative = self.parent()
        if not self.request.user.has_perm("initiatives.review_case", initiative):
            raise exceptions.PermissionDenied(_("Only staff change the stage history."))
        return initiative

    def _respond(self, initiative, status_code=status.HTTP_200_OK):
        initiative.refresh_from_db(fields=["version"])
        data = self.get_serializer(self.get_queryset(), many=True).data
        return with_etag(Response(data, status=status_code), initiative.version)

    @extend_schema(
        summary="Record a past stage change (staff)",
        description="Inserted in order at its real date; a date after every entry moves the "
        "current stage. Returns the whole history. With If-Match, refused (412) if the "
        "initiative changed since it was read.",
        request=StageHistoryEntrySerializer,
        parameters=[IF_MATCH_OPTIONAL],
        responses={201: StageChangeSerializer(many=True), **errors(400, 401, 403, 404, 412)},
    )
    def create(self, request, initiative_reference=None):
        initiative = self._staff_parent()
        expected = check_version(initiative, request, required=False)
        body = StageHistoryEntrySerializer(data=request.data)
        body.is_valid(raise_exception=True)
        missing = [name for name in ("to_stage", "date") if name not in body.validated_data]
        if missing:
            raise exceptions.ValidationError(
                {name: [_("This field is required.")] for name in missing}
            )
        services.stage_history_record(
            initiative=initiative,
            to_stage=body.validated_data["to_stage"],
            on=body.validated_data["date"],
            by=request.user,
            reason=body.validated_data["reason"],
            expected_version=expected,
        )
        return self._respond(initiative, status.HTTP_201_CREATED)

    @extend_schema(
        summary="Correct an entry's date or stage (staff)",
        description="Requires If-Match with the initiative's version read. The entry keeps "
        "its place: a date past a neighbour's is refused, naming it.",
        request=StageHistoryEntrySerializer,
        parameters=[IF_MATCH_REQUIRED],
        responses={
            200: StageChangeSerializer(many=True),
            **errors(400, 401, 403, 404, 412, 428),
        },
    )
    def partial_update(self, request, initiative_reference=None, pk=None):
        initiative = self._staff_parent()
        # A stale page first: the entry it names may be gone since.
        expected = check_version(initiative, request, required=True)
        entry = self.get_object()
        body = StageHistoryEntrySerializer(data=request.data)
        body.is_valid(raise_exception=True)
        services.stage_history_correct(
            entry=entry,
            by=request.user,
            reason=body.validated_data["reason"],
            on=body.validated_data.get("date"),
            to_stage=body.validated_data.get("to_stage"),
            expected_version=expected,
        )
        return self._respond(initiative)

    @extend_schema(
        summary="Remove a wrong entry (staff)",
        description="Requires If-Match with the initiative's version read.",
        request=StageHistoryRemovalSerializer,
        parameters=[IF_MATCH_REQUIRED],
        responses={
            200: StageChangeSerializer(many=True),
            **errors(400, 401, 403, 404, 412, 428),
        },
    )
    @action(detail=True, methods=["post"])
    def remove(self, request, initiative_reference=None, pk=None):
        initiative = self._staff_parent()
        expected = check_version(initiative, request, required=True)
        entry = self.get_object()
        body = StageHistoryRemovalSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        services.stage_history_remove(
            entry=entry,
            by=request.user,
            reason=body.validated_data["reason"],
            expected_version=expected,
        )
        return self._respond(initiative)

    @extend_schema(
        summary="Confirm the dates the group reported (staff)",
        description="With If-Match, refused (412) if the initiative changed since it was "
        "read. The initiative moves to its next version when dates are confirmed.",
        request=None,
        parameters=[IF_MATCH_OPTIONAL],
        responses={200: StageChangeSerializer(many=True), **errors(401, 403, 404, 412)},
    )
    @action(detail=False, methods=["post"])
    def confirm(self, request, initiative_reference=None):
        initiative = self._staff_parent()
        expected = check_version(initiative, request, required=False)
        services.stage_history_confirm(
            initiative=initiative, by=request.user, expected_version=expected
        )
        return self._respond(initiative)
