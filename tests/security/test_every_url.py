"""Every URL of coprod, site and API, as each of the four roles of the permission table:
anonymous, a member of organisation A (which owns the records), a member of another
organisation B, and staff.

The table below has an entry for every named URL pattern. A URL added to the project
without an entry fails `test_every_url_has_an_entry`, so nobody ships a page whose
permissions were never decided. Admin URLs need no entry: every one of them is
walked and must send anyone but staff to the admin sign-in.

Besides the status code, each request by anonymous or by B is checked to have changed
nothing of A's (no IDOR), and every response to carry the security headers.

Cell values: a status code; "login" (redirect to the sign-in page); "ok" (the request
reached the view: any answer below 500 other than 401, 403, 404 or a sign-in redirect,
such as a 400 for the empty form the walk sends).
"""

import json
import re

import pytest
from django.apps import apps
from django.contrib.auth import get_user_model
from django.db import transaction
from django.test import Client, override_settings
from django.urls import reverse

from initiatives.models import (
    AccountabilityFramework,
    Activity,
    ApiToken,
    BudgetFramework,
    Initiative,
    Membership,
    Participation,
    StageChange,
    StageProposal,
)
from tests.security.urlwalk import all_routes
from tests.security.walk_world import ROLES, build_world, parameters

ANON, A, B, STAFF = ROLES
PUBLIC = "200 200 200 200"
SIGNED_IN = "login 200 200 200"
SIGNED_IN_WRITE = "login ok ok ok"
API_READ_ONLY = {"get": PUBLIC, "post": "405 405 405 405", "put": "405 405 405 405"}
API_READ_ONLY.update({"patch": "405 405 405 405", "delete": "405 405 405 405"})

# The permission table. For URLs about a record: {target: {method: cells}}, where the
# target is A's draft or A's published initiative. Otherwise {method: cells}.
# Cells are for: anonymous, member of A, member of B, staff.
DRAFT_PAGE = {"get": "login 200 404 200", "post": "login ok 404 ok"}
PUBLISHED_PAGE = {"get": "login 200 403 200", "post": "login ok 403 ok"}
EDIT_PAGE = {"draft": DRAFT_PAGE, "published": PUBLISHED_PAGE}

API_RECORD = {
    "draft": {
        "get": "404 200 404 200",
        "post": "401 405 405 405",
        "put": "401 ok 404 ok",
        "patch": "401 ok 404 ok",
        "delete": "401 ok 404 ok",
    },
    "published": {
        "get": PUBLIC,
        "post": "401 405 405 405",
        "put": "401 ok 403 ok",
        "patch": "401 ok 403 ok",
        "delete": "401 ok 403 ok",
    },
}
API_FRAMEWORK = {
    target: {**methods, "delete": "401 405 405 405"} for target, methods in API_RECORD.items()
}
API_ACTION = {
    "draft": {"post": "401 ok 404 ok", "get": "405 405 405 405"},
    "published": {"post": "401 ok 403 ok", "get": "405 405 405 405"},
}
API_STAFF_ACTION = {
    "draft": {"post": "401 403 404 ok", "get": "405 405 405 405"},
    "published": {"post": "401 403 403 ok", "get": "405 405 405 405"},
}
API_NESTED_LIST = {
    "draft": {"get": "404 200 404 200", "post": "401 ok 404 ok", "delete": "401 405 405 405"},
    "published": {"get": PUBLIC, "post": "401 ok 403 ok", "delete": "401 405 405 405"},
}
API_NESTED_READ = {
    "draft": {"get": "404 200 404 200", "post": "401 405 405 405", "delete": "401 405 405 405"},
    "published": {"get": PUBLIC, "post": "401 405 405 405", "delete": "401 405 405 405"},
}
# History and stage proposals: the owner group and staff only, even when published.
API_NESTED_PRIVATE = {
    "draft": {"get": "404 200 404 200", "post": "401 405 405 405", "delete": "401 405 405 405"},
    "published": {"get": "404 200 404 200", "post": "401 405 405 405", "delete": "401 405 405 405"},
}

