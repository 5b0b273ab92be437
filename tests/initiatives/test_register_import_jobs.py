"""The register import as a background job: a large file is previewed and imported by a
worker, through the admin and the API; the job page shows progress and the outcome; a
killed run writes nothing; only staff who may import the register start or see these jobs."""

import io

import openpyxl
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from rest_framework.test import APIClient

import initiatives.imports
from initiatives.jobs import LOCK, register_import_start
from initiatives.models import ApiToken, Initiative
from initiatives.roles import ANALYST, CASE_OFFICER, SURVEY_MANAGER
from survey.jobs import execute_job, visible_jobs
from survey.models import Job
from tests.factories import staff_in_role

pytestmark = pytest.mark.django_db

HEADER = "title,summary,country,sector,level\n"


def register_text(count=3, country="FIN"):
    return HEADER + "".join(
        f"Initiative {n},Summary {n},{country if n == count - 1 else 'FIN'},03,local\n"
        for n in range(count)
    )


def register_file(text, name="register.csv"):
    return SimpleUploadedFile(name, text.encode() if isinstance(text, str) else text)


@pytest.fixture(autouse=True)
def _fast_beats(settings):
    settings.JOB_HEARTBEAT_SECONDS = 0.05


@pytest.fixture
def officer(db):
    return staff_in_role(CASE_OFFICER)


@pytest.fixture
def officer_client(officer):
    client = Client()
    client.force_login(officer)
    return client


def api_for(user):
    client = APIClient()
    _, key = ApiToken.issue(user=user, name="import")
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    return client


def run(job):
    execute_job(job.pk)
    job.refresh_from_db()
    return job


def test_a_register_job_imports_with_progress_and_counts(officer, monkeypatch):
    monkeypatch.setattr(initiatives.imports, "PROGRESS_EVERY", 1)
    job = register_import_start(
        owner=officer, upload=register_file(register_text(3)), dry_run=False
    )
    assert (job.kind, job.lock, job.status) == (Job.Kind.REGISTER_IMPORT, LOCK, Job.Status.QUEUED)

    job = run(job)

    assert job.status == Job.Status.DONE
    assert (job.rows_read, job.rows_total, job.rows_written) == (3, 3, 3)
    assert job.outcome["ok"]
    assert (job.outcome["created"], job.outcome["updated"], job.outcome["unchanged"]) == (3, 0, 0)
    assert job.message == "Imported: 3 created, 0 updated, 0 unchanged."
    created = Initiative.objects.filter(title__startswith="Initiative ")
    assert created.count() == 3
    assert {i.history.earliest().history_user for i in created} == {officer}


def test_the_admin_previews_a_large_file_in_a_job_then_applies_it(officer_client, settings):
    settings.JOB_IMPORT_BYTES = 10
    response = officer_client.post(
        "/admin/initiatives/initiative/import/", {"file": register_file(register_text(2))}
    )
    preview = Job.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/admin/survey/job/{preview.pk}/change/"
    assert preview.params["dry_run"]
    page = officer_client.get(response["Location"]).content.decode()
    assert "<progress" in page
    assert "Register import" in page

    run(preview)
    assert Initiative.objects.count() == 0
    page = officer_client.get(response["Location"]).content.decode()
    assert "Preview, nothing written: 2 to create, 0 to update, 0 unchanged." in page
    assert "Apply this import" in page
    french = officer_client.get(f"/fr/jobs/{preview.pk}/").content.decode()
    assert "Import du registre" in french
    assert "Rien n’est encore écrit" in french
    assert "Appliquer cet import" in french

    response = officer_client.post(f"/jobs/{preview.pk}/apply/", {"admin": "1"})
    applied = Job.objects.exclude(pk=preview.pk).get()
    assert response["Location"] == f"/admin/survey/job/{applied.pk}/change/"
    assert not applied.params["dry_run"]
    assert applied.params["upload"] == preview.params["upload"]
    # Applying twice starts one import.
    officer_client.post(f"/jobs/{preview.pk}/apply/", {"admin": "1"})
    assert Job.objects.count() == 2

    run(applied)
    assert applied.status == Job.Status.DONE
    assert Initiative.objects.count() == 2
    page = officer_client.get(f"/admin/survey/job/{applied.pk}/change/").content.decode()
    assert "Imported: 2 created, 0 updated, 0 unchanged." in page
    site = officer_client.get(f"/jobs/{applied.pk}/").content.decode()
    assert "Imported: 2 created, 0 updated, 0 unchanged." in site
    preview_page = officer_client.get(f"/jobs/{preview.pk}/").content.decode()
    assert f"/jobs/{applied.pk}/" in preview_page


