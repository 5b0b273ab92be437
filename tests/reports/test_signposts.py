"""The ways into the reports and the API: /reports/, the country picker, /api/, the docs,
and the report filters' menus."""

import re

import pytest
from django.utils import translation

from initiatives.models import ReviewStatus
from survey.models import Country, Item, country_choices, reading_key
from tests.factories import WaveFactory, answer, make_initiative

pytestmark = pytest.mark.django_db


def _options(page, name):
    select = re.search(rf'<select name="{name}"[^>]*>(.*?)</select>', page, re.S).group(1)
    return re.findall(r'<option value="([^"]*)"[^>]*>([^<]*)</option>', select)


@pytest.fixture
def data():
    """Published initiatives in Finland and Germany; survey answers from Egypt."""
    make_initiative(country=Country.objects.get(code="FIN"), review_status=ReviewStatus.PUBLISHED)
    make_initiative(country=Country.objects.get(code="DEU"), review_status=ReviewStatus.PUBLISHED)
    # A draft says nothing in a public report.
    make_initiative(country=Country.objects.get(code="NOR"), review_status=ReviewStatus.DRAFT)
    first_reason = Item.objects.filter(question__code="reasons").first().code
    answer(WaveFactory(), "EGY", "R1", "07", "reasons", {first_reason: True})


def test_reports_index_links_every_public_report_and_each_country_with_data(client, data):
    page = client.get("/reports/").content.decode()
    for path in (
        "/reports/indicators/",
        "/reports/maturity/",
        "/reports/maturity/indicators/",
        "/reports/evidence/",
    ):
        assert f'href="{path}"' in page
    assert "/reports/readiness/" not in page  # staff only
    codes = [code for code, _name in _options(page, "country")[1:]]
    assert codes == ["EGY", "FIN", "DEU"]  # Egypt, Finland, Germany
    assert 'href="/reports/countries/FIN/"' in page
    assert "NOR" not in codes


def test_country_picker_opens_the_profile_in_the_readers_language(client, data):
    response = client.get("/fr/reports/", {"country": "fin"})
    assert response.status_code == 302
    assert response["Location"] == "/fr/reports/countries/FIN/"


def test_country_picker_names_an_unknown_code(client, data):
    response = client.get("/reports/", {"country": "ZZZ"})
    assert response.status_code == 400
    assert "There is no country with the code “ZZZ”" in response.content.decode()


def test_french_country_menu_is_sorted_by_the_french_names(client, data):
    page = client.get("/fr/reports/maturity/").content.decode()
    options = _options(page, "country")
    assert options[0] == ("", "Tous les pays")
    # Allemagne, Égypte, Finlande: the accent does not send Égypte to the end.
    assert [code for code, _name in options[1:]] == ["DEU", "EGY", "FIN"]


def test_report_filters_say_any_instead_of_dashes(client, data):
    page = client.get("/reports/maturity/").content.decode()
    assert "---------" not in page
    assert _options(page, "country")[0] == ("", "Any country")
    assert _options(page, "sector")[0] == ("", "Any sector")
    assert _options(page, "level")[0] == ("", "Any level")


def test_a_country_without_data_is_still_accepted_in_the_address(client, data):
    assert client.get("/reports/maturity/", {"country": "NOR"}).status_code == 200


def test_reading_order_ignores_accents_and_case():
    assert sorted(["Zambie", "Égypte", "algérie"], key=reading_key) == [
        "algérie",
        "Égypte",
        "Zambie",
    ]
    with translation.override("fr"):
        names = [name for _code, name in country_choices(Country.objects.all())]
    assert names.index("Samoa américaines") > names.index("Andorre")


def test_api_root_lists_the_endpoints_as_json(client):
    response = client.get("/api/", HTTP_ACCEPT="application/json")
    assert response.status_code == 200
    body = response.json()
    assert body["docs"].endswith("/api/docs/")
    urls = [endpoint["url"] for endpoint in body["endpoints"]]
    assert "http://testserver/api/initiatives/" in urls
    for url in urls:
        if "{" not in url:
            # Every listed address exists (some ask for a token or parameters first).
            assert client.get(url, HTTP_ACCEPT="application/json").status_code != 404, url


def test_api_root_is_a_page_for_a_browser_in_french_under_fr(client):
    response = client.get("/fr/api/", HTTP_ACCEPT="text/html,application/xhtml+xml")
    assert response.status_code == 200
    page = response.content.decode()
    assert '<html lang="fr">' in page
    assert "L’API de coprod" in page
    assert 'href="/api/docs/"' in page


def test_footer_api_link_leads_to_the_index(client):
    page = client.get("/fr/").content.decode()
    assert 'href="/fr/api/"' in page


def test_api_docs_have_a_language_and_a_way_back(client):
    page = client.get("/api/docs/").content.decode()
    assert '<html lang="en">' in page
    assert '<a href="/">' in page
    assert 'href="/api/"' in page
