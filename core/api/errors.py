"""Every API error as `{"code", "message", "details"}`, and the documented error answers."""

import logging
from typing import Any

from django.core.exceptions import PermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError
from django.http import Http404, HttpRequest, JsonResponse
from django.utils.translation import gettext_lazy as _
from django.views.decorators.csrf import csrf_exempt
from drf_spectacular.utils import OpenApiResponse
from rest_framework import exceptions, serializers, status
from rest_framework.response import Response
from rest_framework.settings import api_settings
from rest_framework.views import exception_handler as drf_exception_handler

from core.dberrors import concurrent_conflict
from core.locking import StaleEdit

from .versions import PreconditionFailed, etag

logger = logging.getLogger("coprod.faults")


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


def _first_message(details: object) -> str:
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


def _django_validation_details(exc: DjangoValidationError) -> dict[str, list[str]]:
    if hasattr(exc, "error_dict"):
        return {
            (api_settings.NON_FIELD_ERRORS_KEY if field == "__all__" else field): messages
            for field, messages in exc.message_dict.items()
        }
    return {api_settings.NON_FIELD_ERRORS_KEY: exc.messages}


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """Every error as `{"code", "message", "details"}`, whatever raised it."""
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
    # DRF answers only its own exceptions (the Django ones became those above).
    if response is None or not isinstance(exc, exceptions.APIException):
        return response

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


def error(description: str) -> OpenApiResponse:
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


def errors(*codes: int) -> dict[int, OpenApiResponse]:
    """The documented error responses of an operation; 401 and 429-free by design."""
    return {code: ERRORS[code] for code in codes}


@csrf_exempt  # nothing is changed; a JSON 404 must not turn into the CSRF HTML page
def not_found(request: HttpRequest, *args: Any, **kwargs: Any) -> JsonResponse:
    """A JSON 404 for any URL under /api/ that no endpoint matches."""
    return JsonResponse(
        {"code": "not_found", "message": str(_("No such endpoint or record.")), "details": {}},
        status=404,
    )
