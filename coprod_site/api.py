"""Plumbing shared by every API view: authentication, errors, pagination, throttles, ETags.

Imports from the apps are made inside functions, so that `survey.api` can use this module
without depending on `initiatives` (the survey never imports from initiatives).
"""

import hmac
import logging
import re

from django.core.cache import cache
from django.core.exceptions import PermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError, models
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.views.decorators.csrf import csrf_exempt
from django_filters import filters as django_filters_filters
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema_field
from rest_framework import exceptions, serializers, status
from rest_framework.authentication import BaseAuthentication, get_authorization_header
from rest_framework.pagination import CursorPagination, PageNumberPagination
from rest_framework.settings import api_settings
from rest_framework.throttling import AnonRateThrottle, SimpleRateThrottle, UserRateThrottle

security_log = logging.getLogger("coprod.security")

logger = logging.getLogger("coprod.faults")

# Authentication ----------------------------------------------------------------------

# What `ApiToken.issue` hands out: an 8-hex-digit prefix, a dot, and a url-safe secret.
_TOKEN_KEY = re.compile(r"^(?P<prefix>[0-9a-f]{8})\.[A-Za-z0-9_-]{20,100}$")


class TokenAuthentication(BaseAuthentication):
    """`Authorization: Token <key>`: the key is found by its prefix, checked by its hash.

    Two things keep a token from costing more than it should:

    * `last_used_at` is written at most once per `ApiToken.USE_RECORDING_INTERVAL`, and
      not here but after the response (`ApiTokenUseMiddleware`), outside the request's
      transaction: a long request does not hold the token's row, so other requests with
      the same token never queue behind it.
    * Failed attempts are counted per client address in the cache. Past the
      `token_failures` rate the client gets 429 without its key being looked at; the
      security log gets one line for the first failure of a window and one event when
      the limit is reached, never one database row per attempt.
    """

    keyword = "Token"

    def authenticate(self, request):
        header = get_authorization_header(request).split()
        if not header or header[0].lower() != self.keyword.lower().encode():
            return None
        failures = TokenFailures(request)
        failures.refuse_if_over_limit()
        try:
            if len(header) != 2:
                raise exceptions.AuthenticationFailed(
                    _("Give the token after the word Token, with no spaces in it.")
                )
            try:
                key = header[1].decode("ascii")
            except UnicodeError:
                raise exceptions.AuthenticationFailed(_("Invalid token.")) from None
            user, token = self.authenticate_key(key)
        except exceptions.AuthenticationFailed as refusal:
            failures.count(refusal)
            raise
        now = timezone.now()
        if token.use_is_due(now):
            # The Django request outlives DRF's wrapper; the middleware reads it there.
            request._request.coprod_token_use = (token, now)
        return user, token

    def authenticate_key(self, key):
        from initiatives.models import ApiToken

        match = _TOKEN_KEY.match(key)
        token = None
        if match:
            token = ApiToken.objects.select_related("user").filter(prefix=match["prefix"]).first()
        # Compare against a hash even when no token has the prefix, so timing does not
        # tell which prefixes exist.
        expected = token.key_hash if token else ApiToken.hash_key("")
        if not hmac.compare_digest(expected, ApiToken.hash_key(key)) or token is None:
            raise exceptions.AuthenticationFailed(_("Invalid token."))
        if token.revoked_at is not None:
            raise exceptions.AuthenticationFailed(_("This token was revoked."))
        if not token.user.is_active:
            raise exceptions.AuthenticationFailed(_("This account is disabled."))
        return token.user, token

    def authenticate_header(self, request):
        # Makes DRF answer 401 (with WWW-Authenticate) rather than 403 to anonymous clients.
        return self.keyword