def test_a_small_file_is_still_previewed_and_imported_in_the_request(officer_client):
    response = officer_client.post(
        "/admin/initiatives/initiative/import/", {"file": register_file(register_text(2))}
    )
    assert response.status_code == 200
    assert not Job.objects.exists()


@pytest.mark.parametrize("dry_run", [False, True])
def test_the_api_answers_202_with_the_job_for_a_large_file(officer, settings, dry_run):
    settings.JOB_IMPORT_BYTES = 10
    response = api_for(officer).post(
        "/api/initiatives/import/",
        {"file": register_file(register_text(2)), "dry_run": dry_run},
        format="multipart",
    )
    assert response.status_code == 202, response.content
    job = Job.objects.get()
    body = response.json()
    assert (body["id"], body["kind"], body["status"]) == (str(job.pk), "register_import", "queued")
    assert body["url"] == f"/jobs/{job.pk}/"

    run(job)
    assert Initiative.objects.count() == (0 if dry_run else 2)
    body = api_for(officer).get(f"/api/survey/jobs/{job.pk}/").json()
    assert body["status"] == "done"
    assert body["outcome"]["created"] == 2
    assert body["outcome"]["dry_run"] is dry_run


def test_the_api_runs_a_small_file_in_a_job_when_asked(officer):
    response = api_for(officer).post(
        "/api/initiatives/import/",
        {"file": register_file(register_text(1)), "background": True},
        format="multipart",
    )
    assert response.status_code == 202
    assert Initiative.objects.count() == 0
    run(Job.objects.get())
    assert Initiative.objects.count() == 1


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_a_refused_file_shows_its_problems_on_the_job_page(officer, officer_client, fmt):
    text = register_text(3, country="XXX")
    if fmt == "xlsx":
        book = openpyxl.Workbook()
        for line in text.splitlines():
            book.active.append(line.split(","))
        out = io.BytesIO()
        book.save(out)
        content = out.getvalue()
    else:
        content = text.encode()
    job = register_import_start(
        owner=officer, upload=register_file(content, f"register.{fmt}"), dry_run=False
    )

    job = run(job)

    assert job.status == Job.Status.DONE
    assert not job.outcome["ok"]
    [error] = job.outcome["errors"]
    assert (error["line"], error["column"], error["value"]) == (4, "country", "XXX")
    assert error["cell"] == ("C4" if fmt == "xlsx" else "")
    assert Initiative.objects.count() == 0
    for url in (f"/admin/survey/job/{job.pk}/change/", f"/jobs/{job.pk}/"):
        page = officer_client.get(url).content.decode()
        assert "Problems found (nothing was imported)" in page
        assert "Unknown code “XXX”" in page
        assert "<td>4" in page
        assert "Apply this import" not in page


def test_a_run_killed_half_way_writes_nothing_and_fails_with_a_retry(
    officer, officer_client, monkeypatch
):
    job = register_import_start(
        owner=officer, upload=register_file(register_text(4)), dry_run=False
    )
    # New initiatives are checked one by one and written a batch at a time.
    real_add = initiatives.imports.Batch.add
    applied = []

    def dies_on_the_third_row(batch, row, *args, **kwargs):
        if len(applied) == 2:
            raise MemoryError("the worker ran out of memory")
        applied.append(row.line)
        return real_add(batch, row, *args, **kwargs)

    monkeypatch.setattr(initiatives.imports.Batch, "add", dies_on_the_third_row)

    job = run(job)

    assert job.status == Job.Status.FAILED
    assert "Nothing of it was written" in job.message
    assert Initiative.objects.count() == 0
    page = officer_client.get(f"/jobs/{job.pk}/").content.decode()
    assert "Retry" in page

    monkeypatch.setattr(initiatives.imports.Batch, "add", real_add)
    response = officer_client.post(f"/jobs/{job.pk}/retry/")
    assert response.status_code == 302
    job = run(job)
    assert job.status == Job.Status.DONE
    assert (job.attempts, Initiative.objects.count()) == (2, 4)