TABLE = {
    # Site: operations and accounts
    "healthz": {"get": PUBLIC, "post": "405 405 405 405"},
    # No METRICS_TOKEN set: no page for anyone, whatever their role (tests/test_metrics.py).
    "metrics": {"get": "404 404 404 404", "post": "405 405 405 405"},
    "set_language": {"post": "ok ok ok ok"},
    "login": {"get": PUBLIC, "post": "ok ok ok ok"},
    "logout": {"get": "405 405 405 405", "post": "ok ok ok ok"},
    "password_change": {"get": SIGNED_IN, "post": SIGNED_IN_WRITE},
    "password_change_done": {"get": SIGNED_IN},
    "password_reset": {"get": PUBLIC, "post": "ok ok ok ok"},
    "password_reset_done": {"get": PUBLIC},
    "password_reset_confirm": {"get": "ok ok ok ok"},
    "password_reset_complete": {"get": PUBLIC},
    "initiatives:signup": {"get": "200 ok ok ok", "post": "ok ok ok ok"},
    "initiatives:account": {"get": SIGNED_IN, "post": SIGNED_IN_WRITE},
    # A's token: only A may revoke it (staff revoke tokens in the admin).
    "initiatives:token_revoke": {"get": "login 405 405 405", "post": "login ok 404 404"},
    "initiatives:organisation_create": {"get": SIGNED_IN, "post": SIGNED_IN_WRITE},
    "initiatives:organisation_join": {"get": SIGNED_IN, "post": SIGNED_IN_WRITE},
    # Organisation A's page and its membership decisions (A is its admin).
    "initiatives:organisation": {"get": "login 200 404 200"},
    "initiatives:membership_change": {"get": "login 405 405 405", "post": "login ok 403 ok"},
    # Site: browse and export (published only for the public; filtered by visible_to)
    "initiatives:home": {"get": PUBLIC},
    "initiatives:list": {"get": PUBLIC},
    "initiatives:export": {"get": PUBLIC},
    "initiatives:export_spreadsheet": {"get": PUBLIC},
    "initiatives:export_xlsx": {"get": PUBLIC},
    "initiatives:codebook": {"get": PUBLIC},
    "initiatives:codebook_xlsx": {"get": PUBLIC},
    "initiatives:dashboard": {"get": SIGNED_IN},
    "initiatives:create": {"get": SIGNED_IN, "post": SIGNED_IN_WRITE},
    "initiatives:detail": {
        "draft": {"get": "404 200 404 200"},
        "published": {"get": PUBLIC},
    },
    "initiatives:document": {
        "draft": {"get": "404 200 404 200"},
        "published": {"get": PUBLIC},
    },
    "initiatives:edit": EDIT_PAGE,
    "initiatives:activity_add": EDIT_PAGE,
    "initiatives:stage_proposal": EDIT_PAGE,
    "initiatives:submit": {
        "draft": {"get": "login 405 405 405", "post": "login ok 404 ok"},
        "published": {"get": "login 405 405 405", "post": "login ok 403 ok"},
    },
    # Reports: public, except the readiness list of pilots, which is for case officers.
    "survey:indicators": {"get": PUBLIC},
    "survey:indicators_csv": {"get": PUBLIC},
    "reports:index": {"get": PUBLIC},
    "survey:waves": {"get": PUBLIC},
    "survey:waves_csv": {"get": PUBLIC},
    "survey:waves_xlsx": {"get": PUBLIC},
    # A background job: its owner only (here staff's); anyone else is told it does not exist.
    "jobs:detail": {"get": "login 404 404 200"},
    "jobs:retry": {"get": "login 405 405 405", "post": "login 404 404 ok"},
    # Only a dry run that passed is applied; staff's job is a failed survey import.
    "jobs:apply": {"get": "login 405 405 405", "post": "login 404 404 403"},
    "jobs:download": {"get": "login 404 404 404"},
    "reports:maturity": {"get": PUBLIC},
    "reports:maturity_indicators": {"get": PUBLIC},
    "reports:country": {"get": PUBLIC},
    "reports:evidence": {"get": PUBLIC},
    "reports:readiness": {"get": "login 403 403 200"},
    # API
    "api:schema": API_READ_ONLY,
    "api:docs": {"get": PUBLIC},
    "api:index": {"get": PUBLIC, "post": "405 405 405 405"},
    "api_index": {"get": PUBLIC, "post": "405 405 405 405"},
    "api:initiative-list": {
        "get": PUBLIC,
        "post": "401 ok ok ok",
        "put": "401 405 405 405",
        "delete": "401 405 405 405",
    },
    "api:initiative-detail": API_RECORD,
    "api:initiative-accountability": API_FRAMEWORK,
    "api:initiative-budget": API_FRAMEWORK,
    "api:initiative-submit": API_ACTION,
    "api:initiative-stage": API_ACTION,
    "api:initiative-import-register": {"get": "405 405 405 405", "post": "401 403 403 ok"},
    "api:initiative-approve": API_STAFF_ACTION,
    "api:initiative-return-": API_STAFF_ACTION,
    "api:participation-list": API_NESTED_LIST,
    "api:participation-detail": API_RECORD,
    "api:activity-list": API_NESTED_LIST,
    "api:activity-detail": API_NESTED_READ,
    "api:history-list": API_NESTED_PRIVATE,
    "api:proposal-list": API_NESTED_PRIVATE,
    "api:proposal-decide": {
        "draft": {"post": "401 403 404 ok", "get": "405 405 405 405"},
        "published": {"post": "401 403 404 ok", "get": "405 405 405 405"},
    },
    # The stage history: read as the case is; recorded, corrected and confirmed by staff.
    "api:stage-history-list": {
        "draft": {"get": "404 200 404 200", "post": "401 403 404 ok", "delete": "401 405 405 405"},
        "published": {"get": PUBLIC, "post": "401 403 403 ok", "delete": "401 405 405 405"},
    },
    "api:stage-history-detail": {
        "draft": {"get": "405 405 405 405", "patch": "401 403 404 ok"},
        "published": {"get": "405 405 405 405", "patch": "401 403 403 ok"},
    },
    "api:stage-history-remove": API_STAFF_ACTION,
    "api:stage-history-confirm": API_STAFF_ACTION,
    # Any signed-in user creates an organisation (and becomes its admin).
    "api:organisation-list": {"get": PUBLIC, "post": "401 ok ok ok"},
    # Organisation A: its admins (A) and staff change it.
    "api:organisation-detail": {
        "get": PUBLIC,
        "patch": "401 ok 403 ok",
        "delete": "401 405 405 405",
    },
    "api:sector-list": API_READ_ONLY,
    "api:sector-detail": API_READ_ONLY,
    "api:country-list": API_READ_ONLY,
    "api:country-detail": API_READ_ONLY,
    "api:wave-list": API_READ_ONLY,
    "api:wave-detail": API_READ_ONLY,
    "api:question-list": API_READ_ONLY,
    "api:question-detail": API_READ_ONLY,
    "api:reference-value-list": API_READ_ONLY,
    "api:indicator-list": API_READ_ONLY,
    # Raw survey records: staff only.
    "api:response-list": {"get": "401 403 403 200", "post": "401 403 403 405"},
    "api:response-import-file": {"get": "401 403 403 405", "post": "401 403 403 ok"},
    # Column mappings: survey managers (here staff).
    "api:column-mapping-list": {"get": "401 403 403 200", "post": "401 403 403 ok"},
    "api:column-mapping-detail": {"get": "401 403 403 200", "delete": "401 403 403 ok"},
    "api:column-mapping-preview": {"get": "401 403 403 405", "post": "401 403 403 ok"},
    # Background jobs: each person's own.
    "api:job-list": {"get": "401 200 200 200", "post": "401 405 405 405"},
    "api:job-detail": {"get": "401 404 404 200", "delete": "401 405 405 405"},
}