class TokenFailures:
    """Failed token attempts from one client address, counted in the shared cache."""

    scope = "token_failures"

    def __init__(self, request):
        self.request = request
        self.address = request.META.get("REMOTE_ADDR") or "unknown"
        self.key = f"coprod:{self.scope}:{self.address}"
        rate = api_settings.DEFAULT_THROTTLE_RATES.get(self.scope)
        self.limit, self.window = SimpleRateThrottle.parse_rate(None, rate)

    def refuse_if_over_limit(self):
        if self.limit is not None and (cache.get(self.key) or 0) >= self.limit:
            raise exceptions.Throttled(
                wait=self.window,
                detail=str(_("Too many invalid tokens from your address. Try again later.")),
            )

    def count(self, refusal):
        if self.limit is None:
            return
        cache.add(self.key, 0, timeout=self.window)
        try:
            failures = cache.incr(self.key)
        except ValueError:  # expired between add and incr
            cache.set(self.key, 1, timeout=self.window)
            failures = 1
        if failures == 1:
            security_log.warning(
                "invalid API token from %s on %s %s: %s",
                self.address,
                self.request.method,
                self.request.path,
                refusal.detail,
            )
        elif failures == self.limit:
            detail = (
                f"{failures} invalid API tokens in {self.window} s; "
                "further attempts refused until the window ends"
            )
            security_log.warning("API token attempts from %s throttled: %s", self.address, detail)
            # Recorded after the response, outside the request's transaction.
            self.request._request.coprod_security_event = ("rate_limited", detail)


class TokenAuthenticationScheme(OpenApiAuthenticationExtension):
    target_class = "coprod_site.api.TokenAuthentication"
    name = "tokenAuth"

    def get_security_definition(self, auto_schema):
        return {
            "type": "apiKey",
            "in": "header",
            "name": "Authorization",
            "description": (
                "A personal token from your account page, sent as `Authorization: Token <key>`."
            ),
        }


# Errors ------------------------------------------------------------------------------


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

    def __init__(self, current_version=None, detail=None):
        super().__init__(detail)
        self.current_version = current_version


class Conflict(exceptions.APIException):
    status_code = status.HTTP_409_CONFLICT
    default_detail = _("The request conflicts with the current state of the record.")
    default_code = "conflict"


_CODES = {
    400: "validation_error",
    401: "not_authenticated",
    403: "permission_denied",
    404: "not_found",
    405: "method_not_allowed",
    406: "not_acceptable",
    409: "conflict",
    412: "stale",
    413: "too_large",
    415: "unsupported_media_type",
    428: "precondition_required",
    429: "throttled",
}


def _first_message(details):
    """The first human message in a DRF error structure, for the top-level `message`."""
    if isinstance(details, dict):
        for value in details.values():
            found = _first_message(value)
            if found:
                return found
        return ""
    if isinstance(details, list):
        for value in details:
            found = _first_message(value)
            if found:
                return found
        return ""
    return str(details)


def _django_validation_details(exc):
    if hasattr(exc, "error_dict"):
        return {
            (api_settings.NON_FIELD_ERRORS_KEY if field == "__all__" else field): messages
            for field, messages in exc.message_dict.items()
        }
    return {api_settings.NON_FIELD_ERRORS_KEY: exc.messages}


