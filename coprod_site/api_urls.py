"""The REST API under /api/: each app's endpoints, the schema and its docs.

The apps' routes are included by name, so that configuration imports no app code.
"""

from django.urls import include, path, re_path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from coprod_site.views import api_index
from core.api.errors import not_found

app_name = "api"

urlpatterns = [
    path("", api_index, name="index"),
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    # The split view serves its start-up script as a file: the CSP allows no inline script.
    path("docs/", SpectacularSwaggerSplitView.as_view(url_name="api:schema"), name="docs"),
    path("", include("initiatives.api_urls")),
    path("", include("survey.api_urls")),
    # Anything else under /api/ (including path values outside an endpoint's pattern)
    # answers in the API's error shape rather than with the site's HTML page.
    re_path(r"^", not_found),
]
