"""Staff browse and maintain the survey: vocabulary, waves, respondents, responses.

Waves can hold a million responses, so the admin never lists them one by one: the
delete confirmation gives counts, list pages skip the full count, and relations
use autocomplete or raw ids.
"""

from django.conf import settings
from django.contrib import admin, messages
from django.contrib.admin.models import DELETION, LogEntry
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from django.core.files.storage import default_storage
from django.db.models import Count
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.http import urlencode
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django_tasks_db.models import DBTaskResult

from core import reportcache
from core.adminforms import LabelledInlineFormSet, ReadOnlyAdmin

from .exports import export_response
from .forms import SurveyImportForm
from .imports import import_survey
from .jobs import reap_stale_jobs, survey_export_start, survey_import_start, visible_jobs
from .models import (
    ColumnMapping,
    Country,
    Item,
    Job,
    Question,
    ReferenceValue,
    Respondent,
    Response,
    Sector,
    Wave,
)
from .uploads import forget_upload, keep_upload, open_upload
from .widefiles import preview


def wave_contents(wave):
    """What deleting a wave takes with it, as counts (two or three cheap queries)."""
    return {
        "respondents": Respondent.objects.filter(wave=wave).count(),
        "responses": Response.objects.filter(respondent__wave=wave).count(),
        "reference_values": ReferenceValue.objects.filter(wave=wave).count(),
    }


def describe_contents(contents):
    return (
        gettext(
            "%(respondents)d respondents, %(responses)d responses, "
            "%(reference_values)d reference values"
        )
        % contents
    )


class ReportDataDeletes:
    """Respondents and responses are deleted in bulk, without Django's delete signals
    (core/reportcache.py): say that the reports' data changed."""

    def delete_model(self, request, obj):
        super().delete_model(request, obj)
        reportcache.data_changed()

    def delete_queryset(self, request, queryset):
        super().delete_queryset(request, queryset)
        reportcache.data_changed()


@admin.register(Wave)
class WaveAdmin(admin.ModelAdmin):
    list_display = ("code", "title", "year", "synthetic", "respondent_count", "download")
    list_filter = ("synthetic", "year")
    search_fields = ("code", "title")
    ordering = ("-year", "code")

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(respondent_count=Count("respondents"))

    @admin.display(description=_("respondents"), ordering="respondent_count")
    def respondent_count(self, wave):
        return wave.respondent_count

    @admin.display(description=_("records"))
    def download(self, wave):
        url = reverse("admin:survey_response_export")
        return format_html(
            '<a href="{}?wave={}">{}</a> · <a href="{}?wave={}&amp;format=xlsx">{}</a>',
            url,
            wave.code,
            gettext("Download CSV"),
            url,
            wave.code,
            gettext("Download XLSX"),
        )

    def get_deleted_objects(self, objs, request):
        """Counts, not a page listing every response of the wave."""
        summary, model_count = [], {}
        for wave in objs:
            contents = wave_contents(wave)
            summary.append(f"{wave}: {describe_contents(contents)}")
            for model, key in ((Respondent, "respondents"), (Response, "responses")):
                name = model._meta.verbose_name_plural
                model_count[name] = model_count.get(name, 0) + contents[key]
            name = Wave._meta.verbose_name_plural
            model_count[name] = model_count.get(name, 0) + 1
        perms_needed = {
            str(model._meta.verbose_name)
            for model in (Wave, Respondent, Response, ReferenceValue)
            if not request.user.has_perm(f"survey.delete_{model._meta.model_name}")
        }
        return summary, model_count, perms_needed, []

    def log_deletions(self, request, queryset):
        """A LogEntry per wave whose message says how much went with it."""
        entries = []
        for wave in queryset:
            message = gettext("Deleted the wave and its %(contents)s.") % {
                "contents": describe_contents(wave_contents(wave))
            }
            entries.append(
                LogEntry.objects.log_actions(
                    user_id=request.user.pk,
                    queryset=[wave],
                    action_flag=DELETION,
                    change_message=message,
                    single_object=True,
                )
            )
        return entries

    def delete_model(self, request, obj):
        # Responses first, in one statement, rather than the cascade loading them all.
        Response.objects.filter(respondent__wave=obj).delete()
        Respondent.objects.filter(wave=obj).delete()
        obj.delete()

    def delete_queryset(self, request, queryset):
        for wave in queryset:
            self.delete_model(request, wave)


