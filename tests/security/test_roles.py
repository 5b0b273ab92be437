"""Staff roles: what each role may do, the same through the site, the API and the admin.

`is_staff` alone opens the admin's door and grants nothing else; everything else comes
from the permissions of the role's group, seeded by the migration `0005_staff_roles`.
"""

import pytest
from django.contrib.auth.models import Group
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile

from initiatives import roles, rules, services
from initiatives.models import Initiative, Organisation, ReviewStatus
from survey.models import Wave
from tests.factories import OrganisationFactory, make_initiative, staff_in_role, token_client

SURVEY_FILE = (
    "wave,country,respondent,sector,question,item,answer\n"
    "ROLE-2026,FIN,r1,03,barriers,resources,yes\n"
)


def body(response):
    return b"".join(response.streaming_content).decode()


def survey_upload():
    return SimpleUploadedFile("wave.csv", SURVEY_FILE.encode(), content_type="text/csv")


@pytest.fixture
def draft(db, member):
    organisation = member.memberships.get().organisation
    return make_initiative(by=member, organisation=organisation, title="A draft of the group")


@pytest.fixture
def submitted(db, member):
    organisation = member.memberships.get().organisation
    initiative = make_initiative(by=member, organisation=organisation, title="Waiting for review")
    Initiative.objects.filter(pk=initiative.pk).update(review_status=ReviewStatus.SUBMITTED)
    initiative.refresh_from_db()
    return initiative


ROLE_NAMES = [roles.CASE_OFFICER, roles.SURVEY_MANAGER, roles.ANALYST, roles.ADMINISTRATOR]


def test_the_migration_seeds_the_four_roles(db):
    groups = {group.name: group for group in Group.objects.prefetch_related("permissions")}
    assert set(ROLE_NAMES) <= groups.keys()

    def held(name):
        return {f"{p.content_type.app_label}.{p.codename}" for p in groups[name].permissions.all()}

    officer, surveys, analyst, administrator = (held(name) for name in ROLE_NAMES)
    assert {rules.REVIEW, rules.READ_ALL, rules.ANNOTATE, rules.CHANGE_ANY} <= officer
    assert not officer & {rules.VERIFY, rules.IMPORT_SURVEY, rules.PURGE}
    assert {rules.IMPORT_SURVEY, rules.DELETE_SURVEY, rules.VIEW_SURVEY} <= surveys
    assert not any(perm.startswith("initiatives.") for perm in surveys)
    assert rules.READ_ALL in analyst
    assert all(perm.split(".")[1].startswith("view_") for perm in analyst)
    assert {rules.VERIFY, rules.PURGE, rules.IMPORT_SURVEY, rules.REVIEW} <= administrator
    assert officer | surveys | analyst <= administrator


def test_synchronising_again_changes_nothing(db):
    from django.apps import apps

    before = {g.name: set(g.permissions.values_list("pk", flat=True)) for g in Group.objects.all()}
    roles.sync_roles(apps)
    after = {g.name: set(g.permissions.values_list("pk", flat=True)) for g in Group.objects.all()}
    assert after == before


# --- staff with no role: the admin's door and nothing else --------------------------


def test_staff_without_a_role_is_refused_everywhere(db, client, draft, organisation):
    nobody = staff_in_role(None)
    api = token_client(nobody)

    imported = api.post("/api/survey/responses/import/", {"file": survey_upload()})
    assert imported.status_code == 403
    assert not Wave.objects.filter(code="ROLE-2026").exists()
    assert api.get("/api/survey/responses/").status_code == 403

    verified = api.patch(
        f"/api/organisations/{organisation.pk}/", {"verified": True}, format="json"
    )
    assert verified.status_code == 403
    organisation.refresh_from_db()
    assert not organisation.verified

    listed = api.get("/api/initiatives/").json()["results"]
    assert draft.reference not in {row["reference"] for row in listed}
    assert api.get(f"/api/initiatives/{draft.reference}/").status_code == 404

    client.force_login(nobody)
    export = body(client.get("/initiatives/export.csv"))
    assert "A draft of the group" not in export
    assert client.get("/reports/readiness/").status_code == 403
    admin = client.get("/admin/")
    assert admin.status_code == 200
    assert "permission to view or edit anything" in admin.content.decode()
    assert client.get("/admin/initiatives/initiative/").status_code == 403


