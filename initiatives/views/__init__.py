"""Pages of the public site, by concern.

- `browse`: the home page, the list and its exports, the case page and its documents;
- `editing`: logging and keeping an initiative, its timeline, stage proposals, the dashboard;
- `accounts`: sign-up, the account page and API tokens, organisations and their members.

Every rule about who may do what comes from `initiatives.rules` and the model querysets
(`visible_to`, `editable_by`), and every workflow from `initiatives.services`; the views only
connect them to forms and templates.
"""

from .accounts import (
    account,
    membership_change,
    organisation_create,
    organisation_detail,
    organisation_join,
    sign_in,
    signup,
    token_revoke,
)
from .browse import (
    HomeView,
    InitiativeListView,
    codebook_csv,
    codebook_xlsx,
    document_download,
    export_csv,
    export_spreadsheet_csv,
    export_xlsx,
    initiative_detail,
)
from .editing import activity_add, dashboard, initiative_edit, initiative_submit, stage_proposal

__all__ = [
    "HomeView",
    "InitiativeListView",
    "account",
    "activity_add",
    "codebook_csv",
    "codebook_xlsx",
    "dashboard",
    "document_download",
    "export_csv",
    "export_spreadsheet_csv",
    "export_xlsx",
    "initiative_detail",
    "initiative_edit",
    "initiative_submit",
    "membership_change",
    "organisation_create",
    "organisation_detail",
    "organisation_join",
    "sign_in",
    "signup",
    "stage_proposal",
    "token_revoke",
]
