"""The initiatives' endpoints of the REST API (mounted under /api/ by coprod_site)."""

from rest_framework.routers import SimpleRouter

from . import api

router = SimpleRouter()
router.register("initiatives", api.InitiativeViewSet, basename="initiative")
router.register(
    r"initiatives/(?P<initiative_reference>[A-Za-z0-9-]{1,20})/participations",
    api.ParticipationViewSet,
    basename="participation",
)
router.register(
    r"initiatives/(?P<initiative_reference>[A-Za-z0-9-]{1,20})/activities",
    api.ActivityViewSet,
    basename="activity",
)
router.register(
    r"initiatives/(?P<initiative_reference>[A-Za-z0-9-]{1,20})/history",
    api.HistoryViewSet,
    basename="history",
)
router.register(
    r"initiatives/(?P<initiative_reference>[A-Za-z0-9-]{1,20})/proposals",
    api.StageProposalViewSet,
    basename="proposal",
)
router.register(
    r"initiatives/(?P<initiative_reference>[A-Za-z0-9-]{1,20})/stage-history",
    api.StageHistoryViewSet,
    basename="stage-history",
)
router.register("organisations", api.OrganisationViewSet, basename="organisation")

urlpatterns = router.urls
