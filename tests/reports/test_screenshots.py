"""Every report page in headless Chromium with demo-sized data: no console error (a CSP
violation is one), the charts drawn, and a screenshot kept under tests/artifacts/reports/."""

from pathlib import Path

import pytest

from .conftest import demo_data

# serialized_rollback keeps the seeded vocabulary (waves, questions, countries) between tests.
pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts" / "reports"

PAGES = [
    ("maturity", "/reports/maturity/"),
    ("indicators-factors", "/reports/maturity/indicators/?question=factors"),
    ("indicators-barriers", "/reports/maturity/indicators/?question=barriers"),
    ("indicators-at-date", "/reports/maturity/indicators/?question=reasons&stage_on=2022-06-30"),
    ("country-FIN", "/reports/countries/FIN/"),
    ("evidence", "/reports/evidence/"),
    ("readiness", "/reports/readiness/"),
]


def signed_in_page(browser, live_server, client, settings, **options):
    """A page of a fresh browser context that carries the test client's session."""
    context = browser.new_context(
        base_url=live_server.url, viewport={"width": 1280, "height": 900}, **options
    )
    context.add_cookies(
        [
            {
                "name": settings.SESSION_COOKIE_NAME,
                "value": client.cookies[settings.SESSION_COOKIE_NAME].value,
                "url": live_server.url,
            }
        ]
    )
    return context.new_page()


def test_report_pages_render_their_charts_without_console_errors(
    browser, live_server, client, staff, settings
):
    settings.DEBUG = False
    demo_data(staff)
    client.force_login(staff)
    page = signed_in_page(browser, live_server, client, settings, locale="en-GB")
    errors = []
    page.on("console", lambda message: message.type == "error" and errors.append(message.text))
    page.on("pageerror", lambda error: errors.append(str(error)))
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    for name, url in PAGES:
        response = page.goto(url)
        assert response.status == 200, url
        charts = page.locator("svg.chart")
        assert charts.count() >= 1, url
        page.screenshot(path=ARTIFACTS / f"{name}.png", full_page=True)
        for index in range(charts.count()):
            charts.nth(index).screenshot(path=ARTIFACTS / f"{name}-chart-{index + 1}.png")
    pilot = page.goto("/reports/readiness/")
    assert pilot.status == 200
    page.locator(".readiness-table a").first.click()
    page.locator(".readiness-panel").screenshot(path=ARTIFACTS / "case-readiness-panel.png")
    page.screenshot(path=ARTIFACTS / "case-page.png", full_page=True)
    page.context.close()
    assert errors == []


def test_report_pages_with_no_data_say_so(browser, live_server, client, staff, settings):
    settings.DEBUG = False
    client.force_login(staff)
    page = signed_in_page(browser, live_server, client, settings)
    errors = []
    page.on("console", lambda message: message.type == "error" and errors.append(message.text))
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    for name, url in PAGES:
        response = page.goto(url)
        assert response.status == 200, url
        assert page.locator(".empty").count() >= 1, url
        page.screenshot(path=ARTIFACTS / f"empty-{name}.png", full_page=True)
    page.context.close()
    assert errors == []
