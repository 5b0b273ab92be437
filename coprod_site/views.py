from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.db import DatabaseError, connection, transaction
from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import render
from django.template import loader
from django.utils.crypto import constant_time_compare
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy
from django.views import defaults
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET
from django.views.decorators.vary import vary_on_headers


@never_cache
@require_GET
# Outside the per-request transaction, whose opening would fail first when the
# database is down, so that this view can answer in JSON itself.
@transaction.non_atomic_requests
def healthz(request):
    """200 when the database answers a query, 503 when it does not."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except DatabaseError:
        return JsonResponse({"status": "unavailable", "database": "down"}, status=503)
    return JsonResponse({"status": "ok", "database": "up"})


@never_cache
@require_GET
@transaction.non_atomic_requests
def metrics(request):
    """Prometheus metrics (core/metrics.py), for the bearer of METRICS_TOKEN only:
    404 when no token is set, 401 without the right one."""
    token = settings.METRICS_TOKEN
    if not token:
        raise Http404
    scheme, _sep, given = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not constant_time_compare(given.strip(), token):
        response = HttpResponse("Unauthorized\n", status=401, content_type="text/plain")
        response["WWW-Authenticate"] = 'Bearer realm="metrics"'
        return response
    from django_prometheus.exports import ExportToDjangoView

    return ExportToDjangoView(request)


def bad_request(request, exception, template_name="400.html"):
    """The 400 handler: the API's JSON error shape under /api/, and 413 for a body too big.

    Django refuses a request body over `DATA_UPLOAD_MAX_MEMORY_SIZE` before any view runs,
    so the API's own exception handler never sees it; this is where it gets its answer.
    """
    too_big = isinstance(exception, RequestDataTooBig)
    limit_mb = f"{settings.DATA_UPLOAD_MAX_MEMORY_SIZE / (1024 * 1024):g}"
    if request.path.startswith("/api/"):
        if too_big:
            body = {
                "code": "too_large",
                "message": _("The request body is larger than %(limit)s MB.") % {"limit": limit_mb},
                "details": {"limit_bytes": settings.DATA_UPLOAD_MAX_MEMORY_SIZE},
            }
            return JsonResponse(body, status=413)
        body = {
            "code": "bad_request",
            "message": _("The request could not be read."),
            "details": {},
        }
        return JsonResponse(body, status=400)
    if too_big:
        page = loader.get_template("413.html").render({"limit_mb": limit_mb}, request)
        return HttpResponse(page, status=413)
    return defaults.bad_request(request, exception, template_name)


#: The API's entry points, as the index at /api/ lists them (the docs have every detail).
API_ENDPOINTS = (
    ("initiatives/", _lazy("Initiatives: list, filter, read; create and edit with a token.")),
    (
        "initiatives/{reference}/participations/",
        _lazy("Who takes part in an initiative, in which phase and how."),
    ),
    ("initiatives/{reference}/activities/", _lazy("An initiative's activity log.")),
    ("initiatives/{reference}/history/", _lazy("An initiative's recorded changes.")),
    ("initiatives/{reference}/proposals/", _lazy("Proposed changes of maturity stage.")),
    ("organisations/", _lazy("Organisations that record initiatives.")),
    ("vocabulary/countries/", _lazy("Countries, by ISO 3166-1 alpha-3 code.")),
    ("vocabulary/sectors/", _lazy("Sectors of government (COFOG).")),
    ("vocabulary/waves/", _lazy("Survey waves.")),
    ("vocabulary/questions/", _lazy("Survey questions and their items.")),
    ("vocabulary/reference-values/", _lazy("Percentages the OECD published.")),
    ("survey/responses/", _lazy("Survey records.")),
    ("survey/indicators/", _lazy("Survey indicators, computed from the records.")),
)


@require_GET
@vary_on_headers("Accept")
def api_index(request):
    """/api/ (and /fr/api/): what the API offers, as JSON for programs and as a page for
    a person who followed the footer's link."""
    root = request.build_absolute_uri("/api/")
    endpoints = [
        {"url": f"{root}{path}", "description": str(description)}
        for path, description in API_ENDPOINTS
    ]
    # A browser names HTML; a program asking for JSON or for anything gets JSON.
    if "text/html" not in request.headers.get("Accept", ""):
        return JsonResponse(
            {
                "docs": f"{root}docs/",
                "schema": f"{root}schema/",
                "authentication": str(
                    _lazy("Reading needs no token; writing needs “Authorization: Token <key>”.")
                ),
                "endpoints": endpoints,
            }
        )
    return render(request, "api_index.html", {"endpoints": endpoints, "root": root})
