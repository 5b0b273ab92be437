"""The whole cycle in a real browser: a citizen signs up, creates a group, logs an
initiative and submits it; staff approve it in the admin; the public finds it, exports
it, and reads it in French."""

import csv
import io
import re
from pathlib import Path

import pytest

from initiatives.models import Initiative, ReviewStatus
from tests.factories import StaffFactory

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

PASSWORD = "a long walk at dusk"


def field(page, label):
    """The form control labelled exactly `label` (Django adds a colon to field labels)."""
    return page.get_by_label(re.compile(rf"^{re.escape(label)}:?$"))


def _sign_up_and_create_group(page, screenshot):
    page.goto("/")
    screenshot(page, "01-home")
    page.get_by_role("link", name="Sign up").click()
    field(page, "E-mail address").fill("ana@example.org")
    field(page, "Your name").fill("Ana Virtanen")
    field(page, "Password").fill(PASSWORD)
    field(page, "Password again").fill(PASSWORD)
    page.get_by_role("button", name="Create my account").click()
    page.get_by_role("heading", name="Account").wait_for()
    page.get_by_role("link", name="Create a group").first.click()
    field(page, "Name").fill("Espoo Parents")
    field(page, "Kind").select_option("citizens_group")
    field(page, "Country").select_option("FIN")
    page.get_by_role("button", name="Create the group").click()
    page.get_by_role("heading", name="My initiatives").wait_for()


def _log_and_submit(page, screenshot):
    page.get_by_role("link", name="Log an initiative").first.click()
    field(page, "Title").fill("Parents online")
    field(page, "Summary").fill("Young parents help each other on a moderated network.")
    field(page, "Description").fill("Social workers moderate the forum.")
    field(page, "Sector").select_option("10")
    field(page, "Level of government").select_option("local")
    field(page, "Lead public body").fill("City of Espoo social services")
    field(page, "Start date").fill("2024-03-01")
    field(page, "Design — Citizen: level").select_option("group")
    field(page, "Design — Citizen: role").fill("Parents choose the topics")
    field(page, "Deliver — Public professional: level").select_option("individual")
    page.get_by_role("checkbox", name="Increase the involvement of citizens").check()
    page.get_by_role("checkbox", name="Shortage of resources").first.check()
    screenshot(page, "02-log-initiative-form")
    page.get_by_role("button", name="Save and submit for review").click()
    page.get_by_text("Submitted for review.").first.wait_for()
    screenshot(page, "03-submitted-case-page")
    return Initiative.objects.get(title="Parents online")


def _approve_in_admin(new_page, initiative, screenshot):
    StaffFactory(username="officer", password=PASSWORD, email="officer@example.org")
    page = new_page()
    page.goto("/admin/login/")
    field(page, "Username").fill("officer")
    field(page, "Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.goto(
        f"/admin/initiatives/initiative/?q={initiative.reference}&review_status__exact=submitted"
    )
    page.locator("input[name=_selected_action]").first.check()
    page.locator("select[name=action]").select_option("approve_selected")
    page.locator("button[name=index]").click()
    page.get_by_role("button", name="Approve and publish").click()  # the confirmation
    page.get_by_text("approved and published").first.wait_for()
    screenshot(page, "04-admin-approved")


def test_a_citizen_logs_an_initiative_that_staff_publish_and_the_public_finds(new_page, screenshot):
    page = new_page()
    _sign_up_and_create_group(page, screenshot)
    initiative = _log_and_submit(page, screenshot)
    assert initiative.review_status == ReviewStatus.SUBMITTED
    assert set(initiative.participations.values_list("phase", "partner_type")) == {
        ("design", "citizen"),
        ("deliver", "professional"),
    }

    _approve_in_admin(new_page, initiative, screenshot)
    initiative.refresh_from_db()
    assert initiative.review_status == ReviewStatus.PUBLISHED

    public = new_page()
    public.goto("/initiatives/")
    public.get_by_role("link", name="Parents online").wait_for()
    screenshot(public, "05-public-list")
    with public.expect_download() as download_info:
        public.get_by_role("link", name="Download CSV").click()
    body = Path(download_info.value.path()).read_text(encoding="utf-8")
    rows = list(csv.DictReader(io.StringIO(body)))
    assert [row["reference"] for row in rows] == [initiative.reference]
    assert rows[0]["participation"] == "design:citizen|deliver:professional"

    public.get_by_role("link", name="Parents online").click()
    public.get_by_role("heading", name="Who does what").wait_for()
    screenshot(public, "06-public-case-page")

    public.get_by_role("link", name="Français").click()
    public.wait_for_url(f"**/fr/initiatives/{initiative.reference}/")
    assert public.locator("html").get_attribute("lang") == "fr"
    public.get_by_role("heading", name="Qui fait quoi").wait_for()
    assert "Protection sociale" in public.content()
    screenshot(public, "07-case-page-fr")
    public.goto("/fr/initiatives/")
    public.get_by_role("heading", name="Initiatives", exact=True).wait_for()
    assert "Filtrer" in public.content()
    screenshot(public, "08-list-fr")


def test_the_dashboard_says_what_is_missing_and_the_form_keeps_input_on_errors(
    new_page, screenshot
):
    page = new_page()
    _sign_up_and_create_group(page, screenshot)
    page.get_by_role("link", name="Log an initiative").first.click()
    field(page, "Title").fill("Half done")
    field(page, "Sector").select_option("07")
    field(page, "Level of government").select_option("regional")
    field(page, "Start date").fill("2024-05-01")
    field(page, "End date").fill("2024-01-01")
    page.get_by_role("button", name="Save as draft").click()
    summary = page.locator(".error-summary")
    summary.wait_for()
    assert "before the start date" in summary.inner_text()
    assert field(page, "Title").input_value() == "Half done"
    screenshot(page, "09-form-errors")
    field(page, "End date").fill("")
    page.get_by_role("button", name="Save as draft").click()
    page.get_by_text("Saved as a draft.").wait_for()
    page.get_by_role("link", name="My initiatives").click()
    assert "at least one objective" in page.content()
    screenshot(page, "10-dashboard")


def test_account_tokens_membership_and_keyboard_use(new_page, screenshot, live_server):
    page = new_page()
    outside = []
    page.on(
        "request",
        lambda request: (
            None
            if request.url.startswith((live_server.url, "data:"))
            else outside.append(request.url)
        ),
    )
    _sign_up_and_create_group(page, screenshot)

    page.get_by_role("link", name="Account").click()
    field(page, "Token name").fill("weekly export")
    page.get_by_role("button", name="Create token").click()
    key = page.locator("#new-key").input_value()
    assert "." in key
    assert len(key) > 40
    screenshot(page, "11-account-new-token")
    page.reload()
    assert key not in page.content()
    page.get_by_role("link", name="Espoo Parents").click()
    page.get_by_role("heading", name="Members").wait_for()
    screenshot(page, "12-organisation-members")

    # The first Tab reaches the skip link, which is then visible, and it leads to the content.
    page.goto("/initiatives/")
    page.keyboard.press("Tab")
    skip = page.get_by_role("link", name="Skip to content")
    assert skip.evaluate("element => element === document.activeElement")
    box = skip.bounding_box()
    assert box is not None
    assert box["x"] >= 0
    outline = skip.evaluate("element => getComputedStyle(element).outlineStyle")
    assert outline not in ("", "none")
    assert outside == []