# Query strings some URLs need to answer at all.
QUERIES = {
    "api:indicator-list": "?wave=OECD-2010&question=barriers",
    "survey:indicators": "?wave=OECD-2010&question=barriers",
    "survey:indicators_csv": "?wave=OECD-2010&question=barriers",
    "survey:waves": "?question=barriers",
    "survey:waves_csv": "?question=barriers",
    "survey:waves_xlsx": "?question=barriers",
    "reports:maturity_indicators": "?wave=OECD-2010&question=barriers",
}

# JSON bodies for API actions, so that the request gets past validation to the rules.
API_BODIES = {
    "api:initiative-stage": {"to_stage": "pilot", "reason": "walk"},
    "api:initiative-return-": {"reason": "walk"},
    "api:proposal-decide": {"accept": True, "note": "walk"},
}

# Anything under /api/ that no endpoint matches answers 404 in the API's shape.
CATCH_ALL = {"api/^"}
ADMIN = re.compile(r"^admin[:/]")

SITE_AND_API_ROUTES = [
    route for route in all_routes() if not ADMIN.match(route.name) and route.name not in CATCH_ALL
]
ADMIN_ROUTES = [route for route in all_routes() if ADMIN.match(route.name)]


@pytest.fixture(scope="module")
def _world(django_db_setup, django_db_blocker, tmp_path_factory):
    """Built once for the module inside a transaction that is rolled back at the end;
    each test runs in a savepoint of it, and each request in a savepoint of that."""
    media_root = tmp_path_factory.mktemp("walk-media")
    with django_db_blocker.unblock(), override_settings(MEDIA_ROOT=media_root):
        outer = transaction.atomic()
        outer.__enter__()
        try:
            built = build_world()
            # Every request runs in a savepoint that is rolled back, so this is A's state
            # before each of them; a refused request must leave it exactly so.
            yield {**built, "media_root": media_root, "state_of_a": _state_of_a(built)}
        finally:
            transaction.set_rollback(True)
            outer.__exit__(None, None, None)


