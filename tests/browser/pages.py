"""What the page-wide browser tests share: the demo world, the pages a person can reach in
it, axe-core (installed from the npm registry by `.ci/run`, injected from disk) and the
page geometry."""

import json
from pathlib import Path

import pytest
from django.contrib import admin
from django.core.management import call_command
from django.urls import reverse

AXE = Path(__file__).resolve().parent / "node_modules" / "axe-core" / "axe.min.js"
ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts"
WIDTHS = (360, 1280)

#: Moderate and minor findings that stay, each with its reason, by the start of the page's
#: path and the rule. Anything critical or serious fails the test whatever this says.
ACCEPTED = {
    # Django's tabular inline heads its first column (each row's hidden id and name) and its
    # delete column with empty cells; every control in them has its own name.
    ("/admin/", "empty-table-header"): "Django's tabular inline leaves two header cells empty",
    # Swagger UI builds /api/docs/ in the browser from its own script: its heading levels
    # and the wrapper around its description are its markup, not coprod's.
    ("/api/docs/", "heading-order"): "Swagger UI's own headings (h2 title, then h3 tags)",
    ("/api/docs/", "region"): "Swagger UI's description block sits outside its landmarks",
}


def seed_demo(settings):
    """The demo data (`make run`): every kind of page has something to show."""
    settings.DEBUG = True  # seed_demo refuses otherwise
    call_command("seed_demo", stdout=open("/dev/null", "w"))  # noqa: SIM115
    settings.DEBUG = False


def public_pages():
    from initiatives.models import Initiative

    case = Initiative.objects.published().order_by("reference").first()
    pilot = Initiative.objects.published().filter(stage="pilot").order_by("reference").first()
    return [
        "/",
        "/initiatives/",
        "/initiatives/?q=no-such-initiative-anywhere",
        "/initiatives/?country=FIN&stage=pilot&ordering=title",
        case.get_absolute_url(),
        pilot.get_absolute_url(),
        "/reports/",
        "/reports/indicators/",
        "/reports/indicators/?by=country&question=factors",
        "/reports/waves/?question=barriers",
        "/reports/maturity/",
        "/reports/maturity/indicators/",
        "/reports/maturity/indicators/?question=barriers&country=FIN",
        "/reports/countries/FIN/",
        "/reports/evidence/",
        "/api/",
        "/accounts/login/",
        "/accounts/signup/",
        "/accounts/password_reset/",
        "/no-such-page/",
    ]


def member_pages(member):
    from initiatives.models import Initiative

    mine = Initiative.objects.filter(organisation__memberships__user=member)
    draft = mine.exclude(review_status="published").order_by("reference").first()
    published = mine.filter(review_status="published").order_by("reference").first()
    organisation = member.memberships.first().organisation
    pages = [
        "/my-initiatives/",
        "/account/",
        "/initiatives/new/",
        f"/initiatives/{published.reference}/",
        f"/initiatives/{published.reference}/edit/",
        f"/initiatives/{published.reference}/activities/new/",
        f"/initiatives/{published.reference}/stage/",
        f"/organisations/{organisation.pk}/",
        "/organisations/new/",
        "/organisations/join/",
        "/accounts/password_change/",
    ]
    if draft:
        pages.append(f"/initiatives/{draft.reference}/edit/")
    return pages


def admin_pages():
    """Every changelist and one change page of each model, the add pages and the admin's
    own pages."""
    pages = ["/admin/", "/admin/initiatives/", "/admin/survey/"]
    for model in admin.site._registry:
        opts = model._meta
        pages.append(reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist"))
        first = model.objects.order_by("pk").first()
        if first is not None:
            pages.append(
                reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[first.pk])
            )
            pages.append(
                reverse(f"admin:{opts.app_label}_{opts.model_name}_history", args=[first.pk])
            )
    from initiatives.models import Initiative

    case = Initiative.objects.published().order_by("reference").first()
    pages += [
        "/admin/initiatives/initiative/add/",
        "/admin/initiatives/initiative/?queue=waiting",
        "/admin/initiatives/initiative/?q=zzz-no-match",
        f"/admin/initiatives/initiative/{case.pk}/change-stage/",
        "/admin/survey/response/import/",
        "/reports/readiness/",
    ]
    return pages


def sign_in(page, path, username, password):
    """Sign in through the login form at `path`; fails the test if the form comes back."""
    page.goto(path)
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password)
    with page.expect_navigation(wait_until="load"):
        page.locator("form [type=submit]").last.click()
    assert "/login/" not in page.url, f"{username} could not sign in ({page.url})"


def run_axe(page):
    """axe-core's violations on the page as it is now: [(impact, rule, count, targets)]."""
    if not page.evaluate("typeof axe === 'object'"):  # see `check_pages`
        page.add_script_tag(path=str(AXE))
    found = page.evaluate(
        """async () => {
            const result = await axe.run(document, {resultTypes: ["violations"]});
            return result.violations.map(v => [
                v.impact, v.id, v.nodes.length, v.nodes.slice(0, 3).map(n => n.target.join(" "))
            ]);
        }"""
    )
    return [tuple(v) for v in found]


def overflow(page):
    """How many pixels the page is wider than the window (0 when it fits)."""
    return page.evaluate(
        "Math.max(document.documentElement.scrollWidth, document.body.scrollWidth)"
        " - window.innerWidth"
    )


def check_pages(browser_context, paths, label, *, screenshots=()):
    """Open each path; run axe at 1280 px, measure the page at each width. Returns the
    problems as readable lines (empty when every page passes)."""
    if not AXE.exists():
        pytest.fail(f"axe-core is not installed: run `npm ci` in {AXE.parents[2]}")
    ARTIFACTS.mkdir(exist_ok=True)
    # axe-core is in each page from its start, rather than added to each page afterwards.
    browser_context.add_init_script(path=str(AXE))
    page = browser_context.new_page()
    problems, seen = [], {}
    for path in paths:
        page.set_viewport_size({"width": 1280, "height": 900})
        # "load": the page and everything it links (styles, scripts, images) are in. No page
        # here fetches its content afterwards, but the API docs, waited for below.
        page.goto(path, wait_until="load")
        if path.startswith("/api/docs/"):
            page.wait_for_selector(".opblock")
        for impact, rule, count, targets in run_axe(page):
            accepted = any(path.startswith(start) and rule == name for start, name in ACCEPTED)
            if impact in ("critical", "serious") or not accepted:
                problems.append(f"{label} {path}: axe {impact} {rule} ×{count} {targets}")
        for width in WIDTHS:
            page.set_viewport_size({"width": width, "height": 900})
            extra = overflow(page)
            if extra > 0:
                problems.append(f"{label} {path}: {extra}px wider than a {width}px window")
            if path in screenshots:
                name = screenshots[path]
                page.screenshot(path=str(ARTIFACTS / f"{label}-{name}-{width}.png"), full_page=True)
        seen[path] = page.title()
    page.close()
    (ARTIFACTS / f"pages-{label}.json").write_text(json.dumps(seen, indent=1))
    return problems
