"""The permission table: every URL of the site, the API and the admin, as each identity.

Identities: anonymous; a member of group A (which owns the records); a member of group B;
each staff role; a staff account with no role. Expected answers follow the README's
"Staff roles" section and `initiatives/roles.py`, written out here by hand so that the
table does not re-derive them from the code under test.

`test_every_route_is_in_the_table` fails when the URLconf has a pattern the table does
not cover. Each cell is its own test: `test_cell[<row>-<identity>]`.

The module is long because it is one table, written out row by row, with the world it runs
in: split across files, a new URL could be covered in one and forgotten in another.
"""

import copy
import json
from dataclasses import dataclass, field
from datetime import date

import pytest
from axes.models import AccessAttempt, AccessFailureLog
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.test import Client, override_settings
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.urls.resolvers import LocalePrefixPattern

from initiatives import roles, services
from initiatives.models import (
    AccountabilityFramework,
    ApiToken,
    BudgetFramework,
    Initiative,
    Membership,
    Organisation,
    ReviewStatus,
)
from survey.models import ColumnMapping, Job, Wave
from survey.uploads import keep_upload
from tests.factories import (
    MembershipFactory,
    OrganisationFactory,
    add_participation,
    answer,
    make_initiative,
    staff_in_role,
)

ANON = "anonymous"
MEMBER_A = "member_a"
MEMBER_B = "member_b"
OFFICER = "case_officer"
SURVEYS = "survey_manager"
ANALYST = "analyst"
ADMINISTRATOR = "administrator"
NO_ROLE = "staff_no_role"
IDENTITIES = (ANON, MEMBER_A, MEMBER_B, OFFICER, SURVEYS, ANALYST, ADMINISTRATOR, NO_ROLE)

STAFF = (OFFICER, SURVEYS, ANALYST, ADMINISTRATOR, NO_ROLE)
NOT_STAFF = (ANON, MEMBER_A, MEMBER_B)
SIGNED_IN = tuple(i for i in IDENTITIES if i != ANON)
#: Read every initiative, drafts and internal notes included.
READ_ALL_STAFF = (OFFICER, ANALYST, ADMINISTRATOR)
#: Change any case file; review, change stages, decide proposals.
CASE_STAFF = (OFFICER, ADMINISTRATOR)
#: Read survey records; import and delete them.
SURVEY_READERS = (SURVEYS, ANALYST, ADMINISTRATOR)
SURVEY_WRITERS = (SURVEYS, ADMINISTRATOR)

LOGIN = "login"  # 302 to the site's sign-in page
ADMIN_LOGIN = "admin-login"  # 302 to the admin's sign-in page


def expect(default, *pairs):
    """{identity: answer}: `default` for everyone, then (identities, answer) overrides."""
    table = dict.fromkeys(IDENTITIES, default)
    for who, status in pairs:
        for identity in (who,) if isinstance(who, str) else who:
            table[identity] = status
    return table


EVERYONE_200 = expect(200)
SIGNED_IN_200 = expect(200, (ANON, LOGIN))
#: A's draft: A and the staff who read everything; hidden (404) from everyone else.
DRAFT_READ = expect(404, (MEMBER_A, 200), (READ_ALL_STAFF, 200))


@dataclass
class Row:
    id: str
    route: str  # URL name, resolved to its pattern for the coverage test
    url: object  # the concrete URL, or a function of the world that gives it
    method: str = "get"
    answers: dict = field(default_factory=dict)
    body: object = None  # a dict, or a function of the world
    api: bool = False
    unchanged: object = None  # a function of the world whose value a refusal must not change
    # Who may make the write (default: whoever gets a 2xx or 302); for everyone else
    # `unchanged` must hold.
    writers: tuple = ()
    xfail: dict = field(default_factory=dict)  # identity -> reason (application bugs)


# ---------------------------------------------------------------------------
# The world: built once for the module


def build_world():
    group_a = OrganisationFactory(name="Group A")
    group_b = OrganisationFactory(name="Group B")
    member_a = MembershipFactory(organisation=group_a, role="admin").user
    member_b = MembershipFactory(organisation=group_b, role="admin").user
    joiner = MembershipFactory(organisation=group_a, status=Membership.Status.PENDING).user
    people = {
        ANON: None,
        MEMBER_A: member_a,
        MEMBER_B: member_b,
        OFFICER: staff_in_role(roles.CASE_OFFICER),
        SURVEYS: staff_in_role(roles.SURVEY_MANAGER),
        ANALYST: staff_in_role(roles.ANALYST),
        ADMINISTRATOR: staff_in_role(roles.ADMINISTRATOR),
        NO_ROLE: staff_in_role(None),
    }
    draft = make_initiative(by=member_a, organisation=group_a, title="A's draft")
    published = make_initiative(
        by=member_a,
        organisation=group_a,
        title="A's published",
        review_status=ReviewStatus.PUBLISHED,
    )
    submitted = make_initiative(
        by=member_a,
        organisation=group_a,
        title="A's submitted",
        review_status=ReviewStatus.SUBMITTED,
    )
    AccountabilityFramework.objects.create(initiative=published, accountable_body="Council")
    BudgetFramework.objects.create(initiative=published, amount=1000, currency="EUR")
    wave = Wave.objects.get(code="OECD-2010")
    answer(wave, "FIN", "table-respondent", "07", "barriers", {"resources": True})
    AccessAttempt.objects.create(
        username="someone", ip_address="192.0.2.1", user_agent="t", failures_since_start=1
    )
    AccessFailureLog.objects.create(username="someone", ip_address="192.0.2.1", user_agent="t")
    world = {
        "people": people,
        "group_a": group_a,
        "group_b": group_b,
        "joiner": Membership.objects.get(user=joiner),
        "draft": draft,
        "published": published,
        "submitted": submitted,
        "participation": add_participation(published),
        "draft_participation": add_participation(draft),
        "activity": _activity(published, member_a),
        "document": _document(published),
        "draft_document": _document(draft),
        "proposal": services.stage_proposal_create(
            initiative=published, to_stage="pilot", by=member_a, reason="Ready to try"
        ),
        "token": ApiToken.issue(user=member_a, name="A's laptop")[0],
        "wave": wave,
        "job": Job.objects.create(
            kind=Job.Kind.SURVEY_IMPORT, owner=people[SURVEYS], status=Job.Status.FAILED
        ),
        # A register import's preview that passed: its owner may apply it.
        "register_job": Job.objects.create(
            kind=Job.Kind.REGISTER_IMPORT,
            owner=people[OFFICER],
            status=Job.Status.DONE,
            params={
                "dry_run": True,
                "upload": keep_upload(
                    SimpleUploadedFile("register.csv", b"title\n"), owner=people[OFFICER]
                ),
            },
            outcome={"ok": True},
        ),
        "mapping": ColumnMapping.objects.create(
            name="table", columns="barriers[SQ001] = barriers/resources"
        ),
        "keys": {},
        "cookies": {},
    }
    for identity, person in people.items():
        if person is None:
            continue
        world["keys"][identity] = ApiToken.issue(user=person, name="table")[1]
        client = Client()
        client.force_login(person)
        world["cookies"][identity] = client.cookies
    return world


def _activity(initiative, author):
    from initiatives.models import Activity

    return Activity.objects.create(
        initiative=initiative, author=author, kind="note", date="2024-03-01", text="Met"
    )


def _document(initiative):
    from django.core.files.base import ContentFile

    from initiatives.models import Activity

    return Activity.objects.create(
        initiative=initiative,
        kind="document",
        date="2024-03-01",
        text="Minutes",
        file=ContentFile(b"%PDF-1.4 minutes", name="minutes.pdf"),
    )