@pytest.fixture
def world(_world, db, settings):
    settings.MEDIA_ROOT = _world["media_root"]
    return _world


def _state_of_a(world):
    """Everything of organisation A that anonymous or B must never change."""
    initiatives = Initiative.objects.filter(organisation=world["organisation_a"]).order_by("pk")
    ids = list(initiatives.values_list("pk", flat=True))
    return {
        "initiatives": list(
            initiatives.values_list(
                "version", "title", "review_status", "stage", "archived_at", "updated_at"
            )
        ),
        "parts": [
            Participation.objects.filter(initiative__in=ids).count(),
            Activity.objects.filter(initiative__in=ids).count(),
            StageChange.objects.filter(initiative__in=ids).count(),
            StageProposal.objects.filter(initiative__in=ids).count(),
            Initiative.history.filter(id__in=ids).count(),
        ],
        "frameworks": [
            list(AccountabilityFramework.objects.filter(initiative__in=ids).values()),
            list(BudgetFramework.objects.filter(initiative__in=ids).values()),
        ],
        "organisation": list(
            type(world["organisation_a"]).objects.filter(pk=world["organisation_a"].pk).values()
        ),
        "memberships": list(
            Membership.objects.filter(organisation=world["organisation_a"])
            .order_by("pk")
            .values_list("user", "role", "status")
        ),
        "tokens": list(ApiToken.objects.order_by("pk").values_list("pk", "revoked_at")),
        "users": list(
            get_user_model().objects.order_by("pk").values_list("pk", "password", "is_active")
        ),
    }


def _assert_security_headers(response, where):
    csp = response.get("Content-Security-Policy", "")
    assert "object-src 'none'" in csp, where
    assert "frame-ancestors 'none'" in csp, where
    assert "base-uri 'none'" in csp, where
    script = re.search(r"script-src ([^;]*)", csp)
    assert script, where
    assert "'unsafe-inline'" not in script.group(1), where
    assert response["X-Content-Type-Options"] == "nosniff", where
    assert response["Referrer-Policy"] == "same-origin", where
    assert response["Cross-Origin-Opener-Policy"] == "same-origin", where
    assert response["X-Frame-Options"] == "DENY", where


