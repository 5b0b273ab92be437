"""The same two exports written with django-import-export, the tool Django users reach for.

    python bench/importexport_child.py SCALE SIZE (survey|initiatives)

Given its best chance: related rows are joined (`select_related`) and the multi-value cells
prefetched, so the time measured is the library's own way of building a file.
"""

import json
import sys
import time

from common import django_setup


def survey_resource():
    from import_export import fields, resources

    from survey.models import Response

    class ResponseResource(resources.ModelResource):
        wave = fields.Field(attribute="respondent__wave__code", column_name="wave")
        country = fields.Field(attribute="respondent__country_id", column_name="country")
        respondent = fields.Field(attribute="respondent__code", column_name="respondent")
        sector = fields.Field(attribute="sector_id", column_name="sector")
        question = fields.Field(attribute="item__question__code", column_name="question")
        item = fields.Field(attribute="item__code", column_name="item")
        answer = fields.Field(column_name="answer")

        class Meta:
            model = Response
            fields = ("wave", "country", "respondent", "sector", "question", "item", "answer")

        def dehydrate_answer(self, response):
            return "yes" if response.affirmative else "no"

    queryset = Response.objects.select_related("respondent__wave", "item__question").order_by(
        "respondent__wave__code",
        "respondent__country_id",
        "respondent__code",
        "sector_id",
        "item__question__order",
        "item__order",
    )
    return ResponseResource(), queryset


def initiatives_resource():
    from import_export import fields, resources

    from initiatives.models import Initiative

    def joined(attribute):
        def dehydrate(self, initiative):
            items = sorted(getattr(initiative, attribute).all(), key=lambda i: (i.order, i.code))
            return "|".join(item.code for item in items)

        return dehydrate

    class InitiativeResource(resources.ModelResource):
        country_name = fields.Field(attribute="country__name", column_name="country_name")
        sector_label = fields.Field(attribute="sector__label", column_name="sector_label")
        organisation_name = fields.Field(attribute="organisation__name", column_name="organisation")
        participation = fields.Field(column_name="participation")
        objectives = fields.Field(column_name="objectives")
        barriers = fields.Field(column_name="barriers")
        barriers_addressed = fields.Field(column_name="barriers_addressed")
        factors = fields.Field(column_name="factors")
        accountable_body = fields.Field(attribute="accountability__accountable_body")
        budget = fields.Field(attribute="budget__amount")
        currency = fields.Field(attribute="budget__currency")

        class Meta:
            model = Initiative
            fields = (
                "reference",
                "title",
                "summary",
                "country",
                "country_name",
                "sector",
                "sector_label",
                "level",
                "lead_public_body",
                "organisation_name",
                "stage",
                "review_status",
                "start_date",
                "end_date",
                "participants",
                "participation",
                "objectives",
                "barriers",
                "barriers_addressed",
                "factors",
                "accountable_body",
                "budget",
                "currency",
                "published_at",
                "updated_at",
            )

        def dehydrate_participation(self, initiative):
            return "|".join(f"{p.phase}:{p.partner_type}" for p in initiative.participations.all())

        dehydrate_objectives = joined("objectives")
        dehydrate_barriers = joined("barriers")
        dehydrate_barriers_addressed = joined("barriers_addressed")
        dehydrate_factors = joined("factors")

    queryset = (
        Initiative.objects.active()
        .select_related("country", "sector", "organisation", "accountability", "budget")
        .prefetch_related(
            "participations", "objectives", "barriers", "barriers_addressed", "factors"
        )
        .order_by("reference")
    )
    return InitiativeResource(), queryset


def main():
    scale, size, which = sys.argv[1:4]
    django_setup(scale, size)
    resource, queryset = {"survey": survey_resource, "initiatives": initiatives_resource}[which]()
    started = time.perf_counter()
    dataset = resource.export(queryset=queryset)
    text = dataset.csv
    total = time.perf_counter() - started
    print(json.dumps({"seconds": round(total, 2), "rows": len(dataset), "bytes": len(text)}))


if __name__ == "__main__":
    main()