def document_of(initiative, activity):
    return lambda w: f"/initiatives/{w[initiative].reference}/documents/{w[activity].pk}/"


def ref(name, suffix=""):
    return lambda w: f"/initiatives/{w[name].reference}/{suffix}"


def api_ref(name, suffix=""):
    return lambda w: f"/api/initiatives/{w[name].reference}/{suffix}"


def state_of(name):
    def read(w):
        i = Initiative.objects.get(pk=w[name].pk)
        return (i.version, i.title, i.review_status, i.stage, i.archived_at)

    return read


def organisation_state(w):
    return list(Organisation.objects.order_by("pk").values_list("name", "verified"))


def survey_waves(w):
    return sorted(Wave.objects.values_list("code", flat=True))


def users_state(w):
    return list(get_user_model().objects.order_by("pk").values_list("pk", "is_active", "email"))


SURVEY_FILE = (
    "wave,country,respondent,sector,question,item,answer\n"
    "TABLE-2026,FIN,r1,03,barriers,resources,yes\n"
)


WIDE_FILE = "id,country,sector,barriers[SQ001]\n1,FIN,03,Y\n"


def job_states(w):
    return list(Job.objects.order_by("pk").values_list("pk", "status"))


def job_url(suffix=""):
    return lambda w: f"/jobs/{w['job'].pk}/{suffix}"


def admin_job_url(suffix):
    return lambda w: f"/admin/survey/job/{w['job'].pk}/{suffix}"


#: A person's background job: theirs alone (other staff are sent back to the list).
OWNER_ONLY_SITE = expect(404, (ANON, LOGIN), (SURVEYS, 200))
OWNER_ONLY_ADMIN = expect(302, (NOT_STAFF, ADMIN_LOGIN), (SURVEYS, 200))
#: A register import's job: its owner's, while they may import the register.
REGISTER_JOB_SITE = expect(404, (ANON, LOGIN), (OFFICER, 200))


def register_job_url(suffix=""):
    return lambda w: f"/jobs/{w['register_job'].pk}/{suffix}"


REGISTER_FILE = "title,country,sector,level\nTable initiative,FIN,03,local\n"


def register_upload_in_background(w):
    upload = SimpleUploadedFile("register.csv", REGISTER_FILE.encode(), content_type="text/csv")
    return {"file": upload, "background": "true"}


def mapping_names(w):
    return sorted(ColumnMapping.objects.values_list("name", flat=True))


def wide_upload(w):
    upload = SimpleUploadedFile("wide.csv", WIDE_FILE.encode(), content_type="text/csv")
    return {"file": upload}


def survey_upload(w):
    upload = SimpleUploadedFile("wave.csv", SURVEY_FILE.encode(), content_type="text/csv")
    return {"file": upload, "create_wave": "true"}


# ---------------------------------------------------------------------------
# The site

CHANGE_DRAFT = expect(404, (ANON, LOGIN), (MEMBER_A, 200), (CASE_STAFF, 200), (ANALYST, 403))
CHANGE_PUBLISHED = expect(403, (ANON, LOGIN), (MEMBER_A, 200), (CASE_STAFF, 200))
WROTE = 302  # a site form that was accepted redirects

