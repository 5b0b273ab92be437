"""Playwright against a live server, driving the system Chromium (`browser`, tests/conftest.py)."""

from pathlib import Path

import pytest

ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts"


@pytest.fixture(autouse=True)
def _browser_settings(settings):
    settings.RATELIMIT_ENABLE = False


@pytest.fixture
def vocabulary(transactional_db):
    """The seeded vocabulary (countries, sectors, survey items).

    Transactional tests empty every table when they end, including the rows the data
    migration seeded, so each browser test seeds them again when they are missing.
    """
    from importlib import import_module

    from django.apps import apps

    from survey.models import Country

    if not Country.objects.exists():
        import_module("survey.migrations.0002_seed_vocabulary").seed(apps, None)


@pytest.fixture
def new_page(vocabulary, browser, live_server):
    """Open a fresh browser context (its own cookies) on the live server."""
    contexts = []

    def open_page(locale="en-GB"):
        context = browser.new_context(
            base_url=live_server.url,
            accept_downloads=True,
            locale=locale,
            viewport={"width": 1280, "height": 900},
        )
        context.set_default_timeout(15_000)
        contexts.append(context)
        return context.new_page()

    yield open_page
    for context in contexts:
        context.close()


@pytest.fixture
def screenshot():
    ARTIFACTS.mkdir(exist_ok=True)

    def save(page, name):
        page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)

    return save
