"""The survey's endpoints of the REST API (mounted under /api/ by coprod_site)."""

from rest_framework.routers import SimpleRouter

from . import api

router = SimpleRouter()
router.register("vocabulary/sectors", api.SectorViewSet, basename="sector")
router.register("vocabulary/countries", api.CountryViewSet, basename="country")
router.register("vocabulary/waves", api.WaveViewSet, basename="wave")
router.register("vocabulary/questions", api.QuestionViewSet, basename="question")
router.register(
    "vocabulary/reference-values", api.ReferenceValueViewSet, basename="reference-value"
)
router.register("survey/responses", api.ResponseViewSet, basename="response")
router.register("survey/mappings", api.ColumnMappingViewSet, basename="column-mapping")
router.register("survey/jobs", api.JobViewSet, basename="job")
router.register("survey/indicators", api.IndicatorViewSet, basename="indicator")

urlpatterns = router.urls