SITE = [
    Row("site-home", "initiatives:home", "/", answers=EVERYONE_200),
    Row("site-home-fr", "initiatives:home", "/fr/", answers=EVERYONE_200),
    Row("site-list", "initiatives:list", "/initiatives/", answers=EVERYONE_200),
    Row("site-export", "initiatives:export", "/initiatives/export.csv", answers=EVERYONE_200),
    Row(
        "site-export-spreadsheet",
        "initiatives:export_spreadsheet",
        "/initiatives/export-spreadsheet.csv",
        answers=EVERYONE_200,
    ),
    Row(
        "site-export-xlsx",
        "initiatives:export_xlsx",
        "/initiatives/export.xlsx",
        answers=EVERYONE_200,
    ),
    Row("site-codebook", "initiatives:codebook", "/initiatives/codebook.csv", answers=EVERYONE_200),
    Row(
        "site-codebook-xlsx",
        "initiatives:codebook_xlsx",
        "/initiatives/codebook.xlsx",
        answers=EVERYONE_200,
    ),
    Row("site-dashboard", "initiatives:dashboard", "/my-initiatives/", answers=SIGNED_IN_200),
    Row("site-detail-draft", "initiatives:detail", ref("draft"), answers=DRAFT_READ),
    Row(
        "site-detail-draft-fr",
        "initiatives:detail",
        lambda w: f"/fr/initiatives/{w['draft'].reference}/",
        answers=DRAFT_READ,
    ),
    Row("site-detail-published", "initiatives:detail", ref("published"), answers=EVERYONE_200),
    Row("site-edit-draft", "initiatives:edit", ref("draft", "edit/"), answers=CHANGE_DRAFT),
    Row(
        "site-edit-published",
        "initiatives:edit",
        ref("published", "edit/"),
        answers=CHANGE_PUBLISHED,
    ),
    Row(
        "site-edit-published-POST",
        "initiatives:edit",
        ref("published", "edit/"),
        method="post",
        body=lambda w: _edit_data(w, "published"),
        answers=expect(403, (ANON, LOGIN), (MEMBER_A, WROTE), (CASE_STAFF, WROTE)),
        unchanged=state_of("published"),
        writers=(MEMBER_A, *CASE_STAFF),
    ),
    Row(
        "site-submit-draft-POST",
        "initiatives:submit",
        ref("draft", "submit/"),
        method="post",
        # The draft lacks what a submission needs: those allowed to submit get the case page
        # again with each missing field marked (400); what matters is that nothing changed.
        answers=expect(404, (ANON, LOGIN), (MEMBER_A, 400), (CASE_STAFF, 400), (ANALYST, 403)),
        unchanged=state_of("draft"),
        writers=(MEMBER_A, *CASE_STAFF),
    ),
    Row(
        "site-activity-add",
        "initiatives:activity_add",
        ref("published", "activities/new/"),
        answers=CHANGE_PUBLISHED,
    ),
    Row(
        "site-activity-add-POST",
        "initiatives:activity_add",
        ref("published", "activities/new/"),
        method="post",
        body={"kind": "note", "date": "2025-02-01", "text": "Walked the district"},
        answers=expect(403, (ANON, LOGIN), (MEMBER_A, WROTE), (CASE_STAFF, WROTE)),
        unchanged=lambda w: w["published"].activities.count(),
        writers=(MEMBER_A, *CASE_STAFF),
    ),
    Row(
        "site-stage-proposal",
        "initiatives:stage_proposal",
        ref("published", "stage/"),
        answers=CHANGE_PUBLISHED,
    ),
    Row(
        "site-stage-proposal-POST",
        "initiatives:stage_proposal",
        ref("draft", "stage/"),
        method="post",
        body={"to_stage": "pilot", "reason": "Two districts now"},
        answers=expect(404, (ANON, LOGIN), (MEMBER_A, WROTE), (CASE_STAFF, WROTE), (ANALYST, 403)),
        unchanged=lambda w: w["draft"].stage_proposals.count(),
        writers=(MEMBER_A, *CASE_STAFF),
    ),
    Row(
        "site-document-published",
        "initiatives:document",
        document_of("published", "document"),
        answers=EVERYONE_200,
    ),
    Row(
        "site-document-draft",
        "initiatives:document",
        document_of("draft", "draft_document"),
        answers=DRAFT_READ,
    ),
    Row(
        "site-document-not-a-file",
        "initiatives:document",
        document_of("published", "activity"),
        # A note has no file: 404 even for those who may read the case.
        answers=expect(404),
    ),
    Row(
        "site-create",
        "initiatives:create",
        "/initiatives/new/",
        # Without a group, one is sent to create or join one first.
        answers=expect(302, (ANON, LOGIN), (MEMBER_A, 200), (MEMBER_B, 200), (CASE_STAFF, 200)),
    ),
    Row("site-signup", "initiatives:signup", "/accounts/signup/", answers=expect(302, (ANON, 200))),
    Row(
        "site-signup-POST",
        "initiatives:signup",
        "/accounts/signup/",
        method="post",
        body={
            "email": "new@example.org",
            "password1": "a-long-new-passphrase",
            "password2": "a-long-new-passphrase",
        },
        answers=expect(302),
    ),
    Row("site-account", "initiatives:account", "/account/", answers=SIGNED_IN_200),
    Row(
        "site-account-POST",
        "initiatives:account",
        "/account/",
        method="post",
        body={"token-name": "script"},
        answers=SIGNED_IN_200,
    ),
    Row(
        "site-token-revoke-POST",
        "initiatives:token_revoke",
        lambda w: f"/account/tokens/{w['token'].pk}/revoke/",
        method="post",
        # Only the token's owner; staff revoke tokens in the admin.
        answers=expect(404, (ANON, LOGIN), (MEMBER_A, WROTE)),
        unchanged=lambda w: ApiToken.objects.get(pk=w["token"].pk).revoked_at,
        writers=(MEMBER_A,),
    ),
    Row(
        "site-organisation-create",
        "initiatives:organisation_create",
        "/organisations/new/",
        answers=SIGNED_IN_200,
    ),
    Row(
        "site-organisation-create-POST",
        "initiatives:organisation_create",
        "/organisations/new/",
        method="post",
        body={"name": "A brand new group", "kind": "citizens_group", "country": "FIN"},
        answers=expect(WROTE, (ANON, LOGIN)),
    ),
    Row(
        "site-organisation-join",
        "initiatives:organisation_join",
        "/organisations/join/",
        answers=SIGNED_IN_200,
    ),
    Row(
        "site-organisation-join-POST",
        "initiatives:organisation_join",
        "/organisations/join/",
        method="post",
        body=lambda w: {"organisation": w["group_b"].pk},
        # B's own member is already in it: the form says so (400).
        answers=expect(WROTE, (ANON, LOGIN), (MEMBER_B, 400)),
    ),
    Row(
        "site-organisation-b",
        "initiatives:organisation",
        lambda w: f"/organisations/{w['group_b'].pk}/",
        answers=expect(404, (ANON, LOGIN), (MEMBER_B, 200), (READ_ALL_STAFF, 200)),
    ),
    Row(
        "site-membership-accept-POST",
        "initiatives:membership_change",
        lambda w: f"/organisations/{w['group_a'].pk}/members/{w['joiner'].pk}/",
        method="post",
        body={"action": "accept"},
        # Case officers change any record, memberships included (rules.manage_members).
        answers=expect(403, (ANON, LOGIN), (MEMBER_A, WROTE), (CASE_STAFF, WROTE)),
        unchanged=lambda w: Membership.objects.get(pk=w["joiner"].pk).status,
        writers=(MEMBER_A, *CASE_STAFF),
    ),
    Row("site-login", "login", "/accounts/login/", answers=EVERYONE_200),
    Row("site-logout-POST", "logout", "/accounts/logout/", method="post", answers=expect(WROTE)),
    Row(
        "site-password-change",
        "password_change",
        "/accounts/password_change/",
        answers=SIGNED_IN_200,
    ),
    Row(
        "site-password-change-done",
        "password_change_done",
        "/accounts/password_change/done/",
        answers=SIGNED_IN_200,
    ),
    Row("site-password-reset", "password_reset", "/accounts/password_reset/", answers=EVERYONE_200),
    Row(
        "site-password-reset-done",
        "password_reset_done",
        "/accounts/password_reset/done/",
        answers=EVERYONE_200,
    ),
    Row(
        "site-password-reset-confirm",
        "password_reset_confirm",
        "/accounts/reset/MQ/bad-token/",
        answers=EVERYONE_200,
    ),
    Row(
        "site-password-reset-complete",
        "password_reset_complete",
        "/accounts/reset/done/",
        answers=EVERYONE_200,
    ),
    Row(
        "reports-indicators",
        "survey:indicators",
        "/reports/indicators/?wave=OECD-2010&question=barriers",
        answers=EVERYONE_200,
    ),
    Row(
        "reports-indicators-csv",
        "survey:indicators_csv",
        "/reports/indicators.csv?wave=OECD-2010&question=barriers",
        answers=EVERYONE_200,
    ),
    Row(
        "reports-waves",
        "survey:waves",
        "/reports/waves/?question=barriers",
        answers=EVERYONE_200,
    ),
    Row(
        "reports-waves-csv",
        "survey:waves_csv",
        "/reports/waves.csv?question=barriers",
        answers=EVERYONE_200,
    ),
    Row("reports-index", "reports:index", "/reports/", answers=EVERYONE_200),
    Row(
        "reports-waves-xlsx",
        "survey:waves_xlsx",
        "/reports/waves.xlsx?question=barriers",
        answers=EVERYONE_200,
    ),
    Row("reports-maturity", "reports:maturity", "/reports/maturity/", answers=EVERYONE_200),
    Row(
        "reports-maturity-indicators",
        "reports:maturity_indicators",
        "/reports/maturity/indicators/?wave=OECD-2010&question=barriers",
        answers=EVERYONE_200,
    ),
    Row("reports-country", "reports:country", "/reports/countries/FIN/", answers=EVERYONE_200),
    Row("reports-evidence", "reports:evidence", "/reports/evidence/", answers=EVERYONE_200),
    # A staff report: anonymous visitors are sent to the admin's sign-in.
    Row(
        "reports-readiness",
        "reports:readiness",
        "/reports/readiness/",
        answers=expect(403, (ANON, ADMIN_LOGIN), (READ_ALL_STAFF, 200)),
    ),
]


def _edit_data(w, name):
    from tests.portal.helpers import initiative_form_data

    initiative = Initiative.objects.get(pk=w[name].pk)
    return initiative_form_data(initiative.organisation, initiative, title="Changed by the table")


# ---------------------------------------------------------------------------
# The API (token authentication)

API_DRAFT_READ = expect(404, (MEMBER_A, 200), (READ_ALL_STAFF, 200))
UNAUTH = 401


def api_write(ok, on="published", **extra):
    """A write on A's record: A and case staff may; others 403 (published) or 404 (draft)."""
    if on == "published":
        base = expect(403, (ANON, UNAUTH), (MEMBER_A, ok), (CASE_STAFF, ok))
    else:
        base = expect(404, (ANON, UNAUTH), (MEMBER_A, ok), (CASE_STAFF, ok), (ANALYST, 403))
    base.update(extra)
    return base


def review(ok):
    """Review decisions on A's submitted initiative: case staff only (it is hidden from B)."""
    return expect(404, (ANON, UNAUTH), (MEMBER_A, 403), (ANALYST, 403), (CASE_STAFF, ok))


VOCABULARY = [
    ("sector", "/api/vocabulary/sectors/", "03"),
    ("country", "/api/vocabulary/countries/", "FIN"),
    ("wave", "/api/vocabulary/waves/", "OECD-2010"),
    ("question", "/api/vocabulary/questions/", "barriers"),
]

