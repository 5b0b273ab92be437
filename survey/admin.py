"""Staff browse and maintain the survey: vocabulary, waves, respondents, responses.

Waves can hold a million responses, so the admin never lists them one by one: the
delete confirmation gives counts, list pages skip the full count, and relations
use autocomplete or raw ids.
"""

from django.contrib import admin, messages
from django.contrib.admin.models import DELETION, LogEntry
from django.core.exceptions import PermissionDenied
from django.db.models import Count
from django.shortcuts import get_object_or_404, render
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from coprod_site import reportcache
from coprod_site.adminforms import LabelledInlineFormSet

from .exports import export_response
from .forms import SurveyImportForm
from .imports import import_survey
from .models import (
    Country,
    Item,
    Question,
    ReferenceValue,
    Respondent,
    Response,
    Sector,
    Wave,
)


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
    (coprod_site/reportcache.py): say that the reports' data changed."""

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
        return format_html(
            '<a href="{}?wave={}">{}</a>',
            reverse("admin:survey_response_export"),
            wave.code,
            gettext("Download CSV"),
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
        """Upload a survey file: the same import as `manage.py import_survey`."""
        if not request.user.has_perm("survey.import_records"):
            raise PermissionDenied
        result = None
        form = SurveyImportForm(request.POST or None, request.FILES or None)
        if request.method == "POST" and form.is_valid():
            result = import_survey(
                request.FILES["file"],
                create_wave=form.cleaned_data["create_wave"],
                create_items=form.cleaned_data["create_items"],
                replace=form.cleaned_data["replace"],
            )
            if result.ok:
                messages.success(request, result.summary())
            else:
                messages.error(request, result.summary())
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": gettext("Import a survey file"),
            "form": form,
            "result": result,
            "more_errors": result.error_count - len(result.errors) if result else 0,
            # A browser never keeps a chosen file after sending it: the page names it.
            "chosen_file": request.FILES.get("file"),
        }
        return render(
            request,
            "admin/survey/response/import.html",
            context,
            status=400 if result is not None and not result.ok else 200,
        )

    def export_view(self, request):
        """Stream the records (one wave with `?wave=CODE`) in the import format."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        wave = None
        if request.GET.get("wave"):
            wave = get_object_or_404(Wave, code=request.GET["wave"])
        return export_response(wave=wave)
