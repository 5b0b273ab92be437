from django.conf.urls.i18n import i18n_patterns
from django.contrib import admin
from django.urls import include, path

from . import views

urlpatterns = [
    path("healthz", views.healthz, name="healthz"),
    path("metrics", views.metrics, name="metrics"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("admin/", admin.site.urls),
    path("api/", include("coprod_site.api_urls")),
]

urlpatterns += i18n_patterns(
    # The API speaks no language of its own; its index page does (/fr/api/).
    path("api/", views.api_index, name="api_index"),
    path("reports/", include("survey.urls")),
    path("jobs/", include("survey.job_urls")),
    path("reports/", include("initiatives.report_urls")),
    # Sign in/out and password reset: Django's auth views with coprod's templates; the
    # sign-in form asks for the e-mail address.
    path("accounts/", include("initiatives.account_urls")),
    path("accounts/", include("django.contrib.auth.urls")),
    path("", include("initiatives.urls")),
    prefix_default_language=False,
)

# A database outage answers 503 with a "try again" page; anything else a plain 500 page.
handler500 = "core.middleware.server_error"
# Under /api/ a malformed or oversized request answers in the API's JSON shape (413 when
# the body is over the limit); on the site, a page that says so.
handler400 = "coprod_site.views.bad_request"