API = [
    Row("api-index", "api:index", "/api/", answers=EVERYONE_200, api=True),
    Row("api-index-fr", "api_index", "/fr/api/", answers=EVERYONE_200),
    Row("api-schema", "api:schema", "/api/schema/", answers=EVERYONE_200, api=True),
    Row("api-docs", "api:docs", "/api/docs/", answers=EVERYONE_200),
    Row("api-not-found", "api/^", "/api/no-such-endpoint/", answers=expect(404), api=True),
    Row(
        "api-initiative-list",
        "api:initiative-list",
        "/api/initiatives/",
        answers=EVERYONE_200,
        api=True,
    ),
    Row(
        "api-initiative-list-POST",
        "api:initiative-list",
        "/api/initiatives/",
        method="post",
        api=True,
        body=lambda w: {
            "title": "Care circles",
            "country": "FIN",
            "sector": "07",
            "level": "local",
            "organisation": w["group_a"].pk,
        },
        # Only for an organisation one is active in (others: 400 on `organisation`); staff
        # who change any case, for any.
        answers=expect(400, (ANON, UNAUTH), (MEMBER_A, 201), (CASE_STAFF, 201)),
    ),
    Row(
        "api-initiative-detail-draft",
        "api:initiative-detail",
        api_ref("draft"),
        answers=API_DRAFT_READ,
        api=True,
    ),
    Row(
        "api-initiative-detail-published",
        "api:initiative-detail",
        api_ref("published"),
        answers=EVERYONE_200,
        api=True,
    ),
    Row(
        "api-initiative-detail-published-PATCH",
        "api:initiative-detail",
        api_ref("published"),
        method="patch",
        api=True,
        body={"summary": "Changed by the table"},
        answers=api_write(200),
        unchanged=state_of("published"),
    ),
    Row(
        "api-initiative-detail-draft-PATCH",
        "api:initiative-detail",
        api_ref("draft"),
        method="patch",
        api=True,
        body={"summary": "Changed by the table"},
        answers=api_write(200, on="draft"),
        unchanged=state_of("draft"),
    ),
    Row(
        "api-initiative-detail-published-PUT",
        "api:initiative-detail",
        api_ref("published"),
        method="put",
        api=True,
        body=lambda w: {
            "title": "Replaced",
            "country": "FIN",
            "sector": "03",
            "level": "local",
            "organisation": w["group_a"].pk,
        },
        answers=api_write(200),
        unchanged=state_of("published"),
    ),
    Row(
        "api-initiative-detail-published-DELETE",
        "api:initiative-detail",
        api_ref("published"),
        method="delete",
        api=True,
        answers=api_write(204),
        unchanged=state_of("published"),
    ),
    Row(
        "api-accountability",
        "api:initiative-accountability",
        api_ref("published", "accountability/"),
        answers=EVERYONE_200,
        api=True,
    ),
    Row(
        "api-accountability-PATCH",
        "api:initiative-accountability",
        api_ref("published", "accountability/"),
        method="patch",
        api=True,
        body={"accountable_body": "Council"},
        answers=api_write(200),
        unchanged=state_of("published"),
    ),
    Row(
        "api-budget",
        "api:initiative-budget",
        api_ref("published", "budget/"),
        answers=EVERYONE_200,
        api=True,
    ),
    Row(
        "api-budget-PATCH",
        "api:initiative-budget",
        api_ref("published", "budget/"),
        method="patch",
        api=True,
        body={"amount": "1000", "currency": "EUR"},
        answers=api_write(200),
        unchanged=state_of("published"),
    ),
    Row(
        "api-submit-draft-POST",
        "api:initiative-submit",
        api_ref("draft", "submit/"),
        method="post",
        api=True,
        # The bare draft is not complete enough: those allowed get the 400 listing what is missing.
        answers=api_write(400, on="draft"),
        unchanged=state_of("draft"),
    ),
    Row(
        "api-stage-published-POST",
        "api:initiative-stage",
        api_ref("published", "stage/"),
        method="post",
        api=True,
        body={"to_stage": "pilot", "reason": "Running in two districts"},
        # Members propose (202); case staff change it (201).
        answers=api_write(201, **{MEMBER_A: 202}),
        unchanged=state_of("published"),
    ),
    Row(
        "api-approve-submitted-POST",
        "api:initiative-approve",
        api_ref("submitted", "approve/"),
        method="post",
        api=True,
        answers=review(200),
        unchanged=state_of("submitted"),
        writers=CASE_STAFF,
    ),
    Row(
        "api-return-submitted-POST",
        "api:initiative-return-",
        api_ref("submitted", "return/"),
        method="post",
        api=True,
        body={"reason": "Say who pays"},
        answers=review(200),
        unchanged=state_of("submitted"),
        writers=CASE_STAFF,
    ),
    Row(
        "api-participation-list",
        "api:participation-list",
        api_ref("published", "participations/"),
        answers=EVERYONE_200,
        api=True,
    ),
    Row(
        "api-participation-list-POST",
        "api:participation-list",
        api_ref("published", "participations/"),
        method="post",
        api=True,
        body={"phase": "deliver", "partner_type": "professional", "level": "individual"},
        answers=api_write(201),
        unchanged=state_of("published"),
    ),
    Row(
        "api-participation-detail",
        "api:participation-detail",
        lambda w: (
            f"/api/initiatives/{w['published'].reference}/participations/{w['participation'].pk}/"
        ),
        answers=EVERYONE_200,
        api=True,
    ),
    Row(
        "api-participation-detail-DELETE",
        "api:participation-detail",
        lambda w: (
            f"/api/initiatives/{w['published'].reference}/participations/{w['participation'].pk}/"
        ),
        method="delete",
        api=True,
        answers=api_write(204),
        unchanged=state_of("published"),
    ),
    Row(
        "api-participation-detail-draft",
        "api:participation-detail",
        lambda w: (
            f"/api/initiatives/{w['draft'].reference}/participations/{w['draft_participation'].pk}/"
        ),
        answers=API_DRAFT_READ,
        api=True,
    ),
    Row(
        "api-activity-list",
        "api:activity-list",
        api_ref("published", "activities/"),
        answers=EVERYONE_200,
        api=True,
    ),
    Row(
        "api-activity-list-POST",
        "api:activity-list",
        api_ref("published", "activities/"),
        method="post",
        api=True,
        body={"kind": "note", "date": "2025-02-01", "text": "Walked the district"},
        answers=api_write(201),
        unchanged=state_of("published"),
    ),
    Row(
        "api-activity-detail",
        "api:activity-detail",
        lambda w: f"/api/initiatives/{w['published'].reference}/activities/{w['activity'].pk}/",
        answers=EVERYONE_200,
        api=True,
    ),
    Row(
        "api-history-published",
        "api:history-list",
        api_ref("published", "history/"),
        # History is for the group and staff who read everything (rules.read_case_privately):
        # the case is public, its history is not, and to others it does not exist (404).
        answers=DRAFT_READ,
        api=True,
    ),
    Row(
        "api-proposal-list",
        "api:proposal-list",
        api_ref("published", "proposals/"),
        # Proposals are the group's conversation with its case officer, like the history.
        answers=DRAFT_READ,
        api=True,
    ),
    Row(
        "api-proposal-decide-POST",
        "api:proposal-decide",
        lambda w: (
            f"/api/initiatives/{w['published'].reference}/proposals/{w['proposal'].pk}/decide/"
        ),
        method="post",
        api=True,
        body={"accept": True, "note": "Confirmed"},
        # Those who cannot read the proposals do not learn that one exists (404); those who
        # read them but do not review are refused (403).
        answers=expect(404, (ANON, UNAUTH), ((MEMBER_A, ANALYST), 403), (CASE_STAFF, 200)),
        unchanged=state_of("published"),
        writers=CASE_STAFF,
    ),
    Row(
        "api-initiative-import-POST",
        "api:initiative-import-register",
        "/api/initiatives/import/",
        method="post",
        api=True,
        body={},
        # Staff who review and change any initiative import (a file upload: JSON is 415).
        answers=expect(403, (ANON, UNAUTH), (CASE_STAFF, 415)),
        unchanged=state_of("published"),
        writers=(),
    ),
    Row(
        "api-initiative-import-background-POST",
        "api:initiative-import-register",
        "/api/initiatives/import/",
        method="post",
        api=True,
        body=register_upload_in_background,
        # A job for its importer to follow.
        answers=expect(403, (ANON, UNAUTH), (CASE_STAFF, 202)),
        unchanged=job_states,
        writers=CASE_STAFF,
    ),
    Row(
        "api-stage-history-list",
        "api:stage-history-list",
        api_ref("published", "stage-history/"),
        # The stage history is on the public case page: read as the case is.
        answers=EVERYONE_200,
        api=True,
    ),
    Row(
        "api-stage-history-list-POST",
        "api:stage-history-list",
        api_ref("published", "stage-history/"),
        method="post",
        api=True,
        body=lambda w: {"to_stage": "pilot", "date": str(date.today()), "reason": "Recorded"},
        answers=expect(403, (ANON, UNAUTH), (CASE_STAFF, 201)),
        unchanged=state_of("published"),
        writers=CASE_STAFF,
    ),
    Row(
        "api-stage-history-detail-PATCH",
        "api:stage-history-detail",
        lambda w: (
            f"/api/initiatives/{w['published'].reference}/stage-history/"
            f"{w['published'].stage_changes.get().pk}/"
        ),
        method="patch",
        api=True,
        body={"date": "2020-01-01", "reason": "The real date"},
        answers=expect(403, (ANON, UNAUTH), (CASE_STAFF, 200)),
        unchanged=state_of("published"),
        writers=CASE_STAFF,
    ),
    Row(
        "api-stage-history-remove-POST",
        "api:stage-history-remove",
        lambda w: (
            f"/api/initiatives/{w['published'].reference}/stage-history/"
            f"{w['published'].stage_changes.get().pk}/remove/"
        ),
        method="post",
        api=True,
        body={"reason": "Wrong"},
        # The only entry cannot go: staff get the rule's 400, everyone else the door's refusal.
        answers=expect(403, (ANON, UNAUTH), (CASE_STAFF, 400)),
        unchanged=state_of("published"),
        writers=(),
    ),
    Row(
        "api-stage-history-confirm-POST",
        "api:stage-history-confirm",
        api_ref("published", "stage-history/confirm/"),
        method="post",
        api=True,
        answers=expect(403, (ANON, UNAUTH), (CASE_STAFF, 200)),
        unchanged=state_of("published"),
        writers=CASE_STAFF,
    ),
    Row(
        "api-organisation-list",
        "api:organisation-list",
        "/api/organisations/",
        answers=EVERYONE_200,
        api=True,
    ),
    Row(
        "api-organisation-list-POST",
        "api:organisation-list",
        "/api/organisations/",
        method="post",
        api=True,
        body={"name": "A group made through the API", "kind": "citizens_group", "country": "FIN"},
        answers=expect(201, (ANON, UNAUTH)),
    ),
    Row(
        "api-organisation-b",
        "api:organisation-detail",
        lambda w: f"/api/organisations/{w['group_b'].pk}/",
        answers=EVERYONE_200,
        api=True,
    ),
    Row(
        "api-organisation-b-PATCH-name",
        "api:organisation-detail",
        lambda w: f"/api/organisations/{w['group_b'].pk}/",
        method="patch",
        api=True,
        body={"name": "Renamed by the table"},
        # Its admins and staff who change organisations (administrators only, by roles.py).
        answers=expect(403, (ANON, UNAUTH), (MEMBER_B, 200), (ADMINISTRATOR, 200)),
        unchanged=organisation_state,
        writers=(MEMBER_B, ADMINISTRATOR),
    ),
    Row(
        "api-organisation-b-PATCH-verify",
        "api:organisation-detail",
        lambda w: f"/api/organisations/{w['group_b'].pk}/",
        method="patch",
        api=True,
        body={"verified": True},
        # Only administrators verify; B's own admin may not verify itself (400 on `verified`).
        answers=expect(403, (ANON, UNAUTH), (MEMBER_B, 400), (ADMINISTRATOR, 200)),
        unchanged=organisation_state,
        writers=(ADMINISTRATOR,),
    ),
    Row(
        "api-reference-value-list",
        "api:reference-value-list",
        "/api/vocabulary/reference-values/",
        answers=EVERYONE_200,
        api=True,
    ),
    Row(
        "api-indicator-list",
        "api:indicator-list",
        "/api/survey/indicators/?wave=OECD-2010&question=barriers",
        answers=EVERYONE_200,
        api=True,
    ),
    Row(
        "api-response-list",
        "api:response-list",
        "/api/survey/responses/",
        answers=expect(403, (ANON, UNAUTH), (SURVEY_READERS, 200)),
        api=True,
    ),
    Row(
        "api-response-import-POST",
        "api:response-import-file",
        "/api/survey/responses/import/",
        method="post",
        api=True,
        body=survey_upload,
        answers=expect(403, (ANON, UNAUTH), (SURVEY_WRITERS, 201)),
        unchanged=survey_waves,
        writers=SURVEY_WRITERS,
    ),
    Row(
        "api-job-list",
        "api:job-list",
        "/api/survey/jobs/",
        answers=expect(200, (ANON, UNAUTH)),
        api=True,
    ),
    Row(
        "api-job-detail",
        "api:job-detail",
        lambda w: f"/api/survey/jobs/{w['job'].pk}/",
        answers=expect(404, (ANON, UNAUTH), (SURVEYS, 200)),
        api=True,
    ),
    Row(
        "api-register-job-detail",
        "api:job-detail",
        lambda w: f"/api/survey/jobs/{w['register_job'].pk}/",
        answers=expect(404, (ANON, UNAUTH), (OFFICER, 200)),
        api=True,
    ),
    Row(
        "api-column-mapping-list",
        "api:column-mapping-list",
        "/api/survey/mappings/",
        answers=expect(403, (ANON, UNAUTH), (SURVEY_WRITERS, 200)),
        api=True,
    ),
    Row(
        "api-column-mapping-detail",
        "api:column-mapping-detail",
        "/api/survey/mappings/table/",
        answers=expect(403, (ANON, UNAUTH), (SURVEY_WRITERS, 200)),
        api=True,
    ),
    Row(
        "api-column-mapping-delete",
        "api:column-mapping-detail",
        "/api/survey/mappings/table/",
        method="delete",
        answers=expect(403, (ANON, UNAUTH), (SURVEY_WRITERS, 204)),
        api=True,
        unchanged=mapping_names,
        writers=SURVEY_WRITERS,
    ),
    Row(
        "api-column-mapping-preview-POST",
        "api:column-mapping-preview",
        "/api/survey/mappings/preview/",
        method="post",
        api=True,
        body=wide_upload,
        answers=expect(403, (ANON, UNAUTH), (SURVEY_WRITERS, 200)),
    ),
]
for name, url, code in VOCABULARY:
    API += [
        Row(f"api-{name}-list", f"api:{name}-list", url, answers=EVERYONE_200, api=True),
        Row(
            f"api-{name}-detail",
            f"api:{name}-detail",
            f"{url}{code}/",
            answers=EVERYONE_200,
            api=True,
        ),
        Row(
            f"api-{name}-list-POST",
            f"api:{name}-list",
            url,
            method="post",
            body={"code": "X"},
            answers=expect(405),
            api=True,
        ),
    ]


