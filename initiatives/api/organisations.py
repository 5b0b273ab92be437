"""Organisations over the API: everyone reads, their admins and staff change them."""

from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins, permissions, viewsets

from core.api.errors import errors
from core.api.filters import CleanQueryMixin
from core.api.pagination import PagePagination

from .. import rules, services
from ..models import Organisation
from ..serializers import OrganisationSerializer
from .common import ID_REGEX


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