class ItemInline(admin.TabularInline):
    model = Item
    formset = LabelledInlineFormSet
    fields = ("code", "label_en", "label_fr", "order")
    extra = 0


@admin.register(Question)
class QuestionAdmin(admin.ModelAdmin):
    list_display = ("code", "label", "order")
    search_fields = ("code", "label")
    inlines = [ItemInline]


@admin.register(Item)
class ItemAdmin(admin.ModelAdmin):
    list_display = ("code", "label", "question", "order")
    list_filter = ("question",)
    list_select_related = ("question",)
    search_fields = ("code", "label", "question__code")


@admin.register(Sector)
class SectorAdmin(admin.ModelAdmin):
    list_display = ("code", "label")
    search_fields = ("code", "label")


@admin.register(Country)
class CountryAdmin(admin.ModelAdmin):
    list_display = ("code", "name")
    search_fields = ("code", "name")


@admin.register(ReferenceValue)
class ReferenceValueAdmin(admin.ModelAdmin):
    list_display = ("wave", "question", "item", "percent", "note")
    list_filter = ("wave", "item__question")
    list_select_related = ("wave", "item__question")
    autocomplete_fields = ("wave", "item")
    search_fields = ("item__code", "item__label", "note")

    @admin.display(description=_("question"), ordering="item__question__order")
    def question(self, reference):
        return reference.item.question


@admin.register(Respondent)
class RespondentAdmin(ReportDataDeletes, admin.ModelAdmin):
    list_display = ("code", "wave", "country")
    list_filter = ("wave", ("country", admin.RelatedOnlyFieldListFilter))
    list_select_related = ("wave", "country")
    search_fields = ("code",)
    autocomplete_fields = ("wave", "country")
    show_full_result_count = False
    show_facets = admin.ShowFacets.NEVER


class RespondentCountryFilter(admin.SimpleListFilter):
    """Only the countries that have respondents, read from the respondents (not from a
    scan of every response)."""

    title = _("country")
    parameter_name = "country"

    def lookups(self, request, model_admin):
        codes = Respondent.objects.order_by().values_list("country", flat=True).distinct()
        return list(Country.objects.filter(code__in=codes).values_list("code", "name"))

    def queryset(self, request, queryset):
        if self.value():
            return queryset.filter(respondent__country=self.value())
        return queryset


class AnswerFilter(admin.SimpleListFilter):
    title = _("answer")
    parameter_name = "answer"

    def lookups(self, request, model_admin):
        return [("yes", _("yes")), ("no", _("no"))]

    def queryset(self, request, queryset):
        if self.value() in ("yes", "no"):
            return queryset.filter(affirmative=self.value() == "yes")
        return queryset