# ---------------------------------------------------------------------------
# The admin: generated from the registry, answers from a hand-written table per model

#: Which roles hold view / add / change / delete of each registered model, as roles.py and
#: the README say (administrators hold every permission of these apps).
V, A, C, D = "view", "add", "change", "delete"
CASE_FILE = {
    "initiatives.initiative": {
        V: READ_ALL_STAFF,
        C: CASE_STAFF,
        A: (ADMINISTRATOR,),
        D: (ADMINISTRATOR,),
    },
    "initiatives.participation": {V: READ_ALL_STAFF, A: CASE_STAFF, C: CASE_STAFF, D: CASE_STAFF},
    # The timeline is the case's record: entries are never deleted, not even by administrators.
    "initiatives.activity": {V: READ_ALL_STAFF, A: CASE_STAFF, C: CASE_STAFF, D: ()},
    # A framework belongs to its initiative: it is emptied, never deleted on its own.
    "initiatives.accountabilityframework": {
        V: READ_ALL_STAFF,
        C: CASE_STAFF,
        A: (ADMINISTRATOR,),
        D: (),
    },
    "initiatives.budgetframework": {V: READ_ALL_STAFF, C: CASE_STAFF, A: (ADMINISTRATOR,), D: ()},
}
ORGANISATIONS = {
    model: {V: READ_ALL_STAFF, A: (ADMINISTRATOR,), C: (ADMINISTRATOR,), D: (ADMINISTRATOR,)}
    for model in ("initiatives.organisation", "initiatives.membership")
}
#: Groups propose stage changes and case officers decide them; nobody adds or deletes one here.
ORGANISATIONS["initiatives.stageproposal"] = {V: READ_ALL_STAFF, A: (), C: (ADMINISTRATOR,), D: ()}
SURVEY_RECORDS = {
    f"survey.{model}": {V: SURVEY_READERS, A: SURVEY_WRITERS, C: SURVEY_WRITERS, D: SURVEY_WRITERS}
    for model in ("wave", "respondent", "response")
}
#: Column mappings belong to importing: survey managers (`survey.import_records`) only.
SURVEY_RECORDS["survey.columnmapping"] = {
    V: SURVEY_WRITERS,
    A: SURVEY_WRITERS,
    C: SURVEY_WRITERS,
    D: SURVEY_WRITERS,
}
#: The vocabulary is read by whoever works with survey records, and by case officers (the case
#: form chooses a country from it).
SURVEY_VOCABULARY = {
    f"survey.{model}": {
        V: (OFFICER, *SURVEY_READERS),
        A: (ADMINISTRATOR,),
        C: (ADMINISTRATOR,),
        D: (ADMINISTRATOR,),
    }
    for model in ("question", "item", "sector", "country", "referencevalue")
}
ADMINISTRATORS_ONLY = {
    V: (ADMINISTRATOR,),
    A: (ADMINISTRATOR,),
    C: (ADMINISTRATOR,),
    D: (ADMINISTRATOR,),
}
#: Written by the application itself: administrators read them, nobody edits them here.
WRITTEN_BY_THE_APPLICATION = {V: (ADMINISTRATOR,), A: (), C: (), D: ()}
#: django-axes' records: deleting an access attempt is how an administrator lifts a lockout.
AXES_RECORDS = {V: (ADMINISTRATOR,), A: (), C: (), D: (ADMINISTRATOR,)}
SECURITY = {
    "initiatives.apitoken": WRITTEN_BY_THE_APPLICATION,
    "initiatives.securityevent": WRITTEN_BY_THE_APPLICATION,
    "axes.accessattempt": AXES_RECORDS,
    "axes.accesslog": AXES_RECORDS,
    "axes.accessfailurelog": AXES_RECORDS,
}
ACCOUNTS = {"auth.user": ADMINISTRATORS_ONLY, "auth.group": ADMINISTRATORS_ONLY}
MODEL_PERMISSIONS = {
    **CASE_FILE,
    **ORGANISATIONS,
    **SURVEY_RECORDS,
    **SURVEY_VOCABULARY,
    **SECURITY,
    **ACCOUNTS,
}


