"""The maturity reports' figures, drawn with `core.charts` (one chart library for coprod).

Each function turns a report's rows into the arguments of a `core.charts` primitive,
with titles, legends and descriptions in the reader's language.
"""

from django.utils.translation import gettext as _

from core import charts

from .models import Stage


def stages_by_sector(rows):
    """Stacked bars: each sector's initiatives split by current maturity stage."""
    return charts.stacked_bar_chart(
        title=_("Initiatives by maturity stage, per sector"),
        series=[label for _code, label in Stage.choices],
        rows=[(row.label, [row.counts[stage] for stage in Stage.values]) for row in rows],
        axis_label=_("Share of the sector's initiatives"),
    )


def time_to_embedding(timing):
    """Median days from first pilot to first embedded per sector, all sectors as marker."""
    overall = timing.overall.median
    return charts.bar_chart(
        title=_("Median time from pilot to embedded, by sector"),
        rows=[(f"{row.label} (n={row.count})", row.median, overall) for row in timing.by_sector],
        marker_label=_("All sectors (median)"),
        axis_label=_("Days from first entering pilot to first entering embedded"),
        max_value=None,
        unit=" " + _("days"),
        decimals=0,
        sort=False,
        label_width=220,
    )


def maturity_against_indicators(rows, *, question, wave):
    """Paired bars per item (embedded vs pilots) with the survey's value as a marker."""
    return charts.grouped_bar_chart(
        title=_("%(question)s: embedded initiatives vs pilots") % {"question": question.label},
        series=[_("Embedded initiatives"), _("Pilots")],
        rows=[
            (row.item.label, [row.embedded_percent, row.pilot_percent], row.survey_percent)
            for row in rows
        ],
        marker_label=(
            _("Survey respondents, %(wave)s") % {"wave": wave.code}
            if wave
            else _("Survey respondents")
        ),
        axis_label=_("Share tagged with the item"),
        sort=False,
    )


def country_indicators(question, pairs, country):
    """Paired bars per item: the country's survey value vs all countries, OECD value marked."""
    return charts.grouped_bar_chart(
        title=_("%(question)s: %(country)s and all countries")
        % {"question": question.label, "country": country.name},
        series=[country.name, _("All countries")],
        rows=[
            (pair.item.label, [pair.country_percent, pair.all_percent], pair.reference_percent)
            for pair in pairs
        ],
        marker_label=_("OECD published value"),
        axis_label=_("Share of survey responses"),
        sort=False,
    )


def evidence_by_stage(rows):
    """Stacked bars: initiatives of each stage by the level of evidence of their benefits."""
    keys = ["formally_evaluated", "monitored", "self_reported", "no_evidence"]
    labels = {key: label for key, label, _count, _share in rows[0].cells} if rows else {}
    return charts.stacked_bar_chart(
        title=_("Level of evidence of benefits, by maturity stage"),
        series=[labels.get(key, key) for key in keys],
        rows=[(row.label, [row.counts[key] for key in keys]) for row in rows if row.total],
        axis_label=_("Share of the stage's initiatives"),
    )


def readiness_checks(summary):
    """Bars: the share of pilots meeting each readiness check."""
    return charts.bar_chart(
        title=_("Pilots meeting each readiness check"),
        rows=[(str(check.label), share) for check, _count, share in summary.cells],
        axis_label=_("Share of pilots"),
        sort=False,
    )