def exception_handler(exc, context):
    """Every error as `{"code", "message", "details"}`, whatever raised it."""
    from rest_framework.views import exception_handler as drf_exception_handler

    from initiatives.services import StaleEdit

    from .middleware import concurrent_conflict

    if isinstance(exc, StaleEdit):
        exc = PreconditionFailed(exc.current_version)
    elif isinstance(exc, IntegrityError) or concurrent_conflict(exc):
        # A unique row that a concurrent request wrote first, or a clash with it: the
        # request is refused whole (its transaction is rolled back) and may be retried.
        logger.warning("conflict: %s", exc)
        exc = Conflict(
            _(
                "Another request changed the same records at the same moment; nothing was "
                "saved. Read the record again and retry."
            )
        )
    elif isinstance(exc, DjangoValidationError):
        exc = exceptions.ValidationError(_django_validation_details(exc))
    elif isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, PermissionDenied):
        # A domain refusal says why. (Python's PermissionError is an OS error, such as an
        # unreadable file: it is not handled here, and answers as a server error that names
        # no path.)
        exc = exceptions.PermissionDenied(str(exc) or None)

    response = drf_exception_handler(exc, context)
    if response is None:
        return None

    if isinstance(exc, exceptions.AuthenticationFailed):
        code = "authentication_failed"
    elif isinstance(exc, exceptions.ParseError):
        code = "parse_error"
    else:
        code = _CODES.get(response.status_code, "error")

    if isinstance(exc, exceptions.ValidationError):
        details = (
            exc.detail
            if isinstance(exc.detail, dict)
            else {api_settings.NON_FIELD_ERRORS_KEY: exc.detail}
        )
        message = _first_message(details) or str(_("Check the values you sent."))
        body = {"code": code, "message": message, "details": details}
    else:
        body = {"code": code, "message": _first_message(exc.detail), "details": {}}

    if isinstance(exc, PreconditionFailed) and exc.current_version is not None:
        response["ETag"] = etag(exc.current_version)
        body["details"] = {"current_version": exc.current_version}
    response.data = body
    return response


class ErrorSerializer(serializers.Serializer):
    """The shape of every error the API returns."""

    code = serializers.CharField(
        help_text=(
            "Stable machine-readable code: validation_error, parse_error, not_authenticated, "
            "authentication_failed, permission_denied, not_found, method_not_allowed, "
            "not_acceptable, conflict, stale, unsupported_media_type, precondition_required, "
            "throttled."
        )
    )
    message = serializers.CharField(help_text="A sentence for people, in the request's language.")
    details = serializers.DictField(
        help_text=(
            "For validation errors, the messages per field (`non_field_errors` for the whole "
            "request); for 412, `current_version`; otherwise empty."
        )
    )


def error(description):
    return OpenApiResponse(ErrorSerializer, description=description)


ERRORS = {
    400: error("Invalid input: wrong types, unknown codes, overlong or malformed values."),
    401: error("Authentication is required, or the token is invalid or revoked."),
    403: error("Signed in, but not allowed to do this."),
    404: error("No such record, or one you may not see."),
    409: error("The request conflicts with the record's current state."),
    412: error("The If-Match version is stale; the current ETag is in the response headers."),
    428: error("If-Match is required for this request."),
}


def errors(*codes):
    """The documented error responses of an operation; 401 and 429-free by design."""
    return {code: ERRORS[code] for code in codes}


_EVERYWHERE = {
    "401": "The token is invalid or revoked (any endpoint), or authentication is required.",
    "429": "Too many requests; try again after the `Retry-After` seconds.",
}


def complete_schema(result, generator, request, public):
    """Finish the generated schema: what every operation may answer, and every enum described.

    Any request can carry a bad token (401) or exceed its rate (429), so those two answers
    are added to every operation rather than repeated by hand on each view.
    """
    error = {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}
    for operations in result.get("paths", {}).values():
        for operation in operations.values():
            responses = operation.setdefault("responses", {})
            for code, description in _EVERYWHERE.items():
                responses.setdefault(code, {"content": error, "description": description})
    for name, text in (("BlankEnum", "An empty string: no value."), ("NullEnum", "No value.")):
        component = result.get("components", {}).get("schemas", {}).get(name)
        if component is not None:
            component.setdefault("description", text)
    return result


# Strict fields -----------------------------------------------------------------------
# DRF quietly turns 0 into False and 42 into "42". A program that sends the wrong type has
# a bug worth hearing about, so JSON bodies must carry the types the schema gives.


class StrictCharField(serializers.CharField):
    default_error_messages = {"invalid": _("Send text (a JSON string).")}

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)


class StrictBooleanField(serializers.BooleanField):
    default_error_messages = {"invalid": _("Send true or false.")}

    def to_internal_value(self, data):
        if not isinstance(data, bool):
            self.fail("invalid")
        return data