def admin_expect(holders, refused=403):
    """Staff who hold it: 200; other staff: 403; everyone else: the admin's sign-in."""
    return expect(refused, (NOT_STAFF, ADMIN_LOGIN), (holders, 200))


def _first_pk(label):
    def pk(w):
        from django.apps import apps

        model = apps.get_model(label)
        if label == "initiatives.initiative":
            return w["published"].pk
        if label == "auth.user":
            return w["people"][MEMBER_B].pk
        first = model._default_manager.order_by("pk").first()
        return first.pk if first is not None else None

    return pk


#: Models whose admin pages follow a rule of their own, written out in ADMIN_BY_HAND.
ADMIN_ROWS_BY_HAND = {"survey.job"}


def _admin_rows():
    rows = []
    for model in admin.site._registry:
        label = model._meta.label_lower
        if label in ADMIN_ROWS_BY_HAND:
            continue
        holds = MODEL_PERMISSIONS[label]  # KeyError: a registered model without an entry
        app, name = label.split(".")
        base = f"/admin/{app}/{name}/"
        pk = _first_pk(label)
        # Django: the change page is readable with view or change permission.
        readers = tuple(sorted(set(holds[V]) | set(holds[C])))
        rows += [
            Row(
                f"admin-{name}-changelist",
                f"admin:{app}_{name}_changelist",
                base,
                answers=admin_expect(readers),
            ),
            Row(
                f"admin-{name}-add",
                f"admin:{app}_{name}_add",
                base + "add/",
                answers=admin_expect(holds[A]),
            ),
            Row(
                f"admin-{name}-change",
                f"admin:{app}_{name}_change",
                lambda w, b=base, p=pk: f"{b}{p(w)}/change/",
                answers=admin_expect(readers),
            ),
            Row(
                f"admin-{name}-delete",
                f"admin:{app}_{name}_delete",
                lambda w, b=base, p=pk: f"{b}{p(w)}/delete/",
                answers=admin_expect(holds[D]),
            ),
            Row(
                f"admin-{name}-history",
                f"admin:{app}_{name}_history",
                lambda w, b=base, p=pk: f"{b}{p(w)}/history/",
                answers=admin_expect(readers),
            ),
            # The bare object URL only redirects to the change page, for any staff.
            Row(
                f"admin-{name}-object",
                f"admin/{app}/{name}/<path:object_id>/",
                lambda w, b=base, p=pk: f"{b}{p(w)}/",
                answers=expect(302, (NOT_STAFF, ADMIN_LOGIN)),
            ),
        ]
        if f"admin:{app}_{name}_simple_history" in _NAMES:
            rows.append(
                Row(
                    f"admin-{name}-version",
                    f"admin:{app}_{name}_simple_history",
                    lambda w, b=base, p=pk, m=model: f"{b}{p(w)}/history/{_version(m, p(w))}/",
                    answers=admin_expect(readers),
                )
            )
    return rows


def _version(model, pk):
    return (
        model.history.filter(**{model._meta.pk.attname: pk})
        .order_by("history_id")
        .first()
        .history_id
    )


ANY_STAFF = expect(200, (NOT_STAFF, ADMIN_LOGIN))


