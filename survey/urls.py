from django.urls import path

from . import views

app_name = "survey"

urlpatterns = [
    path("indicators/", views.IndicatorsView.as_view(), name="indicators"),
    path("indicators.csv", views.IndicatorsCsvView.as_view(), name="indicators_csv"),
    path("waves/", views.WaveComparisonView.as_view(), name="waves"),
    path("waves.csv", views.WaveComparisonCsvView.as_view(), name="waves_csv"),
    path(
        "waves.xlsx",
        views.WaveComparisonCsvView.as_view(),
        {"format": "xlsx"},
        name="waves_xlsx",
    ),
]
