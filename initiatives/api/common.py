"""What every endpoint of the initiatives' API shares: the path parameters, the initiative
looked up with the caller's rights, and the base of the lists kept under one initiative."""

from django.http import Http404
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiParameter
from rest_framework import exceptions, viewsets

from core.api.filters import CleanQueryMixin
from core.api.pagination import PagePagination

from ..models import Initiative

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
    initiative = get_object_or_404(
        Initiative.objects.visible_to(request.user).with_editable(request.user),
        reference=reference,
    )
    if write and not initiative.editable:
        raise exceptions.PermissionDenied(
            _("Only members of the owner organisation and staff change this initiative.")
        )
    return initiative


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