def admin_action(model_url, action, pk_of, extra=None):
    def body(w):
        return {"action": action, "_selected_action": [pk_of(w)], **(extra or {})}

    return body


ADMIN_BY_HAND = [
    Row(
        "admin-job-changelist",
        "admin:survey_job_changelist",
        "/admin/survey/job/",
        answers=expect(200, (NOT_STAFF, ADMIN_LOGIN)),
    ),
    Row(
        "admin-job-add",
        "admin:survey_job_add",
        "/admin/survey/job/add/",
        answers=expect(403, (NOT_STAFF, ADMIN_LOGIN)),
    ),
    Row(
        "admin-job-change",
        "admin:survey_job_change",
        admin_job_url("change/"),
        answers=OWNER_ONLY_ADMIN,
    ),
    Row(
        "admin-job-history",
        "admin:survey_job_history",
        admin_job_url("history/"),
        answers=OWNER_ONLY_ADMIN,
    ),
    Row(
        "admin-job-delete",
        "admin:survey_job_delete",
        admin_job_url("delete/"),
        answers=expect(403, (NOT_STAFF, ADMIN_LOGIN)),
    ),
    Row(
        "admin-job-object",
        "admin/survey/job/<path:object_id>/",
        admin_job_url(""),
        answers=expect(302, (NOT_STAFF, ADMIN_LOGIN)),
    ),
    Row("site-job", "jobs:detail", job_url(), answers=OWNER_ONLY_SITE),
    Row("site-register-job", "jobs:detail", register_job_url(), answers=REGISTER_JOB_SITE),
    Row(
        "admin-register-job",
        "admin:survey_job_change",
        lambda w: f"/admin/survey/job/{w['register_job'].pk}/change/",
        answers=expect(302, (NOT_STAFF, ADMIN_LOGIN), (OFFICER, 200)),
    ),
    Row(
        "site-job-apply-POST",
        "jobs:apply",
        job_url("apply/"),
        method="post",
        # Only a dry run that passed is applied: the survey import is none.
        answers=expect(404, (ANON, LOGIN), (SURVEYS, 403)),
        unchanged=job_states,
    ),
    Row(
        "site-register-job-apply-POST",
        "jobs:apply",
        register_job_url("apply/"),
        method="post",
        answers=expect(404, (ANON, LOGIN), (OFFICER, 302)),
        unchanged=job_states,
        writers=(OFFICER,),
    ),
    Row(
        "site-job-fr", "jobs:detail", lambda w: f"/fr/jobs/{w['job'].pk}/", answers=OWNER_ONLY_SITE
    ),
    Row(
        "site-job-retry-POST",
        "jobs:retry",
        job_url("retry/"),
        method="post",
        answers=expect(404, (ANON, LOGIN), (SURVEYS, 302)),
        unchanged=job_states,
        writers=(SURVEYS,),
    ),
    Row(
        "site-job-download",
        "jobs:download",
        job_url("download/"),
        answers=expect(404, (ANON, LOGIN)),
    ),
    Row("admin-index", "admin:index", "/admin/", answers=ANY_STAFF),
    Row(
        "admin-login",
        "admin:login",
        "/admin/login/",
        # Staff already signed in are sent on to the index.
        answers=expect(302, (NOT_STAFF, 200)),
    ),
    Row("admin-logout-POST", "admin:logout", "/admin/logout/", method="post", answers=expect(302)),
    Row(
        "admin-password-change",
        "admin:password_change",
        "/admin/password_change/",
        answers=ANY_STAFF,
    ),
    Row(
        "admin-password-change-done",
        "admin:password_change_done",
        "/admin/password_change/done/",
        answers=ANY_STAFF,
    ),
    Row("admin-jsi18n", "admin:jsi18n", "/admin/jsi18n/", answers=ANY_STAFF),
    Row(
        "admin-no-such-page",
        "admin/(?P<url>.*)$",
        "/admin/no-such-page/",
        answers=expect(404, (NOT_STAFF, ADMIN_LOGIN)),
    ),
    Row(
        "admin-view-on-site",
        "admin:view_on_site",
        lambda w: f"/admin/r/{_content_type(Initiative)}/{w['published'].pk}/",
        answers=expect(302, (NOT_STAFF, ADMIN_LOGIN)),
    ),
    Row(
        "admin-autocomplete",
        "admin:autocomplete",
        "/admin/autocomplete/?app_label=initiatives&model_name=participation&field_name=organisation&term=Group",
        answers=admin_expect(READ_ALL_STAFF),
    ),
    Row(
        "admin-app-initiatives",
        "admin:app_list",
        "/admin/initiatives/",
        answers=admin_expect(READ_ALL_STAFF, 404),
    ),
    Row(
        "admin-app-survey",
        "admin:app_list",
        "/admin/survey/",
        answers=admin_expect((OFFICER, *SURVEY_READERS), 404),
    ),
    Row(
        "admin-app-auth",
        "admin:app_list",
        "/admin/auth/",
        answers=admin_expect((ADMINISTRATOR,), 404),
    ),
    Row(
        "admin-app-axes",
        "admin:app_list",
        "/admin/axes/",
        answers=admin_expect((ADMINISTRATOR,), 404),
    ),
    Row(
        "admin-change-stage",
        "admin:initiatives_initiative_change_stage",
        lambda w: f"/admin/initiatives/initiative/{w['published'].pk}/change-stage/",
        answers=admin_expect(CASE_STAFF),
    ),
    Row(
        "admin-initiative-import",
        "admin:initiatives_initiative_import",
        "/admin/initiatives/initiative/import/",
        answers=admin_expect(CASE_STAFF),
    ),
    Row(
        "admin-stage-history",
        "admin:initiatives_initiative_stage_history",
        lambda w: f"/admin/initiatives/initiative/{w['published'].pk}/stage-history/",
        answers=admin_expect(CASE_STAFF),
    ),
    Row(
        "admin-stage-history-POST",
        "admin:initiatives_initiative_stage_history",
        lambda w: f"/admin/initiatives/initiative/{w['published'].pk}/stage-history/",
        method="post",
        body=lambda w: {
            "operation": "record",
            "to_stage": "pilot",
            "on": str(date.today()),
            "reason": "Running",
            "apply": "1",
            "opened_version": Initiative.objects.get(pk=w["published"].pk).version,
        },
        answers=expect(403, (NOT_STAFF, ADMIN_LOGIN), (CASE_STAFF, 302)),
        unchanged=state_of("published"),
        writers=CASE_STAFF,
    ),
    Row(
        "admin-change-stage-POST",
        "admin:initiatives_initiative_change_stage",
        lambda w: f"/admin/initiatives/initiative/{w['published'].pk}/change-stage/",
        method="post",
        body=lambda w: {
            "to_stage": "pilot",
            "on": str(date.today()),
            "reason": "Running",
            "apply": "1",
        },
        answers=expect(403, (NOT_STAFF, ADMIN_LOGIN), (CASE_STAFF, 302)),
        unchanged=state_of("published"),
        writers=CASE_STAFF,
    ),
    Row(
        "admin-approve-POST",
        "admin:initiatives_initiative_changelist",
        "/admin/initiatives/initiative/?archived=all",
        method="post",
        body=admin_action(
            "initiative", "approve_selected", lambda w: w["submitted"].pk, {"apply": "1"}
        ),
        # The analyst may view the list but has no such action: it redirects back to the list
        # with "No action selected"; the no-role and survey accounts cannot see the list.
        answers=expect(403, (NOT_STAFF, ADMIN_LOGIN), (CASE_STAFF, 302), (ANALYST, 302)),
        unchanged=state_of("submitted"),
        writers=CASE_STAFF,
    ),
    Row(
        "admin-verify-POST",
        "admin:initiatives_organisation_changelist",
        "/admin/initiatives/organisation/",
        method="post",
        body=admin_action("organisation", "verify_selected", lambda w: w["group_b"].pk),
        answers=expect(
            403, (NOT_STAFF, ADMIN_LOGIN), (ADMINISTRATOR, 302), ((OFFICER, ANALYST), 200)
        ),
        unchanged=organisation_state,
        writers=(ADMINISTRATOR,),
    ),
    Row(
        "admin-survey-import",
        "admin:survey_response_import",
        "/admin/survey/response/import/",
        answers=admin_expect(SURVEY_WRITERS),
    ),
    Row(
        "admin-survey-import-POST",
        "admin:survey_response_import",
        "/admin/survey/response/import/",
        method="post",
        body=survey_upload,
        answers=expect(403, (NOT_STAFF, ADMIN_LOGIN), (SURVEY_WRITERS, 200)),
        unchanged=survey_waves,
        writers=SURVEY_WRITERS,
    ),
    Row(
        "admin-survey-export",
        "admin:survey_response_export",
        "/admin/survey/response/export/",
        answers=admin_expect(SURVEY_READERS),
    ),
    Row(
        "admin-delete-user-POST",
        "admin:auth_user_delete",
        lambda w: f"/admin/auth/user/{w['people'][MEMBER_B].pk}/delete/",
        method="post",
        body={"post": "yes"},
        # B still holds tokens, which nobody deletes in the admin, so Django refuses the
        # delete even to administrators: people are removed with `manage.py purge_user`.
        answers=expect(403, (NOT_STAFF, ADMIN_LOGIN)),
        unchanged=users_state,
    ),
    Row(
        "admin-user-password",
        "admin:auth_user_password_change",
        lambda w: f"/admin/auth/user/{w['people'][MEMBER_B].pk}/password/",
        answers=admin_expect((ADMINISTRATOR,)),
    ),
]


