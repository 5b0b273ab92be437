"""Who may do what, and who sees what: every door (site, API, admin) asks here.

Two kinds of answer live in this module:

* **Staff capabilities** come from Django permissions, which staff receive through their
  role (a `Group` seeded by a data migration: case officer, survey manager, analyst,
  administrator). `is_staff` alone only lets a person into the admin; it grants nothing.
* **Object rules** combine those capabilities with membership of the owner organisation,
  through django-rules predicates registered as permissions, so that
  `user.has_perm("initiatives.change_case", initiative)` gives the same answer in a view,
  a DRF permission class and a `ModelAdmin.has_change_permission`.

Querysets cannot call a predicate row by row; the `*_queryset` helpers below are the
database form of the same rules, and the models' `visible_to` / `editable_by` call them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import rules
from django.db.models import Q

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser, User
    from django.db.models import QuerySet

    from .models import Activity, Initiative, Organisation

    Person = User | AnonymousUser


# ---------------------------------------------------------------------------
# Staff capabilities: Django permissions held through a role

#: Read everything: drafts, archived records, internal notes, history, every export.
READ_ALL = "initiatives.view_internal"
#: Review submissions, publish or return them, change stages, assign case officers.
REVIEW = "initiatives.review_initiative"
#: Change any initiative and its parts (case officers; groups change only their own).
CHANGE_ANY = "initiatives.change_initiative"
#: Write timeline entries and documents on any initiative, including internal notes.
ANNOTATE = "initiatives.add_activity"
#: Verify organisations (the badge on their initiatives).
VERIFY = "initiatives.verify_organisation"
#: Import, replace and delete survey records.
IMPORT_SURVEY = "survey.import_response"
DELETE_SURVEY = "survey.delete_response"
#: Read survey records through the API (respondent-level data).
VIEW_SURVEY = "survey.view_response"
#: Change any organisation (its name, contact details) without being one of its admins.
CHANGE_ORGANISATION = "initiatives.change_organisation"
#: Purge a person's data from every table (administrators).
PURGE = "auth.delete_user"


def _capability(codename: str) -> rules.Predicate:
    @rules.predicate(name=codename)
    def holds(user: Person) -> bool:
        return bool(user.is_authenticated and user.is_active and user.has_perm(codename))

    return holds


can_read_all = _capability(READ_ALL)
can_review = _capability(REVIEW)
can_change_any = _capability(CHANGE_ANY)
can_annotate = _capability(ANNOTATE)
can_verify = _capability(VERIFY)
can_import_survey = _capability(IMPORT_SURVEY)
can_delete_survey = _capability(DELETE_SURVEY)
can_view_survey = _capability(VIEW_SURVEY)
can_change_organisation = _capability(CHANGE_ORGANISATION)
can_purge = _capability(PURGE)


# ---------------------------------------------------------------------------
# Membership of an organisation


#: Where a user object keeps its list of organisations for the rest of the request.
_MEMBERSHIPS_CACHE = "_coprod_active_organisations"


def active_organisation_ids(user: Person) -> set[int]:
    """The organisations the user is an active member of (cached on the user object)."""
    if not user.is_authenticated:
        return set()
    cached = getattr(user, _MEMBERSHIPS_CACHE, None)
    if cached is None:
        from .models import Membership

        cached = set(
            Membership.objects.filter(user=user, status=Membership.Status.ACTIVE).values_list(
                "organisation_id", flat=True
            )
        )
        setattr(user, _MEMBERSHIPS_CACHE, cached)
    return cached


def forget_memberships(user: Person) -> None:
    """Drop the cached membership list after a membership of this user changed."""
    if hasattr(user, _MEMBERSHIPS_CACHE):
        delattr(user, _MEMBERSHIPS_CACHE)


@rules.predicate
def is_owner_member(user: Person, initiative: Initiative | None) -> bool:
    """An active member of the organisation that owns the initiative."""
    if initiative is None or initiative.organisation_id is None:
        return False
    return initiative.organisation_id in active_organisation_ids(user)


@rules.predicate
def is_organisation_admin(user: Person, organisation: Organisation | None) -> bool:
    if organisation is None or not user.is_authenticated:
        return False
    from .models import Membership

    return Membership.objects.filter(
        user=user,
        organisation=organisation,
        role=Membership.Role.ADMIN,
        status=Membership.Status.ACTIVE,
    ).exists()


@rules.predicate
def is_organisation_member(user: Person, organisation: Organisation | None) -> bool:
    return organisation is not None and organisation.pk in active_organisation_ids(user)


# ---------------------------------------------------------------------------
# Initiatives


@rules.predicate
def is_published(user: Person, initiative: Initiative | None) -> bool:
    return bool(initiative is not None and initiative.is_published and not initiative.is_archived)


@rules.predicate
def is_active_record(user: Person, initiative: Initiative | None) -> bool:
    return initiative is not None and not initiative.is_archived


#: Read the case file as the public page shows it.
rules.add_perm("initiatives.read_case", is_published | is_owner_member | can_read_all)
#: Read what only the group and staff see: drafts, history, shared entries, who's who.
rules.add_perm("initiatives.read_case_privately", is_owner_member | can_read_all)
#: Edit the record and its parts, add timeline entries, propose stage changes, archive.
rules.add_perm("initiatives.change_case", is_active_record & (is_owner_member | can_change_any))
#: Review decisions, direct stage changes, assignment.
rules.add_perm("initiatives.review_case", is_active_record & can_review)
#: Record an initiative (for an organisation one is active in; staff for any).
rules.add_perm("initiatives.create_case", rules.is_authenticated)
#: Restore an archived initiative.
rules.add_perm("initiatives.restore_case", can_change_any)
# Bringing a register in creates and changes any record and its stage history.
rules.add_perm("initiatives.import_register", can_change_any & can_review)
#: Internal notes: write and read them.
rules.add_perm("initiatives.read_internal", can_read_all)
rules.add_perm("initiatives.write_internal", can_annotate)

#: Organisations: edit the profile (its admins, and staff who change organisations).
rules.add_perm("initiatives.manage_organisation", is_organisation_admin | can_change_organisation)
#: The member list and contact details: the organisation's members and staff who read all.
rules.add_perm("initiatives.read_organisation_privately", is_organisation_member | can_read_all)
#: Accept, refuse, change the role of and remove members: the organisation's admins, and staff
#: who change any record (or memberships in the admin).
rules.add_perm(
    "initiatives.manage_members",
    is_organisation_admin | can_change_any | _capability("initiatives.change_membership"),
)
rules.add_perm("initiatives.verify_organisation_badge", can_verify)

#: Survey records (checked by name in `survey`, which never imports this module).
rules.add_perm("survey.import_records", can_import_survey)
rules.add_perm("survey.delete_records", can_delete_survey)
rules.add_perm("survey.read_records", can_view_survey)

#: Reports with drafts in them (readiness, the staff export with drafts).
rules.add_perm("initiatives.read_staff_reports", can_read_all)
#: Remove a person and their personal data from every table.
rules.add_perm("initiatives.purge_person", can_purge)


def staff_holding(permission: str) -> QuerySet[User]:
    """Active staff accounts that hold a Django permission, through a role or as superusers."""
    from django.contrib.auth import get_user_model

    return (
        get_user_model()
        .objects.with_perm(permission, backend="initiatives.backends.EmailBackend")
        .filter(is_staff=True, is_active=True)
    )


def case_officers() -> QuerySet[User]:
    """Who may be assigned an initiative and is told about new submissions."""
    return staff_holding(REVIEW).order_by("username")


def visible_initiatives_q(user: Person) -> Q | None:
    """The database form of `read_case`: None means every active initiative."""
    from .models import ReviewStatus

    if can_read_all(user):
        return None
    published = Q(review_status=ReviewStatus.PUBLISHED)
    organisations = active_organisation_ids(user)
    if not organisations:
        return published
    return published | Q(organisation_id__in=organisations)


def editable_initiatives_q(user: Person) -> Q | None:
    """The database form of `change_case`: None means every active initiative."""
    if can_change_any(user):
        return None
    return Q(organisation_id__in=active_organisation_ids(user))


# ---------------------------------------------------------------------------
# Timeline entries


def activity_visibilities(user: Person, initiative: Initiative) -> set[str]:
    """Which timeline entries of this initiative the user may read."""
    from .models import Visibility

    if can_read_all(user):
        return {Visibility.PUBLIC, Visibility.GROUP, Visibility.INTERNAL}
    if is_owner_member(user, initiative):
        return {Visibility.PUBLIC, Visibility.GROUP}
    return {Visibility.PUBLIC}


def writable_visibilities(user: Person, initiative: Initiative | None) -> set[str]:
    """Which visibilities the user may give a new timeline entry."""
    from .models import Visibility

    allowed: set[str] = set()
    if is_owner_member(user, initiative) or can_change_any(user):
        allowed |= {Visibility.PUBLIC, Visibility.GROUP}
    if can_annotate(user):
        allowed.add(Visibility.INTERNAL)
    return allowed


def visible_activities_q(user: Person) -> Q | None:
    """The database form of `activity_visibilities` over every initiative (None: all)."""
    from .models import Visibility

    if can_read_all(user):
        return None
    visible = Q(visibility=Visibility.PUBLIC)
    organisations = active_organisation_ids(user)
    if organisations:
        visible |= Q(visibility=Visibility.GROUP, initiative__organisation_id__in=organisations)
    return visible


def default_visibility(user: Person, initiative: Initiative | None) -> str:
    """The visibility a new entry gets when its writer chooses none.

    Members of the owner group write for the public page, as they always have; staff who
    are not members share with the group (or keep it internal, if that is all they may
    write), so that nothing a case officer writes is published by a forgotten choice.
    """
    from .models import Visibility

    preferred = Visibility.PUBLIC if is_owner_member(user, initiative) else Visibility.GROUP
    allowed = writable_visibilities(user, initiative)
    # Staff who may write internal notes only get that, never a wider audience.
    for visibility in (preferred, Visibility.GROUP, Visibility.INTERNAL):
        if visibility in allowed:
            return visibility
    return preferred


@rules.predicate
def can_annotate_active(user: Person, initiative: Initiative | None) -> bool:
    return bool(is_active_record(user, initiative) and can_annotate(user))


#: Add to the timeline: whoever changes the case, and staff who annotate any.
rules.add_perm(
    "initiatives.add_timeline_entry",
    (is_active_record & (is_owner_member | can_change_any)) | can_annotate_active,
)


@rules.predicate
def can_read_activity(user: Person, activity: Activity | None) -> bool:
    if activity is None:
        return False
    initiative = activity.initiative
    if not rules.test_rule("initiatives.read_case", user, initiative):
        return False
    return activity.visibility in activity_visibilities(user, initiative)


rules.add_perm("initiatives.read_activity", can_read_activity)


def sees_people(user: Person, initiative: Initiative) -> bool:
    """Usernames, e-mail addresses and user ids: only for the owner group and staff."""
    return bool(is_owner_member(user, initiative) or can_read_all(user))


def person_label(viewer: Person, initiative: Initiative, person: User | None) -> str | None:
    """How `person` (an author, a decider) is named to `viewer` on this initiative's pages.

    Everyone reads the display name (the full name); the username, which is an e-mail
    address, only those who see people. None when there is nothing to show.
    """
    if person is None:
        return None
    if sees_people(viewer, initiative):
        return person.get_full_name() or person.get_username()
    return person.get_full_name() or None


def check(user: Person, permission: str, obj: Any = None) -> bool:
    """`user.has_perm` for the names registered here, for callers that want a plain bool."""
    return bool(user.has_perm(permission, obj))
