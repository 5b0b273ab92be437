"""Background job pages and the admin's import pages in a real browser: a job waiting, one
that failed, a refused file's problems and a register preview to apply, in the admin and
on the site; the two import pages after a bad file. No axe-core violation that is critical
or serious, at 360 px and at 1280 px, and no page wider than a 360 px window."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from tests.browser.pages import (
    ACCEPTED,
    ARTIFACTS,
    AXE,
    overflow,
    run_axe,
    seed_demo,
    sign_in,
)

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

BAD_SURVEY = (
    "wave,country,respondent,sector,question,item,answer\n"
    "OECD-2010,XXX,r1,03,barriers,resources,yes\n"
    "OECD-2010,FIN,r2,03,barriers,a-very-long-item-code-that-nobody-ever-wrote,maybe\n"
)
REGISTER_HEADER = "title,summary,country,sector,level\n"
GOOD_REGISTER = REGISTER_HEADER + "A new initiative,What it does,FIN,03,local\n"
BAD_REGISTER = (
    REGISTER_HEADER
    + "A new initiative,What it does,XXX,03,local\n"
    + ",No title,FIN,03,somewhere-between-local-and-national-and-then-some\n"
)


@pytest.fixture
def jobs(vocabulary, settings):
    """The demo world, and staff's jobs in each state a job page shows."""
    from django.contrib.auth import get_user_model

    from initiatives.jobs import register_import_start
    from survey.jobs import execute_job, survey_import_start
    from survey.models import Job
    from survey.uploads import keep_upload

    seed_demo(settings)
    settings.JOB_HEARTBEAT_SECONDS = 0.05
    staff = get_user_model().objects.get(username="staff")

    def survey_job(text):
        upload = SimpleUploadedFile("survey-with-a-rather-long-file-name.csv", text.encode())
        key = keep_upload(upload, owner=staff)
        return survey_import_start(owner=staff, upload_key=key, name=upload.name)

    def register_job(text, **options):
        upload = SimpleUploadedFile("register.csv", text.encode())
        return register_import_start(owner=staff, upload=upload, **options)

    made = {
        "survey-refused": survey_job(BAD_SURVEY),
        "register-refused": register_job(BAD_REGISTER, dry_run=False),
        "register-preview": register_job(GOOD_REGISTER),
    }
    for job in made.values():
        execute_job(job.pk)
    made["survey-waiting"] = survey_job(BAD_SURVEY)
    made["register-failed"] = register_job(GOOD_REGISTER, dry_run=False)
    Job.objects.filter(pk=made["register-failed"].pk).update(
        status=Job.Status.FAILED, message="The worker running this job stopped."
    )
    return made


def _signed_in(browser, live_server):
    # axe is injected as a script: the page's CSP would refuse it.
    context = browser.new_context(base_url=live_server.url, locale="en-GB", bypass_csp=True)
    page = context.new_page()
    sign_in(page, "/admin/login/", "staff", "staff-demo")
    return page


def _check(page, label):
    """The page as it is now: axe and the page's width, at 360 px then at 1280 px."""
    problems = []
    path = page.url.split("/", 3)[-1]
    for width in (360, 1280):
        page.set_viewport_size({"width": width, "height": 900})
        for impact, rule, count, targets in run_axe(page):
            accepted = any(f"/{path}".startswith(start) and rule == r for start, r in ACCEPTED)
            if impact in ("critical", "serious") or not accepted:
                problems.append(f"{label} at {width}px: axe {impact} {rule} ×{count} {targets}")
        extra = overflow(page)
        if extra > 0:
            problems.append(f"{label}: {extra}px wider than a {width}px window")
        page.screenshot(path=str(ARTIFACTS / f"jobs-{label}-{width}.png"), full_page=True)
    return problems


def test_job_pages_in_the_admin_and_on_the_site(jobs, browser, live_server):
    if not AXE.exists():
        pytest.fail(f"axe-core is not installed: run `npm ci` in {AXE.parents[2]}")
    ARTIFACTS.mkdir(exist_ok=True)
    page = _signed_in(browser, live_server)
    problems = []
    for name, job in jobs.items():
        for where, url in (
            ("admin", f"/admin/survey/job/{job.pk}/change/"),
            ("site", f"/jobs/{job.pk}/"),
        ):
            page.goto(url, wait_until="load")
            problems += _check(page, f"{where}-{name}")
    assert not problems, "\n".join(problems)

    # A running job's page follows it without reloading itself.
    from survey.jobs import execute_job

    waiting = jobs["survey-waiting"]
    page.goto(f"/jobs/{waiting.pk}/", wait_until="networkidle")
    page.evaluate("window.sameDocument = true")
    execute_job(waiting.pk)
    page.locator(".job-status strong", has_text="finished").wait_for(timeout=10_000)
    assert page.evaluate("window.sameDocument === true")
    assert "Problems found" in page.content()

    # What the pages were checked with is on them.
    page.goto(f"/jobs/{jobs['register-refused'].pk}/")
    assert "Unknown code “XXX”" in page.content()
    page.goto(f"/admin/survey/job/{jobs['register-preview'].pk}/change/")
    page.get_by_role("button", name="Apply this import").click()
    page.wait_for_load_state("networkidle")
    assert "/admin/survey/job/" in page.url
    assert str(jobs["register-preview"].pk) not in page.url
    page.context.close()


def test_admin_import_pages_showing_a_bad_files_problems(jobs, browser, live_server, tmp_path):
    if not AXE.exists():
        pytest.fail(f"axe-core is not installed: run `npm ci` in {AXE.parents[2]}")
    page = _signed_in(browser, live_server)
    problems = []

    survey = tmp_path / "bad-survey.csv"
    survey.write_text(BAD_SURVEY)
    page.goto("/admin/survey/response/import/", wait_until="networkidle")
    page.set_input_files("input[name=file]", str(survey))
    page.get_by_role("button", name="Import", exact=True).click()
    page.wait_for_load_state("networkidle")
    assert "XXX" in page.content()
    problems += _check(page, "admin-survey-import-refused")

    register = tmp_path / "bad-register.csv"
    register.write_text(BAD_REGISTER)
    page.goto("/admin/initiatives/initiative/import/", wait_until="networkidle")
    page.set_input_files("input[name=file]", str(register))
    page.get_by_role("button", name="Preview").click()
    page.wait_for_load_state("networkidle")
    assert "Unknown code “XXX”" in page.content()
    problems += _check(page, "admin-register-import-refused")

    assert not problems, "\n".join(problems)
    page.context.close()
