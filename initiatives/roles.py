"""The four staff roles, as Django groups of permissions.

A role is what an administrator gives a member of staff: add the account to one of these
groups in the admin (Users → the person → Groups). `is_staff` only opens the admin's door;
everything a person may do there, on the site or through the API comes from the
permissions their role holds, and `rules.py` asks for those permissions by name.

The groups are created, and brought up to date, by the data migration
`0005_staff_roles`; running `sync_roles` again (as `seed_demo` does) is harmless.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from django.apps.registry import Apps

#: Apps whose every permission an administrator holds.
ADMINISTRATOR_APPS = ("initiatives", "survey", "auth", "admin", "axes")

#: Case-file models: the records a case officer works on.
_CASE_MODELS = (
    "initiative",
    "participation",
    "activity",
    "accountabilityframework",
    "budgetframework",
)
#: Models a case officer and an analyst read but only administrators change.
_READ_ONLY_MODELS = ("organisation", "membership", "stagechange", "stageproposal")
#: Survey records and the vocabulary they use.
_SURVEY_RECORDS = ("wave", "respondent", "response")
_SURVEY_VOCABULARY = ("question", "item", "sector", "country", "referencevalue")


def _view(app: str, models: tuple[str, ...]) -> set[str]:
    return {f"{app}.view_{model}" for model in models}


def _manage(app: str, models: tuple[str, ...]) -> set[str]:
    return {
        f"{app}.{action}_{model}"
        for model in models
        for action in ("add", "change", "delete", "view")
    }


CASE_OFFICER = "Case officer"
SURVEY_MANAGER = "Survey manager"
ANALYST = "Analyst"
ADMINISTRATOR = "Administrator"

#: Role name → permissions ("app_label.codename"). The administrator's are every permission
#: of ADMINISTRATOR_APPS, resolved when the groups are synchronised.
ROLES: dict[str, set[str]] = {
    CASE_OFFICER: (
        {
            "initiatives.view_internal",
            "initiatives.review_initiative",
            "initiatives.change_initiative",
            "initiatives.add_activity",
            "initiatives.change_activity",
            "initiatives.add_participation",
            "initiatives.change_participation",
            "initiatives.delete_participation",
            "initiatives.change_accountabilityframework",
            "initiatives.change_budgetframework",
        }
        | _view("initiatives", _CASE_MODELS + _READ_ONLY_MODELS)
        | _view("survey", _SURVEY_VOCABULARY)
    ),
    SURVEY_MANAGER: (
        {"survey.import_response"}
        | _manage("survey", _SURVEY_RECORDS)
        | _view("survey", _SURVEY_VOCABULARY)
    ),
    ANALYST: (
        {"initiatives.view_internal"}
        | _view("initiatives", _CASE_MODELS + _READ_ONLY_MODELS)
        | _view("survey", _SURVEY_RECORDS + _SURVEY_VOCABULARY)
    ),
    ADMINISTRATOR: set(),
}


def sync_roles(apps: Apps) -> dict[str, int]:
    """Create or update the role groups; return how many permissions each holds.

    `apps` is a migration's app registry or the real one. The permissions of apps migrated
    in the same run may not exist yet, so they are created first.
    """
    from django.contrib.auth.management import create_permissions

    for config in apps.get_app_configs():
        # `create_permissions` skips an app without a models module, which a migration's
        # app configs never have; any true value lets it run (typed as a module only).
        config.models_module = getattr(config, "models_module", None) or True  # type: ignore[assignment]
        create_permissions(config, verbosity=0, apps=apps)

    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    every = {
        f"{app}.{codename}": pk
        for pk, app, codename in Permission.objects.values_list(
            "pk", "content_type__app_label", "codename"
        )
    }
    counts = {}
    for name, wanted in ROLES.items():
        if name == ADMINISTRATOR:
            wanted = {key for key in every if key.split(".", 1)[0] in ADMINISTRATOR_APPS}
        missing = wanted - every.keys()
        if missing:
            raise LookupError(f"Role {name!r} names unknown permissions: {sorted(missing)}")
        group, _created = Group.objects.get_or_create(name=name)
        group.permissions.set([every[key] for key in wanted])
        counts[name] = len(wanted)
    return counts