class StrictIntegerField(serializers.IntegerField):
    default_error_messages = {"invalid": _("Send a whole number (a JSON number).")}

    def to_internal_value(self, data):
        if isinstance(data, bool) or not isinstance(data, int):
            self.fail("invalid")
        return super().to_internal_value(data)


class StrictPrimaryKeyRelatedField(serializers.PrimaryKeyRelatedField):
    def to_internal_value(self, data):
        if isinstance(data, bool) or not isinstance(data, int):
            self.fail("incorrect_type", data_type=type(data).__name__)
        return super().to_internal_value(data)


class StrictSlugRelatedField(serializers.SlugRelatedField):
    """A code: text without NUL bytes (PostgreSQL cannot even compare those)."""

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("invalid")
        if "\x00" in data:
            raise serializers.ValidationError(_("Null characters are not allowed."))
        return super().to_internal_value(data)


@extend_schema_field(
    {
        "oneOf": [{"type": "string", "format": "decimal"}, {"type": "number"}],
        "description": 'A decimal amount, as a string ("1250.50", as it is returned) or a number.',
    }
)
class AmountField(serializers.DecimalField):
    """Decimals are returned as strings (exact); a number is accepted too, as documented."""

    def to_internal_value(self, data):
        if isinstance(data, bool) or not isinstance(data, str | int | float):
            self.fail("invalid")
        return super().to_internal_value(data)


class StrictModelSerializer(serializers.ModelSerializer):
    serializer_field_mapping = {
        **serializers.ModelSerializer.serializer_field_mapping,
        models.CharField: StrictCharField,
        models.TextField: StrictCharField,
        models.BooleanField: StrictBooleanField,
        models.DecimalField: AmountField,
        models.IntegerField: StrictIntegerField,
        models.PositiveIntegerField: StrictIntegerField,
        models.PositiveSmallIntegerField: StrictIntegerField,
    }
    serializer_related_field = StrictPrimaryKeyRelatedField


# Pagination --------------------------------------------------------------------------


class _StrictPageSize:
    """A `page_size` that is not a whole number from 1 up is an error, not silently ignored."""

    def get_page_size(self, request):
        values = request.query_params.getlist(self.page_size_query_param)
        if not values:
            return self.page_size
        if len(values) > 1 or not values[0].isdigit() or int(values[0]) < 1:
            raise exceptions.ValidationError(
                {self.page_size_query_param: [_("Give one whole number from 1 up.")]}
            )
        return min(int(values[0]), self.max_page_size)


class PagePagination(_StrictPageSize, PageNumberPagination):
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 500

    def get_page_number(self, request, paginator):
        values = request.query_params.getlist(self.page_query_param)
        if not values:
            return 1
        if len(values) > 1 or not (values[0].isdigit() or values[0] in self.last_page_strings):
            raise exceptions.ValidationError(
                {self.page_query_param: [_("Give one page number from 1 up, or “last”.")]}
            )
        if values[0] in self.last_page_strings:
            return paginator.num_pages
        return values[0]


class ResponseCursorPagination(_StrictPageSize, CursorPagination):
    """Cursor pagination: a deep page costs the same as the first (keyset, no OFFSET)."""

    page_size = 100
    page_size_query_param = "page_size"
    max_page_size = 1000
    ordering = "pk"

    def decode_cursor(self, request):
        """A cursor is only ever one this API handed out; anything else is the client's error.

        DRF checks the cursor's shape but not its position, which for `pk` ordering must be a
        whole number: a crafted position would otherwise reach the database as a bad value.
        """
        invalid = exceptions.ValidationError(
            {
                self.cursor_query_param: [
                    _(
                        "This cursor is not one the API gave out. Start again "
                        "from the first page and follow the “next” links."
                    )
                ]
            }
        )
        try:
            cursor = super().decode_cursor(request)
        except exceptions.NotFound:
            raise invalid from None
        if cursor is not None and cursor.position is not None and not cursor.position.isdigit():
            raise invalid
        return cursor