# --- case officer ------------------------------------------------------------------


def test_a_case_officer_reviews_through_the_api(db, submitted):
    officer = staff_in_role(roles.CASE_OFFICER)
    api = token_client(officer)
    assert api.get(f"/api/initiatives/{submitted.reference}/").status_code == 200
    approved = api.post(f"/api/initiatives/{submitted.reference}/approve/")
    assert approved.status_code == 200, approved.json()
    submitted.refresh_from_db()
    assert submitted.review_status == ReviewStatus.PUBLISHED

    staged = api.post(
        f"/api/initiatives/{submitted.reference}/stage/",
        {"to_stage": "pilot", "reason": "Running in two districts"},
        format="json",
    )
    assert staged.status_code == 201, staged.json()
    submitted.refresh_from_db()
    assert submitted.stage == "pilot"


def test_a_case_officer_neither_imports_nor_verifies(db, organisation):
    api = token_client(staff_in_role(roles.CASE_OFFICER))
    assert api.post("/api/survey/responses/import/", {"file": survey_upload()}).status_code == 403
    refused = api.patch(f"/api/organisations/{organisation.pk}/", {"verified": True}, format="json")
    assert refused.status_code in (400, 403)
    organisation.refresh_from_db()
    assert not organisation.verified


def test_a_case_officer_works_in_the_admin(db, client, submitted):
    officer = staff_in_role(roles.CASE_OFFICER)
    client.force_login(officer)
    changelist = client.get("/admin/initiatives/initiative/?archived=all")
    assert changelist.status_code == 200
    actions = {choice[0] for choice in changelist.context["action_form"].fields["action"].choices}
    assert {
        "approve_selected",
        "return_selected",
        "assign_to_me",
        "change_stage_selected",
    } <= actions
    assert "archive_selected" in actions
    assert client.get(f"/admin/initiatives/initiative/{submitted.pk}/change/").status_code == 200
    assert client.get("/admin/survey/wave/add/").status_code == 403
    assert client.get("/admin/auth/user/").status_code == 403

    client.post(
        "/admin/initiatives/initiative/?archived=all",
        {"action": "approve_selected", "_selected_action": [submitted.pk], "apply": "1"},
    )
    submitted.refresh_from_db()
    assert submitted.review_status == ReviewStatus.PUBLISHED


def test_case_officers_are_the_staff_who_review(db):
    officer = staff_in_role(roles.CASE_OFFICER)
    analyst = staff_in_role(roles.ANALYST)
    nobody = staff_in_role(None)
    chosen = set(rules.case_officers())
    assert officer in chosen
    assert not {analyst, nobody} & chosen


# --- survey manager ----------------------------------------------------------------


def test_a_survey_manager_imports_and_reads_records_only(db, client, draft):
    manager = staff_in_role(roles.SURVEY_MANAGER)
    api = token_client(manager)
    created = api.post(
        "/api/survey/responses/import/", {"file": survey_upload(), "create_wave": "true"}
    )
    assert created.status_code == 201, created.json()
    assert api.get("/api/survey/responses/").status_code == 200
    assert api.get(f"/api/initiatives/{draft.reference}/").status_code == 404

    client.force_login(manager)
    assert client.get("/admin/survey/response/import/").status_code == 200
    assert client.get("/reports/readiness/").status_code == 403
    assert client.get("/admin/initiatives/initiative/").status_code == 403


# --- analyst -----------------------------------------------------------------------


