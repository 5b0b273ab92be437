"""The OpenAPI contract: valid, served with local docs, and kept by the implementation."""

import json

import pytest
import schemathesis
from django.core import signals
from django.core.management import call_command
from django.db import close_old_connections
from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.renderers import OpenApiJsonRenderer
from hypothesis import HealthCheck, settings
from schemathesis.config import SchemathesisConfig

from coprod_site.wsgi import application
from initiatives.models import ApiToken, Initiative
from survey.models import Item
from tests.factories import WaveFactory, add_participation, answer, make_initiative


def test_the_schema_validates_without_warnings(tmp_path):
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(tmp_path / "s.yml"))


@pytest.mark.django_db
def test_the_docs_are_served_from_local_static_files(api):
    page = api.get("/api/docs/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "/static/drf_spectacular_sidecar/swagger-ui-dist/" in html
    assert "cdn" not in html.lower()
    assert api.get("/api/schema/").status_code == 200


@pytest.mark.django_db
def test_every_error_and_enum_is_documented(api):
    schema = api.get("/api/schema/?format=json").json()
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            assert operation.get("summary") or operation.get("description"), (method, path)
            assert {"401", "429"} <= set(operation["responses"]), (method, path)
            if method in ("put", "patch") and path.startswith("/api/initiatives/"):
                assert {"412", "428"} <= set(operation["responses"]), (method, path)
    components = schema["components"]["schemas"]
    assert {"code", "message", "details"} <= set(components["Error"]["properties"])
    for name, component in components.items():
        if "enum" in component:
            assert component.get("description"), name


# The schema says what is well formed; whether a code exists, a workflow step is allowed
# or a version is current is the database's answer, so well-formed requests may still be
# refused with these documented statuses. A missing If-Match is refused with 428.
CHECKS = SchemathesisConfig.from_dict(
    {
        "checks": {
            "positive_data_acceptance": {
                "expected-statuses": ["2XX", 400, 401, 403, 404, 409, 412]
            },
            "missing_required_header": {"expected-statuses": [400, 401, 403, 404, 406, 428]},
        }
    }
)


def _contract():
    """The schema as served, built without a request (collection may not use the database)."""
    generated = SchemaGenerator().get_schema(request=None, public=True)
    document = json.loads(OpenApiJsonRenderer().render(generated))
    loaded = schemathesis.openapi.from_dict(document, config=CHECKS)
    loaded.app = application  # calls go in-process, through the WSGI application
    return loaded


contract = _contract()


@pytest.fixture
def world(db, staff, organisation, member):
    """Some data for the generated requests to find, and a staff token to send them with."""
    initiatives = []
    for number, status in enumerate(["draft", "submitted", "published"]):
        initiative = make_initiative(
            by=staff, title=f"Case {number}", organisation=organisation, review_status=status
        )
        add_participation(initiative)
        initiative.objectives.set(Item.objects.filter(question__code="reasons")[:2])
        initiatives.append(initiative)
    wave = WaveFactory(code="S-2024")
    answer(wave, "FIN", "r1", "07", "barriers", {"resources": True, "evidence": False})
    _, key = ApiToken.issue(user=staff, name="schemathesis")
    # Like Django's test client: keep the test's connection (and its transaction) open
    # across requests made straight to the WSGI application.
    signals.request_started.disconnect(close_old_connections)
    try:
        yield {"references": [i.reference for i in initiatives], "key": key}
    finally:
        signals.request_started.connect(close_old_connections)


@contract.parametrize()
@settings(
    max_examples=8,
    derandomize=True,
    deadline=None,
    database=None,
    suppress_health_check=list(HealthCheck),
)
def test_the_api_keeps_its_contract(case, world, settings):
    # Point most requests at records that exist, and at their current version, so that
    # the generated data reaches the code behind the 404 and 412 checks.
    seed = len(repr(case.body)) + len(repr(case.query))
    if case.meta is not None and not case.meta.generation.mode.is_positive:
        seed = 0  # a request meant to be refused is sent as generated, never mended
    references = world["references"]
    reference = references[seed % len(references)]
    for name in ("reference", "initiative_reference"):
        if case.path_parameters and name in case.path_parameters and seed % 4:
            case.path_parameters[name] = reference
    if case.headers and "If-Match" in case.headers and seed % 3:
        current = Initiative.objects.filter(reference=reference).first()
        if current:
            case.headers["If-Match"] = f'"{current.version}"'
    response = case.call_and_validate(headers={"Authorization": f"Token {world['key']}"})
    assert response.status_code < 500