def _matches(response, cell, login_url):
    status = response.status_code
    location = response.get("Location", "")
    # The site's sign-in page, or the admin's for pages meant for staff.
    to_login = status == 302 and location.split("?")[0] in (login_url, reverse("admin:login"))
    if cell == "login":
        return to_login
    if cell == "ok":
        return status < 500 and status not in (401, 403, 404) and not to_login
    return status == int(cell)


def _etag_of(world, target):
    if target is None:
        return None
    initiative = world["records"][target]["initiative"]
    return f'"{Initiative.objects.get(pk=initiative.pk).version}"'


def _request(client, method, url, route_name, world, target):
    if not route_name.startswith("api:"):
        return getattr(client, method)(url)
    if method == "get":
        return client.get(url)
    body = json.dumps(API_BODIES.get(route_name, {}))
    headers = {}
    if (etag := _etag_of(world, target)) is not None:
        headers["HTTP_IF_MATCH"] = etag
    return getattr(client, method)(url, data=body, content_type="application/json", **headers)


def _clients(world):
    """One client per role, signed in once for the test."""
    clients = {}
    for role in ROLES:
        clients[role] = Client(raise_request_exception=False)
        if world["users"][role] is not None:
            clients[role].force_login(world["users"][role])
    return clients


def _walk(route, world, plan, target, clients):
    login_url = reverse("login")
    failures = []
    url = reverse(route.name, kwargs=parameters(route, world, target)) + QUERIES.get(route.name, "")
    for method, cells in plan.items():
        for role, cell in zip(ROLES, cells.split(), strict=True):
            where = f"{method.upper()} {url} as {role}"
            savepoint = transaction.savepoint()
            try:
                response = _request(clients[role], method, url, route.name, world, target)
                if not _matches(response, cell, login_url):
                    failures.append(f"{where}: expected {cell}, got {response.status_code}")
                _assert_security_headers(response, where)
                if role in (ANON, B) and (method != "get" or cell in ("403", "404")):
                    assert _state_of_a(world) == world["state_of_a"], f"{where} changed A's data"
            finally:
                transaction.savepoint_rollback(savepoint)
    return failures


def test_every_url_has_an_entry():
    names = {route.name for route in SITE_AND_API_ROUTES}
    missing = sorted(names - TABLE.keys())
    stale = sorted(TABLE.keys() - names)
    assert not missing, f"URLs without a permission entry in the table: {missing}"
    assert not stale, f"Entries for URLs that no longer exist: {stale}"


@pytest.mark.parametrize("route", SITE_AND_API_ROUTES, ids=lambda route: route.name)
def test_url_answers_each_role_as_the_table_says(world, db, route):
    entry = TABLE.get(route.name)
    if entry is None:
        pytest.fail(f"{route.name} has no entry in the permission table")
    failures = []
    clients = _clients(world)
    if set(entry) <= {"draft", "published"}:
        for target, plan in entry.items():
            failures += _walk(route, world, plan, target, clients)
    else:
        failures += _walk(route, world, entry, None, clients)
    assert not failures, "\n".join(failures)


def test_records_of_another_organisation_are_found_by_nobody_else(world, db):
    """The draft of A is not even listed for B or the public, on the site or the API."""
    draft = world["records"]["draft"]["initiative"]
    for role in (ANON, B):
        client = Client()
        if world["users"][role] is not None:
            client.force_login(world["users"][role])
        for url in ("/initiatives/", "/initiatives/export.csv", "/api/initiatives/"):
            response = client.get(url, {"q": draft.title})
            body = b"".join(response.streaming_content) if response.streaming else response.content
            assert draft.reference.encode() not in body, f"{url} as {role}"