@admin.register(Response)
class ResponseAdmin(ReportDataDeletes, admin.ModelAdmin):
    list_display = ("respondent_code", "wave", "country", "sector", "question", "item", "answer")
    list_filter = (
        "respondent__wave",
        RespondentCountryFilter,
        "sector",
        "item__question",
        "item",
        AnswerFilter,
    )
    list_select_related = ("respondent__wave", "respondent__country", "sector", "item__question")
    search_fields = ("respondent__code", "item__code")
    raw_id_fields = ("respondent",)
    autocomplete_fields = ("item", "sector")
    show_full_result_count = False
    # Facet counts would count a million responses once per filter choice.
    show_facets = admin.ShowFacets.NEVER
    list_per_page = 50
    change_list_template = "admin/survey/response/change_list.html"

    @admin.display(description=_("respondent"), ordering="respondent__code")
    def respondent_code(self, response):
        return response.respondent.code

    @admin.display(description=_("wave"), ordering="respondent__wave__code")
    def wave(self, response):
        return response.respondent.wave.code

    @admin.display(description=_("country"), ordering="respondent__country")
    def country(self, response):
        return response.respondent.country_id

    @admin.display(description=_("question"))
    def question(self, response):
        return response.item.question.code

    @admin.display(description=_("answer"), boolean=True, ordering="affirmative")
    def answer(self, response):
        return response.affirmative

    def get_urls(self):
        return [
            path(
                "import/",
                self.admin_site.admin_view(self.import_view),
                name="survey_response_import",
            ),
            path(
                "export/",
                self.admin_site.admin_view(self.export_view),
                name="survey_response_export",
            ),
            *super().get_urls(),
        ]

    def import_view(self, request):
        """Upload a survey file: the same import as `manage.py import_survey`.

        "Preview" reads the first rows back as answers and keeps the file on the server
        (`uploads.py`), so that "Import" after it needs no second upload.
        """
        if not request.user.has_perm("survey.import_records"):
            raise PermissionDenied
        result = shown = None
        # `?upload=KEY`: back from saving a mapping, with the file kept since its preview
        # (checked to be this person's when it is used).
        initial = {"upload": request.GET.get("upload", "")}
        form = SurveyImportForm(request.POST or None, request.FILES or None, initial=initial)
        if request.method == "POST" and form.is_valid():
            data = form.cleaned_data
            key = data["upload"]
            if data["file"]:
                key = keep_upload(data["file"], owner=request.user)
            try:
                source = open_upload(key, owner=request.user)
            except FileNotFoundError:
                form.add_error("file", gettext("The file is no longer kept: upload it again."))
                source = None
            if source is not None:
                with source:
                    if "preview" in request.POST:
                        try:
                            shown = preview(source, mapping=data["mapping"] or None)
                        except LookupError:
                            form.add_error("mapping", gettext("No mapping has this name."))
                    elif _in_background(data, key):
                        job = survey_import_start(
                            owner=request.user,
                            upload_key=key,
                            name=data["file"].name if data["file"] else "",
                            size=default_storage.size(key),
                            mapping=data["mapping"] or "",
                            wave=data["wave"] or "",
                            create_wave=data["create_wave"],
                            create_items=data["create_items"],
                            replace=data["replace"],
                        )
                        return redirect("admin:survey_job_change", job.pk)
                    else:
                        result = import_survey(
                            source,
                            mapping=data["mapping"] or None,
                            wave=data["wave"] or None,
                            create_wave=data["create_wave"],
                            create_items=data["create_items"],
                            replace=data["replace"],
                        )
                if result is not None and result.ok:
                    forget_upload(key, owner=request.user)
                    messages.success(request, result.summary())
                    form = SurveyImportForm()
                else:
                    if result is not None:
                        messages.error(request, result.summary())
                    form = SurveyImportForm(
                        initial={**{k: v for k, v in data.items() if k != "file"}, "upload": key}
                    )
                    form.kept_name = data["file"].name if data["file"] else ""
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": gettext("Import a survey file"),
            "form": form,
            "result": result,
            "preview": shown,
            "save_mapping_url": _save_mapping_url(shown),
            "again_url": (
                f"{request.path}?{urlencode({'upload': form.initial.get('upload', '')})}"
                if shown is not None
                else ""
            ),
            "more_errors": result.error_count - len(result.errors) if result else 0,
            # A browser never keeps a chosen file after sending it: the page names it.
            "chosen_file": request.FILES.get("file"),
        }
        failed = (result is not None and not result.ok) or (form.is_bound and form.errors)
        return render(
            request, "admin/survey/response/import.html", context, status=400 if failed else 200
        )

    def export_view(self, request):
        """The records (one wave with `?wave=CODE`) in the import format, CSV or XLSX
        (`?format=xlsx`)."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        wave = None
        if request.GET.get("wave"):
            wave = get_object_or_404(Wave, code=request.GET["wave"])
        records = Response.objects.all()
        if wave is not None:
            records = records.filter(respondent__wave=wave)
        if records[: settings.JOB_EXPORT_ROWS + 1].count() > settings.JOB_EXPORT_ROWS:
            # Too large for one request: a job writes the file, its page offers it.
            job = survey_export_start(owner=request.user, wave=wave)
            return redirect("admin:survey_job_change", job.pk)
        output = "xlsx" if request.GET.get("format") == "xlsx" else "csv"
        return export_response(wave=wave, output=output)


def _in_background(data, key):
    """Large files (over JOB_IMPORT_BYTES) import in a job, or any file on request."""
    return data.get("background") or default_storage.size(key) > settings.JOB_IMPORT_BYTES


def _save_mapping_url(shown):
    """The admin's "add column mapping" form, filled in with a previewed mapping."""
    if shown is None or shown.mapping is None or shown.mapping.pk is not None:
        return ""
    fields = shown.as_dict()["mapping"]
    initial = {name: fields[name] for name in ("name", *ColumnMapping.READING_FIELDS)}
    return reverse("admin:survey_columnmapping_add") + "?" + urlencode(initial)


