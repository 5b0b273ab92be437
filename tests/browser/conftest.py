"""Playwright against a live server, driving the system Chromium (never a downloaded one)."""

import os
from pathlib import Path

import pytest

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts"


@pytest.fixture(autouse=True)
def _allow_orm_beside_playwright(monkeypatch):
    # Playwright's sync API runs an event loop in this thread; Django's ORM calls made by
    # the test itself (fixtures, assertions) are still plain synchronous calls. Set for
    # these tests only: left in the environment it would reach subprocesses (such as
    # `check --deploy`) and the tests that run after.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


@pytest.fixture
def browser(_allow_orm_beside_playwright):
    """One Chromium per test, closed at its end: while Playwright runs, this thread has an
    event loop, which other tests' own Playwright sessions and database set-up must not
    inherit."""
    from playwright.sync_api import sync_playwright

    if not Path(CHROMIUM).exists():
        pytest.skip(f"no Chromium at {CHROMIUM}")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
        )
        yield browser
        browser.close()


@pytest.fixture(autouse=True)
def _browser_settings(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
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