def _admin_url(route, world):
    """Fill an admin pattern's parameters with existing objects where there are any."""
    text = route.route.lstrip("^")
    published = world["records"]["published"]["initiative"]
    match = re.match(r"admin/(\w+)/(\w+)/", text)
    object_id = published.pk
    if match and match.group(1) != "r":
        try:
            model = apps.get_model(match.group(1), match.group(2))
            first = model._default_manager.order_by("pk").first()
            object_id = first.pk if first is not None else 1
        except LookupError:
            pass
    from django.contrib.contenttypes.models import ContentType

    replacements = {
        r"<path:object_id>": str(object_id),
        r"<id>": str(world["users"][STAFF].pk),
        r"<path:content_type_id>": str(ContentType.objects.get_for_model(Initiative).pk),
        r"(?P<app_label>auth|axes|survey|initiatives)": "initiatives",
    }
    for pattern, value in replacements.items():
        text = text.replace(pattern, value)
    text = re.sub(r"\(\?P<app_label>[^)]*\)", "initiatives", text)
    # django-simple-history's "history of one version" pages: object id, then history id.
    if "([^/]+)/history/([^/]+)/" in text:
        model = apps.get_model(match.group(1), match.group(2))
        versions = model.history.filter(**{model._meta.pk.attname: object_id})
        version = versions.order_by("history_id").first()
        history_id = version.history_id if version is not None else 1
        text = text.replace("([^/]+)/history/([^/]+)/", f"{object_id}/history/{history_id}/")
    text = text.replace("(?P<url>.*)$", "no-such-page/").replace("^", "").replace("$", "")
    assert "<" not in text, f"unfilled parameter in {route.route}"
    assert "(" not in text, f"unfilled parameter in {route.route}"
    return "/" + text


ADMIN_PUBLIC = {"admin:login", "admin:logout", "admin:jsi18n"}


@pytest.mark.parametrize("route", ADMIN_ROUTES, ids=lambda route: route.name)
def test_admin_url_is_for_staff_only(world, db, route):
    url = _admin_url(route, world)
    admin_login = reverse("admin:login")
    clients = _clients(world)
    for role in ROLES:
        client = clients[role]
        methods = ("get",) if role == STAFF else ("get", "post")
        for method in methods:
            where = f"{method.upper()} {url} as {role}"
            savepoint = transaction.savepoint()
            try:
                response = getattr(client, method)(url)
                status = response.status_code
                assert status < 500, where
                _assert_security_headers(response, where)
                to_login = status == 302 and response["Location"].startswith(admin_login)
                if route.name in ADMIN_PUBLIC:
                    continue
                if role == STAFF:
                    assert not to_login, where
                else:
                    assert to_login, f"{where}: expected the admin sign-in, got {status}"
                    if method == "post":
                        assert _state_of_a(world) == world["state_of_a"], f"{where} changed data"
            finally:
                transaction.savepoint_rollback(savepoint)


INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)(?![^>]*type=\"application/json\")[^>]*>")


def test_pages_have_no_inline_script_for_the_csp_to_block(world, db):
    """The CSP forbids inline scripts, so a page that has one is broken in browsers."""
    client = Client()
    client.force_login(world["users"][STAFF])
    draft = world["records"]["draft"]["initiative"]
    pages = [
        "/",
        "/initiatives/",
        f"/initiatives/{draft.reference}/",
        f"/initiatives/{draft.reference}/edit/",
        "/reports/maturity/",
        "/reports/indicators/?wave=OECD-2010&question=barriers",
        "/accounts/login/",
        "/account/",
        "/api/docs/",
        "/admin/",
        "/admin/initiatives/initiative/",
        f"/admin/initiatives/initiative/{draft.pk}/change/",
    ]
    for page in pages:
        response = client.get(page, HTTP_ACCEPT="text/html")
        assert response.status_code == 200, page
        html = response.content.decode()
        assert not INLINE_SCRIPT.search(html), f"{page}: {INLINE_SCRIPT.search(html).group(0)}"
        assert " onload=" not in html, page
        assert " onclick=" not in html, page
