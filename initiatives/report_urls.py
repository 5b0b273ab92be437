from django.urls import path

from . import report_views

app_name = "reports"

urlpatterns = [
    path("", report_views.ReportsIndexView.as_view(), name="index"),
    path("maturity/", report_views.MaturityPipelineView.as_view(), name="maturity"),
    path(
        "maturity/indicators/",
        report_views.MaturityIndicatorsView.as_view(),
        name="maturity_indicators",
    ),
    path("countries/<str:code>/", report_views.CountryProfileView.as_view(), name="country"),
    path("evidence/", report_views.EvidenceView.as_view(), name="evidence"),
    path("readiness/", report_views.ReadinessView.as_view(), name="readiness"),
]
