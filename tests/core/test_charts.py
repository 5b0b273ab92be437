"""The SVG charts: valid, accessible, escaped, and honest about missing data."""

import re
import xml.dom.minidom
from decimal import Decimal

from core.charts import (
    bar_chart,
    grouped_bar_chart,
    small_multiples,
    stacked_bar_chart,
    text_width,
    wrap,
)


def parse(svg):
    return xml.dom.minidom.parseString(str(svg))  # noqa: S318 - our own output


def texts(svg):
    return [node.firstChild.data for node in parse(svg).getElementsByTagName("text")]


def test_bar_chart_is_an_accessible_image():
    svg = bar_chart(title="Barriers", description="Four barriers.", rows=[("A", 10)])
    root = parse(svg).documentElement
    assert root.getAttribute("role") == "img"
    title_id, desc_id = root.getAttribute("aria-labelledby").split()
    titles = {n.getAttribute("id"): n.firstChild.data for n in root.getElementsByTagName("title")}
    descs = {n.getAttribute("id"): n.firstChild.data for n in root.getElementsByTagName("desc")}
    assert titles[title_id] == "Barriers"
    assert descs[desc_id] == "Four barriers."


def test_labels_are_escaped_never_markup():
    svg = bar_chart(title="<b>t</b>", rows=[("<script>alert(1)</script>", 5, None)])
    assert "<script>" not in svg
    assert "&lt;script&gt;" in svg
    parse(svg)


def test_no_inline_style_attributes_because_of_the_csp():
    svg = grouped_bar_chart(
        title="t", series=["Embedded", "Pilot"], rows=[("x", [1, 2], 3)], marker_label="m"
    )
    assert "style=" not in svg
    assert "style=" not in stacked_bar_chart(title="t", series=["a", "b"], rows=[("x", [1, 1])])


def test_bars_are_sorted_largest_first_and_missing_data_last():
    svg = bar_chart(title="t", rows=[("low", 10), ("none", None), ("high", 90)])
    labels = [t for t in texts(svg) if t in {"low", "none", "high"}]
    assert labels == ["high", "low", "none"]


def test_missing_value_is_a_dash_not_zero():
    svg = bar_chart(title="t", rows=[("empty", None, Decimal("42"))], marker_label="OECD")
    shown = texts(svg)
    assert "—" in shown
    assert "0.0%" not in shown
    assert "empty: no data (OECD 42.0%)." in str(svg)


def test_marker_is_in_the_legend_only_when_there_is_one():
    with_marker = bar_chart(title="t", rows=[("a", 10, 20)], marker_label="Published")
    without = bar_chart(title="t", rows=[("a", 10, None)], marker_label="Published")
    assert "Published" in texts(with_marker)
    assert "Published" not in texts(without)
    assert "<polygon" in with_marker
    assert "<polygon" not in without


def test_axis_is_in_percent_with_gridlines():
    shown = texts(bar_chart(title="t", rows=[("a", 10)]))
    assert {"0%", "25%", "50%", "75%", "100%"} <= set(shown)


def test_long_labels_wrap_within_the_label_column():
    label = "Leadership and commitment from senior public officials " * 3
    lines = wrap(label, 200)
    assert len(lines) > 1
    assert all(text_width(line) <= 200 for line in lines)
    assert " ".join(lines) == " ".join(label.split())
    assert all(text_width(part) <= 80 for part in wrap("x" * 60, 80))


def test_value_labels_fit_inside_the_figure():
    svg = bar_chart(title="t", rows=[("a", 100)], width=400)
    root = parse(svg).documentElement
    width = float(root.getAttribute("width"))
    for node in root.getElementsByTagName("text"):
        x = float(node.getAttribute("x"))
        assert x + text_width(node.firstChild.data, 11) <= width + 1


