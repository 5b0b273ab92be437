"""The initiative's change page in the admin, at 1280 px: what staff look for first is on
the first screen, and the parts they open now and then stay folded until opened."""

import datetime

import pytest

from initiatives import services
from initiatives.models import Initiative
from survey.models import Item
from tests.browser.pages import run_axe, sign_in
from tests.factories import StaffFactory, add_participation, make_initiative

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

PASSWORD = "correct-horse-battery-staple"
#: The first screen at 1280 px: the window's height.
SCREEN = 900


@pytest.fixture
def case(vocabulary):
    """A case file as staff meet one: who does what in every phase, a stage history, a
    timeline, tags and both frameworks."""
    staff = StaffFactory(username="officer", first_name="Aino", last_name="Laine")
    initiative = make_initiative(
        by=staff,
        stage="pilot",
        stage_date=datetime.date(2024, 3, 1),
        case_officer=staff,
        description="Monthly walks and a shared log of problems. " * 20,
    )
    for phase in ("commission", "design", "deliver", "assess"):
        for partner_type in ("citizen", "professional"):
            add_participation(initiative, phase=phase, partner_type=partner_type)
    initiative = Initiative.objects.get(pk=initiative.pk)
    services.initiative_update(
        initiative=initiative,
        by=staff,
        expected_version=initiative.version,
        tags={
            "objectives": list(Item.objects.filter(question__code="reasons")[:3]),
            "barriers": list(Item.objects.filter(question__code="barriers")[:2]),
        },
    )
    services.initiative_change_stage(
        initiative=initiative, to_stage="embedded", by=staff, reason="Funded by the city."
    )
    for text in ("First meeting with the residents.", "The police joined the walks."):
        services.activity_create(
            initiative=initiative,
            by=staff,
            expected_version=None,
            kind="note",
            visibility="group",
            text=text,
        )
    return Initiative.objects.get(pk=initiative.pk)


def _height(page):
    return page.evaluate("document.documentElement.scrollHeight")


def _top(page, selector):
    """Where the first element matching `selector` starts, from the top of the page."""
    return page.locator(selector).first.evaluate(
        "e => e.getBoundingClientRect().top + window.scrollY"
    )


def test_the_case_page_puts_title_stage_and_review_on_the_first_screen(
    case, browser, live_server, screenshot
):
    context = browser.new_context(
        base_url=live_server.url, bypass_csp=True, viewport={"width": 1280, "height": SCREEN}
    )
    page = context.new_page()
    sign_in(page, "/admin/login/", "officer", PASSWORD)

    page.goto(f"/admin/initiatives/initiative/{case.pk}/change/", wait_until="networkidle")
    screenshot(page, "admin-case-page-1280")
    folded = _height(page)
    print(f"case page at 1280 px: {folded} px")
    for selector in ("#id_title", ".field-stage", ".field-review_status"):
        assert _top(page, selector) < SCREEN, selector

    # Every folded part opened: the page is all there, only longer.
    for summary in page.locator("details > summary").all():
        summary.click()
    opened = _height(page)
    print(f"case page at 1280 px, everything open: {opened} px")
    # This case file was 3,081 px long with its parts one under the other; grouped, with
    # the long text, the histories and the frameworks folded, about 2,550 px.
    assert folded < 2700
    assert opened > 2 * folded

    violations = [v for v in run_axe(page) if v[0] in ("critical", "serious")]
    assert not violations
    context.close()
