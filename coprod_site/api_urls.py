"""The REST API under /api/: a router per resource, the schema and its docs."""

from django.urls import path, re_path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView
from rest_framework.routers import SimpleRouter

from coprod_site.api import not_found
from initiatives import api as initiatives_api
from survey import api as survey_api

app_name = "api"

router = SimpleRouter()
router.register("initiatives", initiatives_api.InitiativeViewSet, basename="initiative")
router.register(
    r"initiatives/(?P<initiative_reference>[A-Za-z0-9-]{1,20})/participations",
    initiatives_api.ParticipationViewSet,
    basename="participation",
)
router.register(
    r"initiatives/(?P<initiative_reference>[A-Za-z0-9-]{1,20})/activities",
    initiatives_api.ActivityViewSet,
    basename="activity",
)
router.register(
    r"initiatives/(?P<initiative_reference>[A-Za-z0-9-]{1,20})/history",
    initiatives_api.HistoryViewSet,
    basename="history",
)
router.register(
    r"initiatives/(?P<initiative_reference>[A-Za-z0-9-]{1,20})/proposals",
    initiatives_api.StageProposalViewSet,
    basename="proposal",
)
router.register("organisations", initiatives_api.OrganisationViewSet, basename="organisation")
router.register("vocabulary/sectors", survey_api.SectorViewSet, basename="sector")
router.register("vocabulary/countries", survey_api.CountryViewSet, basename="country")
router.register("vocabulary/waves", survey_api.WaveViewSet, basename="wave")
router.register("vocabulary/questions", survey_api.QuestionViewSet, basename="question")
router.register(
    "vocabulary/reference-values", survey_api.ReferenceValueViewSet, basename="reference-value"
)
router.register("survey/responses", survey_api.ResponseViewSet, basename="response")
router.register("survey/indicators", survey_api.IndicatorViewSet, basename="indicator")

urlpatterns = [
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    # The split view serves its start-up script as a file: the CSP allows no inline script.
    path("docs/", SpectacularSwaggerSplitView.as_view(url_name="api:schema"), name="docs"),
    *router.urls,
    # Anything else under /api/ (including path values outside an endpoint's pattern)
    # answers in the API's error shape rather than with the site's HTML page.
    re_path(r"^", not_found),
]