def test_stacked_bars_are_shares_of_each_total():
    svg = stacked_bar_chart(
        title="Stages", series=["Pilot", "Embedded"], rows=[("Health", [1, 3]), ("None", [0, 0])]
    )
    shown = texts(svg)
    assert "25%" in shown
    assert "75%" in shown
    assert "n=4" in shown
    assert "Health (n=4): Pilot 25%, Embedded 75%; None: no data." in str(svg)


def test_grouped_bars_describe_every_series():
    svg = grouped_bar_chart(
        title="t",
        series=["Embedded", "Pilot"],
        rows=[("Frameworks", [80, None], 73)],
        marker_label="Survey",
    )
    assert "Frameworks: Embedded 80.0%, Pilot —, (Survey 73.0%)" not in str(svg)
    assert "Frameworks: Embedded 80.0%, Pilot — (Survey 73.0%)." in str(svg)


def test_small_multiples_have_unique_ids_and_one_figure_per_panel():
    html = small_multiples(title="By country", panels=[("FIN", [("a", 1)]), ("CAN", [("a", 2)])])
    ids = re.findall(r' id="([^"]+)"', html)
    assert len(ids) == len(set(ids)) == 4
    assert html.count("<svg") == 2


def test_values_follow_the_language_and_round_half_away_from_zero():
    from django.utils import translation

    from core.charts import format_value

    assert format_value(Decimal("66.65")) == "66.7%"
    assert format_value(12.25) == "12.3%"
    assert format_value(0, decimals=0) == "0%"
    with translation.override("fr"):
        assert format_value(Decimal("42.0")) == "42,0%"


def _bars_and_figures(svg, unit):
    """Each bar as (top, bottom, end) and each figure as (x, baseline, anchor)."""
    root = parse(svg).documentElement
    bars = [
        (
            float(r.getAttribute("y")),
            float(r.getAttribute("y")) + float(r.getAttribute("height")),
            float(r.getAttribute("x")) + float(r.getAttribute("width")),
        )
        for r in root.getElementsByTagName("rect")
        if r.getElementsByTagName("title")  # a bar carries its tooltip; legend keys do not
    ]
    figures = [
        (float(t.getAttribute("x")), float(t.getAttribute("y")), t.getAttribute("text-anchor"))
        for t in root.getElementsByTagName("text")
        if t.firstChild.data.endswith(unit)
        and t.getAttribute("font-weight") != "600"
        and t.getAttribute("text-anchor") != "middle"  # the axis ticks
    ]
    return bars, figures


def _assert_each_figure_at_its_bar(svg, unit):
    bars, figures = _bars_and_figures(svg, unit)
    assert len(bars) == len(figures)
    for (top, bottom, end), (x, baseline, anchor) in zip(bars, figures, strict=True):
        assert top < baseline <= bottom + 2  # in the bar's own band
        if anchor == "end":
            assert end - 8 <= x <= end  # inside the bar's end
        else:
            assert end <= x <= end + 8  # right after it


def test_a_figure_stays_at_its_bar_when_the_marker_is_just_past_it():
    # The median chart: bars short of the all-sectors marker by less than a label's width
    # had their figure pushed past the marker, away from the bar.
    svg = bar_chart(
        title="Median time from pilot to embedded",
        rows=[
            ("Health", 300, 430),
            ("Education", 410, 430),
            ("Social", 520, 430),
            ("Other", 1048.5, 430),
            ("Tiny", 20, 30),
        ],
        marker_label="All sectors (median)",
        max_value=None,
        unit=" days",
        decimals=0,
        sort=False,
    )
    _assert_each_figure_at_its_bar(svg, " days")


def test_grouped_figures_stay_at_their_bars_beside_the_marker():
    svg = grouped_bar_chart(
        title="t",
        series=["Embedded", "Pilot"],
        rows=[("a", [40, 45], 47), ("b", [10, 70], 12), ("c", [None, 5], 50)],
        marker_label="OECD",
    )
    _assert_each_figure_at_its_bar(svg, "%")