def _content_type(model):
    from django.contrib.contenttypes.models import ContentType

    return ContentType.objects.get_for_model(model).pk


# ---------------------------------------------------------------------------
# The URLconf, walked


def _walk(resolver, prefix="", namespace=""):
    for entry in resolver.url_patterns:
        # The site's pages sit under an optional language prefix (/fr/...).
        text = "<lang>/" if isinstance(entry.pattern, LocalePrefixPattern) else str(entry.pattern)
        if isinstance(entry, URLResolver):
            inner = f"{namespace}{entry.namespace}:" if entry.namespace else namespace
            yield from _walk(entry, prefix + text, inner)
        elif isinstance(entry, URLPattern):
            yield (f"{namespace}{entry.name}" if entry.name else prefix + text), prefix + text


def _resolver_routes():
    """{namespaced name, or the route for unnamed patterns: route} for every pattern."""
    return dict(_walk(get_resolver()))


_ROUTES = _resolver_routes()
_NAMES = set(_ROUTES)

#: Patterns the table leaves out on purpose.
NOT_IN_THE_TABLE = {
    # Operations, not permissions: open to anyone by design (tests/portal/test_healthz.py).
    "healthz",
    # A bearer token of its own, not a role: tested in tests/test_metrics.py.
    "metrics",
    # The language switcher: a redirect for anyone, no data behind it.
    "set_language",
    # Django's logout and the admin's logout on GET answer 405 by design (POST only).
}

ROWS = SITE + API + _admin_rows() + ADMIN_BY_HAND


def test_every_route_is_in_the_table():
    covered = {row.route for row in ROWS} | NOT_IN_THE_TABLE
    missing = sorted(_NAMES - covered)
    stale = sorted(covered - _NAMES)
    assert not missing, f"URL patterns the permission table does not cover: {missing}"
    assert not stale, f"Table rows for URL patterns that no longer exist: {stale}"


def test_row_ids_are_unique():
    ids = [row.id for row in ROWS]
    assert len(ids) == len(set(ids))


# ---------------------------------------------------------------------------
# The cells


@pytest.fixture(scope="module")
def _world(django_db_setup, django_db_blocker, tmp_path_factory):
    """Built once, inside a transaction rolled back at the end; each cell runs in a
    savepoint of it (the `db` fixture), so every cell sees the same world."""
    media_root = tmp_path_factory.mktemp("table-media")
    with django_db_blocker.unblock(), override_settings(MEDIA_ROOT=media_root):
        outer = transaction.atomic()
        outer.__enter__()
        try:
            yield {**build_world(), "media_root": media_root}
        finally:
            transaction.set_rollback(True)
            outer.__exit__(None, None, None)


@pytest.fixture
def world(_world, db, settings):
    settings.MEDIA_ROOT = _world["media_root"]
    settings.RATELIMIT_ENABLE = False
    settings.AXES_ENABLED = False
    return _world


def _value(thing, world):
    return thing(world) if callable(thing) else thing


def _request(row, identity, world):
    client = Client(raise_request_exception=False)
    url = _value(row.url, world)
    body = _value(row.body, world)
    if row.api:
        headers = {"HTTP_ACCEPT": "application/json"}
        if identity != ANON:
            headers["HTTP_AUTHORIZATION"] = f"Token {world['keys'][identity]}"
        # Writes that replace or remove name the version read, as a client must.
        writes = row.method in ("put", "patch", "delete") or url.endswith("/remove/")
        if writes and "/initiatives/" in url:
            reference = url.split("/")[3]
            version = Initiative.objects.get(reference=reference).version
            headers["HTTP_IF_MATCH"] = f'"{version}"'
        if row.method == "get":
            return client.get(url, **headers)
        if body is not None and any(hasattr(v, "read") for v in body.values()):
            return client.post(url, body, **headers)
        data = json.dumps(body or {})
        return getattr(client, row.method)(
            url, data=data, content_type="application/json", **headers
        )
    if identity != ANON:
        # A copy: a sign-out answer clears the cookie in the jar it is given.
        client.cookies = copy.deepcopy(world["cookies"][identity])
    if row.method == "get":
        return client.get(url)
    return getattr(client, row.method)(url, body or {})


def _answer(response):
    status = response.status_code
    location = response.get("Location", "").split("?")[0]
    if status == 302 and location == reverse("login"):
        return LOGIN
    if status == 302 and location == reverse("admin:login"):
        return ADMIN_LOGIN
    return status


#: Cells where the application is wrong: (row id, identity) -> what it does instead.
APPLICATION_BUGS: dict = {}

CELLS = [
    pytest.param(
        row,
        identity,
        id=f"{row.id}-{identity}",
        marks=[pytest.mark.xfail(strict=True, reason=APPLICATION_BUGS[(row.id, identity)])]
        if (row.id, identity) in APPLICATION_BUGS
        else [],
    )
    for row in ROWS
    for identity in IDENTITIES
]


@pytest.mark.parametrize(("row", "identity"), CELLS)
def test_cell(world, row, identity):
    expected = row.answers[identity]
    before = _value(row.unchanged, world) if row.unchanged else None
    response = _request(row, identity, world)
    actual = _answer(response)
    where = f"{row.method.upper()} {_value(row.url, world)} as {identity}"
    assert actual == expected, f"{where}: expected {expected}, got {actual}"
    writers = row.writers or {
        who for who, status in row.answers.items() if status in (200, 201, 202, 204, 302)
    }
    if row.unchanged and identity not in writers:
        assert _value(row.unchanged, world) == before, f"a refused {row.id} changed something"