@admin.register(ColumnMapping)
class ColumnMappingAdmin(admin.ModelAdmin):
    """Saved ways to read wide survey files; survey managers keep them."""

    list_display = ("name", "preset", "answered", "updated_at")
    list_filter = ("preset", "answered")
    search_fields = ("name", "description")
    readonly_fields = ("preset", "updated_at")
    fieldsets = (
        (None, {"fields": ("name", "description", "preset", "updated_at")}),
        (
            _("Who answered"),
            {"fields": ("respondent_column", "country_column", "sector_column", "skip_rows")},
        ),
        (
            _("What they answered"),
            {"fields": ("columns", "yes_values", "no_values", "answered", "shown_columns")},
        ),
    )

    def _manages(self, request):
        return request.user.has_perm("survey.import_records")

    def has_view_permission(self, request, obj=None):
        return self._manages(request)

    def has_add_permission(self, request):
        return self._manages(request)

    def has_change_permission(self, request, obj=None):
        return self._manages(request)

    def has_delete_permission(self, request, obj=None):
        return self._manages(request)


# The task engine's own table says nothing the job pages do not, and would tie the admin to
# one engine: staff follow their jobs as `Job` rows.
if admin.site.is_registered(DBTaskResult):
    admin.site.unregister(DBTaskResult)


@admin.register(Job)
class JobAdmin(ReadOnlyAdmin):
    """Each person's background jobs, with the job page's progress and outcome."""

    list_display = ("__str__", "kind", "status", "rows_read", "rows_written", "created_at")
    list_filter = ("kind", "status")
    readonly_fields = [field.name for field in Job._meta.fields]
    change_form_template = "admin/survey/job/change_form.html"

    def get_queryset(self, request):
        return visible_jobs(request.user)

    def has_view_permission(self, request, obj=None):
        return (
            request.user.is_active
            and request.user.is_staff
            and (obj is None or obj.owner_id == request.user.pk)
        )

    def has_module_permission(self, request):
        # Listed among the survey's models for whoever works with them; the pages
        # themselves answer any staff member about their own jobs.
        return request.user.has_module_perms("survey")

    def change_view(self, request, object_id, form_url="", extra_context=None):
        from .views import job_context

        reap_stale_jobs()
        # `get_object` reads past an id that is no job's (a mistyped or relative URL: a
        # 404-like redirect, not a server error).
        job = self.get_object(request, unquote(object_id))
        extra = job_context(job) if job is not None else {}
        extra.pop("job", None)
        return super().change_view(request, object_id, form_url, {**extra, **(extra_context or {})})