@pytest.mark.parametrize("role", [ANALYST, SURVEY_MANAGER, None])
def test_only_staff_who_may_import_the_register_start_such_a_job(role, settings):
    settings.JOB_IMPORT_BYTES = 10
    person = staff_in_role(role)
    client = Client()
    client.force_login(person)
    response = client.post(
        "/admin/initiatives/initiative/import/", {"file": register_file(register_text(2))}
    )
    assert response.status_code == 403
    response = api_for(person).post(
        "/api/initiatives/import/", {"file": register_file(register_text(2))}, format="multipart"
    )
    assert response.status_code == 403
    assert not Job.objects.exists()


def test_a_member_cannot_start_such_a_job(member, settings):
    settings.JOB_IMPORT_BYTES = 10
    response = api_for(member).post(
        "/api/initiatives/import/", {"file": register_file(register_text(2))}, format="multipart"
    )
    assert response.status_code == 403
    assert not Job.objects.exists()


def test_a_register_job_is_seen_only_by_its_owner_while_they_may_import(officer, member):
    job = register_import_start(owner=officer, upload=register_file(register_text(2)))
    run(job)
    for person in (staff_in_role(ANALYST), staff_in_role(CASE_OFFICER), member):
        client = Client()
        client.force_login(person)
        assert client.get(f"/jobs/{job.pk}/").status_code == 404
        assert client.post(f"/jobs/{job.pk}/apply/").status_code == 404
        assert client.post(f"/jobs/{job.pk}/retry/").status_code == 404
        assert api_for(person).get(f"/api/survey/jobs/{job.pk}/").status_code == 404
    # Its owner, no longer a case officer, no longer sees it either.
    assert visible_jobs(officer).filter(pk=job.pk).exists()
    officer.groups.clear()
    officer = type(officer).objects.get(pk=officer.pk)  # permissions are cached per object
    assert not visible_jobs(officer).filter(pk=job.pk).exists()
    client = Client()
    client.force_login(officer)
    assert client.get(f"/jobs/{job.pk}/").status_code == 404
    assert client.post(f"/jobs/{job.pk}/apply/").status_code == 404
    assert api_for(officer).get(f"/api/survey/jobs/{job.pk}/").status_code == 404


def test_only_a_clean_dry_run_can_be_applied(officer, officer_client):
    imported = run(
        register_import_start(owner=officer, upload=register_file(register_text(1)), dry_run=False)
    )
    refused = run(
        register_import_start(owner=officer, upload=register_file(register_text(2, country="XXX")))
    )
    waiting = register_import_start(owner=officer, upload=register_file(register_text(1)))
    for job in (imported, refused, waiting):
        assert officer_client.post(f"/jobs/{job.pk}/apply/").status_code == 403
    assert Job.objects.count() == 3


def test_a_preview_whose_file_is_no_longer_kept_says_so_instead_of_offering_to_apply(
    officer, officer_client
):
    from survey.uploads import forget_upload

    preview = run(register_import_start(owner=officer, upload=register_file(register_text(2))))
    assert "Apply this import" in officer_client.get(f"/jobs/{preview.pk}/").content.decode()
    forget_upload(preview.params["upload"], owner=officer)  # as forget_old_uploads does

    page = officer_client.get(f"/jobs/{preview.pk}/").content.decode()

    assert "Apply this import" not in page
    assert "has been removed: upload it again" in page
    assert officer_client.post(f"/jobs/{preview.pk}/apply/").status_code == 403
    assert Job.objects.count() == 1
    assert not Initiative.objects.exists()
