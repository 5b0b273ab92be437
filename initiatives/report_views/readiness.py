"""Embedding readiness of pilots: a staff-only report, paginated."""

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from .. import charts, reports
from ..models import Initiative
from .base import BadParameters, ReportView


class StaffOnlyMixin:
    """Staff whose role reads drafts see the page (`initiatives.read_staff_reports`); others
    who are signed in get 403, the rest are asked to sign in."""

    def dispatch(self, request, *args, **kwargs):
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path(), reverse("admin:login"))
        if not request.user.has_perm("initiatives.read_staff_reports"):
            raise PermissionDenied
        return super().dispatch(request, *args, **kwargs)


class ReadinessView(StaffOnlyMixin, ReportView):
    template_name = "reports/readiness.html"
    slug = "readiness"
    title = gettext_lazy("Embedding readiness of pilots")
    table_names = ("pilots",)
    paginate_by = 100

    def base_queryset(self):
        # Staff plan with every active pilot, published or not.
        return Initiative.objects.active()

    def page_number(self):
        number = self.request.GET.get("page") or "1"
        if not number.isdigit() or int(number) < 1:
            raise BadParameters(_("The page number must be a whole number from 1."))
        return int(number)

    def cache_key(self):
        # The page shows one page of pilots (its CSV streams them all, outside the cache).
        return (*super().cache_key(), self.page_number())

    def build(self, queryset):
        summary = reports.readiness_summary(queryset)
        paginator = Paginator(reports.pilots_by_readiness(queryset), self.paginate_by)
        # The summary has already counted the pilots: no second COUNT over them.
        paginator.count = summary.pilots
        number = self.page_number()
        if number > paginator.num_pages:
            raise BadParameters(
                _("There is no page %(number)s: the list has %(pages)s.")
                % {"number": number, "pages": paginator.num_pages}
            )
        page = paginator.page(number)
        # Plain values only: the report is cached, and a Page would carry its queryset.
        return {
            "pilots": [reports.Readiness(initiative) for initiative in page.object_list],
            "page_number": number,
            "page_count": paginator.num_pages,
            "first_shown": page.start_index(),
            "last_shown": page.end_index(),
            "checks": reports.READINESS_CHECKS,
            "summary": summary,
            "summary_chart": charts.readiness_checks(summary),
        }

    def tables(self, report):
        header = [
            "reference",
            "title",
            "country",
            "country_name",
            "sector",
            "sector_label",
            "review_status",
            *[check.key for check in reports.READINESS_CHECKS],
            "score",
            "out_of",
            "ready",
        ]
        rows = (
            [
                pilot.initiative.reference,
                pilot.initiative.title,
                pilot.initiative.country_id,
                pilot.initiative.country.name,
                pilot.initiative.sector_id,
                pilot.initiative.sector.label,
                pilot.initiative.review_status,
                *[met for _check, met in pilot.checks],
                pilot.score,
                pilot.out_of,
                pilot.ready,
            ]
            # Every pilot, streamed, whatever page the link was taken from.
            for pilot in map(
                reports.Readiness,
                reports.pilots_by_readiness(self.filterset.qs).iterator(chunk_size=2000),
            )
        )
        return {"pilots": (header, rows)}