def test_an_analyst_reads_everything_and_changes_nothing(db, client, draft, submitted):
    analyst = staff_in_role(roles.ANALYST)
    api = token_client(analyst)
    listed = {row["reference"] for row in api.get("/api/initiatives/").json()["results"]}
    assert {draft.reference, submitted.reference} <= listed
    assert api.get(f"/api/initiatives/{draft.reference}/history/").status_code == 200
    assert api.get("/api/survey/responses/").status_code == 200

    changed = api.patch(f"/api/initiatives/{draft.reference}/", {"title": "Changed"}, format="json")
    assert changed.status_code in (403, 404)
    assert api.post(f"/api/initiatives/{submitted.reference}/approve/").status_code in (403, 404)
    assert api.post("/api/survey/responses/import/", {"file": survey_upload()}).status_code == 403
    draft.refresh_from_db()
    submitted.refresh_from_db()
    assert draft.title == "A draft of the group"
    assert submitted.review_status == ReviewStatus.SUBMITTED

    client.force_login(analyst)
    assert "A draft of the group" in body(client.get("/initiatives/export.csv"))
    assert client.get("/reports/readiness/").status_code == 200
    assert client.get(f"/initiatives/{draft.reference}/").status_code == 200
    assert client.get(f"/initiatives/{draft.reference}/edit/").status_code in (403, 404)
    page = client.get(f"/admin/initiatives/initiative/{draft.pk}/change/")
    assert page.status_code == 200
    assert 'name="_save"' not in page.content.decode()


def test_an_analyst_cannot_move_a_stage_or_archive(db, draft):
    analyst = staff_in_role(roles.ANALYST)
    with pytest.raises(PermissionDenied):
        services.initiative_change_stage(initiative=draft, to_stage="pilot", by=analyst)
    with pytest.raises(PermissionDenied):
        services.initiative_archive(initiative=draft, by=analyst, expected_version=None)
    draft.refresh_from_db()
    assert draft.stage == "planned"
    assert draft.archived_at is None


# --- administrator -----------------------------------------------------------------


def test_an_administrator_verifies_and_purges(db, member):
    administrator = staff_in_role(roles.ADMINISTRATOR)
    organisation = OrganisationFactory()
    verified = token_client(administrator).patch(
        f"/api/organisations/{organisation.pk}/", {"verified": True}, format="json"
    )
    assert verified.status_code == 200, verified.json()
    assert Organisation.objects.get(pk=organisation.pk).verified

    with pytest.raises(PermissionDenied):
        services.user_purge(user=member, by=staff_in_role(roles.CASE_OFFICER), reason="GDPR")
    services.user_purge(user=member, by=administrator, reason="GDPR request 12")
    member.refresh_from_db()
    assert not member.is_active
    assert member.email == ""


def test_only_staff_who_review_can_be_case_officers(db, client, draft):
    officer = staff_in_role(roles.CASE_OFFICER)
    nobody = staff_in_role(None)
    analyst = staff_in_role(roles.ANALYST)

    refused = token_client(officer).patch(
        f"/api/initiatives/{draft.reference}/",
        {"case_officer": nobody.pk},
        format="json",
        HTTP_IF_MATCH=f'"{draft.version}"',
    )
    assert refused.status_code == 400
    assert "case_officer" in refused.json()["details"]
    with pytest.raises(ValidationError) as error:
        services.initiative_update(
            initiative=draft,
            by=officer,
            expected_version=draft.version,
            fields={"case_officer": analyst},
        )
    assert "case_officer" in error.value.message_dict
    draft.refresh_from_db()
    assert draft.case_officer is None

    client.force_login(officer)
    form = client.get(f"/admin/initiatives/initiative/{draft.pk}/change/").context["adminform"]
    choices = set(form.form.fields["case_officer"].queryset)
    assert officer in choices
    assert not {nobody, analyst} & choices
