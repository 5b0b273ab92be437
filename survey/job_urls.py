"""The job pages of the site (survey/jobs.py): mounted at /jobs/ by coprod_site."""

from django.urls import path

from . import views

app_name = "jobs"

urlpatterns = [
    path("<uuid:pk>/", views.JobView.as_view(), name="detail"),
    path("<uuid:pk>/retry/", views.JobRetryView.as_view(), name="retry"),
    path("<uuid:pk>/apply/", views.JobApplyView.as_view(), name="apply"),
    path("<uuid:pk>/download/", views.JobDownloadView.as_view(), name="download"),
]
