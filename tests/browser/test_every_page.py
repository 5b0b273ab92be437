"""Every page a person can reach, in a real browser: no axe-core violation that is critical
or serious (moderate and minor ones only where `pages.ACCEPTED` names them with a reason),
and no page wider than the window at 360 px or at 1280 px. Screenshots of the key pages
at both widths go to tests/artifacts/."""

import pytest

from tests.browser.pages import (
    admin_pages,
    check_pages,
    member_pages,
    public_pages,
    seed_demo,
    sign_in,
)

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


@pytest.fixture
def world(vocabulary, settings):
    seed_demo(settings)


def _context(browser, live_server, locale="en-GB"):
    # axe is injected as a script: the page's CSP would refuse it.
    return browser.new_context(base_url=live_server.url, locale=locale, bypass_csp=True)


def _sign_in(context, path, username, password):
    page = context.new_page()
    sign_in(page, path, username, password)
    page.close()


# The admin's pages are checked in this many tests, which `make test` spreads over its workers.
ADMIN_PARTS = 3

KEY_PUBLIC_PAGES = {0: "home", 1: "list", 4: "case", 9: "maturity", 12: "country"}


def test_public_pages_in_english(world, browser, live_server):
    paths = public_pages()
    key = {paths[index]: name for index, name in KEY_PUBLIC_PAGES.items()}
    context = _context(browser, live_server)
    problems = check_pages(context, paths, "public-en", screenshots=key)
    assert not problems, "\n".join(problems)


def test_public_pages_in_french(world, browser, live_server):
    paths = public_pages()
    key = {f"/fr{paths[index]}": name for index, name in KEY_PUBLIC_PAGES.items()}
    french = _context(browser, live_server, "fr-FR")
    problems = check_pages(
        french,
        [f"/fr{path}" for path in paths if not path.startswith("/api/")] + ["/fr/api/"],
        "public-fr",
        screenshots=key,
    )
    assert not problems, "\n".join(problems)


def test_member_pages(world, browser, live_server):
    from django.contrib.auth import get_user_model

    member = get_user_model().objects.get(username="member")
    context = _context(browser, live_server)
    _sign_in(context, "/accounts/login/", "member", "member-demo")
    paths = member_pages(member)
    problems = check_pages(
        context, paths, "member", screenshots={"/my-initiatives/": "dashboard", paths[4]: "edit"}
    )
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("part", range(ADMIN_PARTS))
def test_staff_admin_pages(world, browser, live_server, part):
    context = _context(browser, live_server)
    _sign_in(context, "/admin/login/", "staff", "staff-demo")
    key = {
        "/admin/": "index",
        "/admin/initiatives/initiative/": "initiatives",
        "/admin/initiatives/initiative/?queue=waiting": "review-queue",
    }
    problems = check_pages(
        context, admin_pages()[part::ADMIN_PARTS], f"admin-{part}", screenshots=key
    )
    assert not problems, "\n".join(problems)


def test_api_docs(world, browser, live_server):
    context = _context(browser, live_server)
    problems = check_pages(context, ["/api/docs/"], "api-docs", screenshots={"/api/docs/": "docs"})
    assert not problems, "\n".join(problems)
