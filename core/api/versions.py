"""The version lock over HTTP: a record's version is its ETag, `If-Match` names the one read.

A stale `If-Match` answers 412, a missing one 428 where it is required. The lock itself is
a conditional UPDATE in the service that writes (docs/RULES.md); this module only speaks HTTP.
"""

import re
from typing import TYPE_CHECKING, Protocol, TypeVar

from django.http import HttpResponseBase
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiParameter
from rest_framework import exceptions, status
from rest_framework.request import Request

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise

_Response = TypeVar("_Response", bound=HttpResponseBase)


class Versioned(Protocol):
    """A record under the version lock (an initiative)."""

    @property
    def version(self) -> int: ...


class PreconditionRequired(exceptions.APIException):
    status_code = 428
    default_detail = _('Send the If-Match header with the ETag you read, e.g. If-Match: "3".')
    default_code = "precondition_required"


class PreconditionFailed(exceptions.APIException):
    status_code = status.HTTP_412_PRECONDITION_FAILED
    default_detail = _(
        "Someone changed this record since you read it. Read it again, then re-apply your change."
    )
    default_code = "stale"

    def __init__(
        self, current_version: int | None = None, detail: "StrOrPromise | None" = None
    ) -> None:
        super().__init__(detail)
        self.current_version = current_version


_IF_MATCH = re.compile(r'^\s*(?:W/)?"?(\d{1,9})"?\s*$')


def etag(version: int) -> str:
    return f'"{version}"'


def if_match_version(request: Request, *, required: bool) -> int | None:
    """The version the client says it read, from `If-Match`; 428 when required and missing."""
    header = request.headers.get("If-Match")
    if not header:
        if required:
            raise PreconditionRequired()
        return None
    match = _IF_MATCH.match(header)
    if not match:
        raise exceptions.ValidationError(
            {"If-Match": [_('Send the ETag you read, for example "3".')]}
        )
    return int(match[1])


def check_version(initiative: Versioned, request: Request, *, required: bool) -> int | None:
    """Raise 412 when the client's If-Match is not the initiative's current version."""
    expected = if_match_version(request, required=required)
    if expected is not None and expected != initiative.version:
        raise PreconditionFailed(initiative.version)
    return expected


def with_etag(response: _Response, version: int) -> _Response:
    response["ETag"] = etag(version)
    return response


IF_MATCH_SCHEMA = {"type": "string", "pattern": r'^(W/)?"?[0-9]{1,9}"?$'}


IF_MATCH_REQUIRED = OpenApiParameter(
    "If-Match",
    IF_MATCH_SCHEMA,
    OpenApiParameter.HEADER,
    required=True,
    description='The ETag of the initiative as you read it, e.g. `"3"`. 428 when missing, '
    "412 when someone saved since.",
)


IF_MATCH_OPTIONAL = OpenApiParameter(
    "If-Match",
    IF_MATCH_SCHEMA,
    OpenApiParameter.HEADER,
    required=False,
    description='Optional: the ETag of the initiative as you read it, e.g. `"3"`; 412 when stale.',
)
