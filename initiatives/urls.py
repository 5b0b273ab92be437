from django.urls import path

from . import views

app_name = "initiatives"

urlpatterns = [
    path("", views.HomeView.as_view(), name="home"),
    path("my-initiatives/", views.dashboard, name="dashboard"),
    path("initiatives/", views.InitiativeListView.as_view(), name="list"),
    path("initiatives/export.csv", views.export_csv, name="export"),
    path(
        "initiatives/export-spreadsheet.csv",
        views.export_spreadsheet_csv,
        name="export_spreadsheet",
    ),
    path("initiatives/export.xlsx", views.export_xlsx, name="export_xlsx"),
    path("initiatives/codebook.csv", views.codebook_csv, name="codebook"),
    path("initiatives/codebook.xlsx", views.codebook_xlsx, name="codebook_xlsx"),
    path("initiatives/new/", views.initiative_edit, name="create"),
    path("initiatives/<str:reference>/", views.initiative_detail, name="detail"),
    path("initiatives/<str:reference>/edit/", views.initiative_edit, name="edit"),
    path("initiatives/<str:reference>/submit/", views.initiative_submit, name="submit"),
    path("initiatives/<str:reference>/activities/new/", views.activity_add, name="activity_add"),
    path("initiatives/<str:reference>/stage/", views.stage_proposal, name="stage_proposal"),
    path(
        "initiatives/<str:reference>/documents/<int:pk>/",
        views.document_download,
        name="document",
    ),
    path("accounts/signup/", views.signup, name="signup"),
    path("account/", views.account, name="account"),
    path("account/tokens/<int:pk>/revoke/", views.token_revoke, name="token_revoke"),
    path("organisations/new/", views.organisation_create, name="organisation_create"),
    path("organisations/join/", views.organisation_join, name="organisation_join"),
    path("organisations/<int:pk>/", views.organisation_detail, name="organisation"),
    path(
        "organisations/<int:pk>/members/<int:membership_pk>/",
        views.membership_change,
        name="membership_change",
    ),
]