# Throttles ---------------------------------------------------------------------------


class _SettingsRate:
    """Read the rate when used, not at import, so that a settings change applies."""

    def get_rate(self):
        try:
            return api_settings.DEFAULT_THROTTLE_RATES[self.scope]
        except KeyError:
            return None


class AnonThrottle(_SettingsRate, AnonRateThrottle):
    """Anonymous clients, per address (rate: `API_THROTTLE_ANON`)."""


class TokenOrUserThrottle(_SettingsRate, UserRateThrottle):
    """Signed-in clients, per token when one is used, else per user (`API_THROTTLE_USER`)."""

    def get_cache_key(self, request, view):
        if not request.user or not request.user.is_authenticated:
            return None
        token = getattr(request.auth, "prefix", None)
        ident = f"token-{token}" if token else f"user-{request.user.pk}"
        return self.cache_format % {"scope": self.scope, "ident": ident}


# Input hygiene -----------------------------------------------------------------------


class CleanQueryMixin:
    """Refuse query strings with NUL bytes before they reach a database that rejects them."""

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        for key, values in request.query_params.lists():
            if "\x00" in key or any("\x00" in value for value in values):
                raise exceptions.ValidationError(
                    {key.replace("\x00", ""): [_("Null characters are not allowed.")]}
                )


_BOOLEANS = {"true", "false"}


class StrictFilterBackend(DjangoFilterBackend):
    """django-filter, refusing what its forms would quietly ignore.

    A single-valued filter given twice, or a yes/no filter given something else than
    `true`/`false`, is a 400 rather than an unfiltered list that looks like an answer.
    """

    def get_filterset(self, request, queryset, view):
        filterset_class = self.get_filterset_class(view, queryset)
        if filterset_class is not None:
            problems = {}
            for name, declared in filterset_class.base_filters.items():
                values = request.query_params.getlist(name)
                multiple = isinstance(
                    declared,
                    django_filters_filters.MultipleChoiceFilter
                    | django_filters_filters.ModelMultipleChoiceFilter,
                )
                if len(values) > 1 and not multiple:
                    problems[name] = [_("Give this filter once.")]
                elif isinstance(declared, django_filters_filters.BooleanFilter) and any(
                    value not in _BOOLEANS for value in values
                ):
                    problems[name] = [_("Use true or false.")]
            if problems:
                raise exceptions.ValidationError(problems)
        return super().get_filterset(request, queryset, view)


# ETags -------------------------------------------------------------------------------

_IF_MATCH = re.compile(r'^\s*(?:W/)?"?(\d{1,9})"?\s*$')


def etag(version):
    return f'"{version}"'


def if_match_version(request, *, required):
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


def check_version(initiative, request, *, required):
    """Raise 412 when the client's If-Match is not the initiative's current version."""
    expected = if_match_version(request, required=required)
    if expected is not None and expected != initiative.version:
        raise PreconditionFailed(initiative.version)
    return expected


def with_etag(response, version):
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


class CacheControlMixin:
    """Add `Cache-Control: max-age` to successful reads of slow-changing data."""

    cache_max_age = 3600

    def finalize_response(self, request, response, *args, **kwargs):
        response = super().finalize_response(request, response, *args, **kwargs)
        if request.method in ("GET", "HEAD") and response.status_code == 200:
            response["Cache-Control"] = f"public, max-age={self.cache_max_age}"
        return response


@csrf_exempt  # nothing is changed; a JSON 404 must not turn into the CSRF HTML page
def not_found(request, *args, **kwargs):
    """A JSON 404 for any URL under /api/ that no endpoint matches."""
    from django.http import JsonResponse

    return JsonResponse(
        {"code": "not_found", "message": str(_("No such endpoint or record.")), "details": {}},
        status=404,
    )
