"""Server-rendered SVG charts that read like a publication figure.

Four shapes, all horizontal (long category labels stay readable):

- `bar_chart`: one series, one bar per category, optional reference marker per bar;
- `grouped_bar_chart`: two or more series per category, optional marker per category;
- `stacked_bar_chart`: shares per category (each bar sums to 100 %);
- `small_multiples`: one small `bar_chart` per panel on a shared scale.

Every function takes keyword arguments only and returns a `SafeString` of markup
that can go straight into a template. All text is escaped. Colours are SVG
presentation attributes (the strict CSP forbids `style=`), and nothing relies on
colour alone: markers have their own shape, series alternate solid and hatched
fills, and every figure has a legend and printed values. A value of `None` means
"no data" and is drawn as "—", never as zero.

Charts are accessible images: `role="img"`, `aria-labelledby` pointing at the
`<title>` and `<desc>` elements; the page should still give the numbers as a table.

The module is long (about 850 lines) because it is one renderer: text measuring, the
shared frame (label column, title and legend, rows, gridlines and axis: `_label_column`,
`_heading`, `_row`, `_frame`) and the four shapes drawn with it. Split, each shape's
layout would be read across files for no reuse elsewhere.
"""

import math
import zlib
from collections.abc import Iterable, Sequence
from decimal import Decimal

from django.utils.formats import number_format
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _

from core.numbers import round_half_up

FONT = "system-ui, -apple-system, 'Segoe UI', Roboto, Helvetica, Arial, sans-serif"
INK = "#1b1f24"
MUTED = "#5a6470"
GRID = "#d5dae0"
AXIS = "#8a939d"
# Alternating dark and light tones, so that series still differ once printed in grey.
SERIES_FILLS = ("#0b4f8a", "#8cb9e3", "#b35c00", "#f2c28c", "#2f6b3a", "#a9d3a0")
MARKER_STROKE = INK
MARKER_FILL = "#ffffff"
NO_DATA = "—"

#: A figure on a chart; None is "no data".
Value = Decimal | float | int | None
#: A row of the horizontal charts, ready to draw: (label, value per series, marker).
_Row = tuple[str, list[Value], Value]

LABEL_SIZE = 13
SMALL_SIZE = 11
LINE_HEIGHT = 16
PAD = 8

# Approximate advance widths (in em) of a sans-serif face, enough to size label columns
# so that labels are neither cut off nor surrounded by a sea of white.
_NARROW = set("iljI.,;:!|'`()[]{} ")
_SEMI = set('frtJ-/\\"*')
_WIDE = set("mwMW@%")
_CAPS = set("ABCDEFGHKLNOPQRSTUVXYZ&")


def text_width(text: object, size: float = LABEL_SIZE, *, bold: bool = False) -> float:
    """Estimated rendered width of `text` in pixels at font size `size`."""
    em = 0.0
    for char in str(text):
        if char in _NARROW:
            em += 0.3
        elif char in _SEMI:
            em += 0.38
        elif char in _WIDE:
            em += 0.86
        elif char in _CAPS:
            em += 0.68
        elif char.isdigit():
            em += 0.56
        else:
            em += 0.55
    return em * size * (1.12 if bold else 1.04)


def wrap(
    text: object, max_width: float, size: float = LABEL_SIZE, *, bold: bool = False
) -> list[str]:
    """Split `text` into lines no wider than `max_width`; words longer than that are broken."""

    def fits(value: str) -> bool:
        return text_width(value, size, bold=bold) <= max_width

    lines: list[str] = []
    current = ""
    for word in str(text).split():
        while not fits(word) and len(word) > 1:
            # Break a very long word so that it can never overflow the label column.
            cut = len(word)
            while cut > 1 and not fits(word[:cut] + "-"):
                cut -= 1
            if current:
                lines.append(current)
                current = ""
            lines.append(word[:cut] if word[cut - 1] == "-" else word[:cut] + "-")
            word = word[cut:]
        candidate = f"{current} {word}" if current else word
        if current and not fits(candidate):
            lines.append(current)
            current = word
        else:
            current = candidate
    if current or not lines:
        lines.append(current)
    return lines


def format_value(value: Value, *, unit: str = "%", decimals: int = 1) -> str:
    """A value as printed on a chart: `42.0%` (`42,0%` in French), or `—` for no data."""
    if value is None:
        return NO_DATA
    rounded = round_half_up(value, decimals)
    return f"{number_format(rounded, decimal_pos=decimals)}{unit}"


def _attrs(**attrs: object) -> str:
    parts = []
    for name, value in attrs.items():
        if value is None:
            continue
        name = name.rstrip("_").replace("_", "-")
        if isinstance(value, float | int) and not isinstance(value, bool):
            value = f"{float(value):.2f}".rstrip("0").rstrip(".")
        parts.append(f'{name}="{escape(value)}"')
    return " ".join(parts)


def _el(tag: str, inner: str = "", **attrs: object) -> str:
    """One SVG element; `inner` must already be markup (escape text before passing it)."""
    if inner:
        return f"<{tag} {_attrs(**attrs)}>{inner}</{tag}>"
    return f"<{tag} {_attrs(**attrs)}/>"


def _text(
    x: float,
    y: float,
    content: object,
    *,
    size: float = LABEL_SIZE,
    fill: str = INK,
    anchor: str = "start",
    weight: str | None = None,
) -> str:
    return _el(
        "text",
        escape(content),
        x=x,
        y=y,
        font_size=size,
        fill=fill,
        text_anchor=anchor,
        font_weight=weight,
    )


def _label_lines(
    x: float,
    y_top: float,
    lines: Iterable[str],
    *,
    size: float = LABEL_SIZE,
    anchor: str = "end",
    fill: str = INK,
) -> str:
    """Multi-line text whose block starts at `y_top`."""
    out = []
    for index, line in enumerate(lines):
        baseline = y_top + index * LINE_HEIGHT + size * 0.95
        out.append(_text(x, baseline, line, size=size, anchor=anchor, fill=fill))
    return "".join(out)


def _tooltip(label: str, series_name: str | None, shown: str) -> str:
    name = f"{label}: {series_name}" if series_name else label
    return f"<title>{escape(name)} {escape(shown)}</title>"


def _gridline(x: float, top: float, bottom: float, *, axis: bool = False) -> str:
    return _el("line", x1=x, x2=x, y1=top, y2=bottom, stroke=AXIS if axis else GRID, stroke_width=1)


def _chart_id(prefix: str, *parts: object) -> str:
    digest = zlib.crc32("\x1f".join(str(part) for part in parts).encode("utf-8"))
    return f"{prefix}-{digest:08x}"


def _nice_max(values: Iterable[Value]) -> float:
    """A round upper bound for the axis when the scale is not fixed at 100."""
    peak = max((float(v) for v in values if v is not None), default=0.0)
    if peak <= 0:
        return 1.0
    magnitude = 10 ** math.floor(math.log10(peak))
    for step in (1, 2, 2.5, 5, 10):
        if step * magnitude >= peak:
            return step * magnitude
    return 10 * magnitude


def _ticks(max_value: float) -> list[float]:
    """Five or so round ticks from 0 to `max_value`."""
    raw = max_value / 4
    magnitude = 10 ** math.floor(math.log10(raw)) if raw > 0 else 1
    step = next((s * magnitude for s in (1, 2, 2.5, 5, 10) if s * magnitude >= raw), 10 * magnitude)
    ticks, value = [], 0.0
    while value <= max_value + step * 1e-9:
        ticks.append(value)
        value += step
    return ticks


def _marker(x: float, y_mid: float, half_height: float) -> str:
    """The reference marker: a thin vertical rule with a white diamond on it."""
    d = 5
    return _el(
        "line",
        x1=x,
        x2=x,
        y1=y_mid - half_height,
        y2=y_mid + half_height,
        stroke=MARKER_STROKE,
        stroke_width=1.5,
    ) + _el(
        "polygon",
        points=f"{x:.1f},{y_mid - d:.1f} {x + d:.1f},{y_mid:.1f} "
        f"{x:.1f},{y_mid + d:.1f} {x - d:.1f},{y_mid:.1f}",
        fill=MARKER_FILL,
        stroke=MARKER_STROKE,
        stroke_width=1.5,
    )


def _patterns(chart_id: str, count: int) -> str:
    """Hatching for odd-numbered series: a second cue besides colour."""
    defs = []
    for index in range(1, count, 2):
        fill = SERIES_FILLS[index % len(SERIES_FILLS)]
        defs.append(
            f'<pattern id="{chart_id}-hatch{index}" width="6" height="6" '
            f'patternUnits="userSpaceOnUse" patternTransform="rotate(45)">'
            f'<rect width="6" height="6" fill="{fill}"/>'
            f'<line x1="0" y1="0" x2="0" y2="6" stroke="{INK}" stroke-width="1.2" '
            f'stroke-opacity="0.55"/></pattern>'
        )
    return f"<defs>{''.join(defs)}</defs>" if defs else ""


def _series_fill(chart_id: str, index: int) -> str:
    if index % 2:
        return f"url(#{chart_id}-hatch{index})"
    return SERIES_FILLS[index % len(SERIES_FILLS)]


def _legend(
    chart_id: str,
    x: float,
    y: float,
    width: float,
    *,
    series: Sequence[str] = (),
    marker_label: str | None = None,
) -> tuple[str, float]:
    """Legend entries laid out left to right, wrapping; returns (markup, height)."""
    entries = []
    for index, name in enumerate(series):
        swatch = (
            f'<rect x="0" y="-10" width="14" height="12" fill="{_series_fill(chart_id, index)}" '
            f'stroke="{INK}" stroke-width="0.5"/>'
        )
        entries.append((swatch, str(name)))
    if marker_label:
        entries.append((_marker(7, -4, 8), str(marker_label)))
    if not entries:
        return "", 0
    out, cx, cy = [], x, y + 12
    for swatch, label in entries:
        entry_width = 20 + text_width(label, SMALL_SIZE + 1) + 18
        if cx > x and cx + entry_width > x + width:
            cx, cy = x, cy + LINE_HEIGHT + 4
        out.append(
            f'<g transform="translate({cx:.1f},{cy:.1f})">{swatch}'
            f"{_text(20, 0, label, size=SMALL_SIZE + 1)}</g>"
        )
        cx += entry_width
    return "".join(out), cy - y + 10


def _svg(
    chart_id: str,
    width: float,
    height: float,
    title: str,
    description: str,
    body: str,
    *,
    css_class: str,
) -> SafeString:
    return mark_safe(  # noqa: S308 - every piece of text above went through escape()
        f'<svg xmlns="http://www.w3.org/2000/svg" class="{escape(css_class)}" '
        f'viewBox="0 0 {width:.0f} {height:.0f}" width="{width:.0f}" height="{height:.0f}" '
        f'role="img" aria-labelledby="{chart_id}-title {chart_id}-desc" '
        f'font-family="{escape(FONT)}">'
        f'<title id="{chart_id}-title">{escape(title)}</title>'
        f'<desc id="{chart_id}-desc">{escape(description)}</desc>'
        f"{body}</svg>"
    )


def _label_column(labels: Sequence[str], label_width: int) -> tuple[list[list[str]], float]:
    """The category labels wrapped to their column (at most `label_width` wide), and the
    x where the plot starts beside it."""
    longest = max((text_width(label) for label in labels), default=40)
    column = min(longest, label_width) + PAD
    return [wrap(label, column - PAD + 0.5) for label in labels], PAD + column + 6


def _heading(
    chart_id: str,
    title: str | None,
    *,
    plot_left: float,
    width: float,
    series: Sequence[str] = (),
    marker_label: str | None = None,
) -> tuple[list[str], float]:
    """The printed title (when given) and the legend; returns (markup, top of the plot)."""
    body = []
    y: float = PAD
    if title:
        for line in wrap(title, width - 2 * PAD, LABEL_SIZE + 1, bold=True):
            body.append(_text(PAD, y + 14, line, size=LABEL_SIZE + 1, weight="600"))
            y += LINE_HEIGHT + 2
        y += 4
    legend, legend_height = _legend(
        chart_id, plot_left, y, width - plot_left - PAD, series=series, marker_label=marker_label
    )
    body.append(legend)
    return body, y + legend_height + (6 if legend_height else 0)


def _row(
    plot_left: float, y: float, lines: Sequence[str], block: float
) -> tuple[str, float, float]:
    """A category's label beside its bars (`block` high), both centred on the row:
    returns (label markup, row height, top of the bars)."""
    text_block = len(lines) * LINE_HEIGHT
    row_height = max(block, text_block)
    label = _label_lines(plot_left - 8, y + (row_height - text_block) / 2, lines)
    return label, row_height, y + (row_height - block) / 2


def _frame(
    chart_id: str,
    body: list[str],
    bars: list[str],
    *,
    ticks: Sequence[tuple[float, str]],
    plot: tuple[float, float, float, float],
    axis_label: str | None,
    width: float,
    title: str,
    description: str,
    css_class: str,
) -> SafeString:
    """Gridlines and tick labels under the bars, the axis label, and the `<svg>` around all.

    ticks: (x, label), the first one on the axis; plot: (left, width, top, bottom).
    """
    plot_left, plot_width, plot_top, plot_bottom = plot
    grid = []
    for index, (x, label) in enumerate(ticks):
        grid.append(_gridline(x, plot_top - 4, plot_bottom, axis=not index))
        grid.append(_text(x, plot_bottom + 14, label, size=SMALL_SIZE, fill=MUTED, anchor="middle"))
    height = plot_bottom + 18
    axis = []
    if axis_label:
        axis.append(
            _text(
                plot_left + plot_width / 2,
                height + 12,
                axis_label,
                size=SMALL_SIZE,
                fill=MUTED,
                anchor="middle",
            )
        )
        height += 18
    markup = "".join([*body, *grid, *bars, *axis])
    return _svg(chart_id, width, height + PAD, title, description, markup, css_class=css_class)


def _describe(
    rows: Sequence[_Row],
    *,
    unit: str,
    decimals: int,
    marker_label: str | None,
    series: Sequence[str] | None = None,
) -> str:
    """A plain-language reading of the figure for screen readers."""
    parts = []
    for label, values, marker in rows:
        if series:
            shown = ", ".join(
                f"{name} {format_value(v, unit=unit, decimals=decimals)}"
                for name, v in zip(series, values, strict=False)
            )
        else:
            shown = format_value(values[0], unit=unit, decimals=decimals)
            if values[0] is None:
                shown = _("no data")
        if marker is not None and marker_label:
            shown += f" ({marker_label} {format_value(marker, unit=unit, decimals=decimals)})"
        parts.append(f"{label}: {shown}")
    return "; ".join(parts) + "." if parts else _("No data.")


def _value_label(
    end: float, mid: float, text: str, marker_x: float | None, *, solid: bool, room: float
) -> str:
    """A bar's figure, always at the bar's end: just after it, or, where the marker would
    run through it there, inside the end of a solid bar wide enough to hold it (in white).
    Otherwise it stays after the bar with a white halo, drawn over the marker."""
    width = text_width(text, SMALL_SIZE)
    crossed = marker_x is not None and end - 8 <= marker_x <= end + width + 10
    if crossed and solid and width + 8 <= room:
        return _text(end - 4, mid + 4, text, size=SMALL_SIZE, fill="#ffffff", anchor="end")
    if crossed:
        return _el(
            "text",
            escape(text),
            x=end + 4,
            y=mid + 4,
            font_size=SMALL_SIZE,
            fill=INK,
            stroke="#ffffff",
            stroke_width=3,
            paint_order="stroke",
        )
    return _text(end + 4, mid + 4, text, size=SMALL_SIZE, fill=INK)


def _sort_key(values: Sequence[Value]) -> tuple[bool, float]:
    first = values[0] if values else None
    return (first is None, -(float(first) if first is not None else 0.0))


def _horizontal(
    *,
    title: str,
    rows: Iterable[tuple[object, Iterable[Value], Value]],
    series: Sequence[str],
    description: str,
    marker_label: str | None,
    axis_label: str | None,
    sort: bool,
    width: int,
    max_value: float | None,
    unit: str,
    decimals: int,
    show_title: bool,
    label_width: int,
    chart_id: str | None,
    css_class: str,
    prefix: str,
) -> SafeString:
    """Shared layout of single and grouped bars. `rows` are (label, [values], marker)."""
    table: list[_Row] = [(str(label), list(values), marker) for label, values, marker in rows]
    if sort:
        table.sort(key=lambda row: _sort_key(row[1]))
    n_series = max(len(series), 1)
    all_values = [v for _l, values, m in table for v in [*values, m]]
    scale_max = float(max_value) if max_value is not None else _nice_max(all_values)
    chart_id = chart_id or _chart_id(prefix, title, table)
    description = description or _describe(
        table,
        unit=unit,
        decimals=decimals,
        marker_label=marker_label,
        series=series if len(series) > 1 else None,
    )

    wrapped, plot_left = _label_column([label for label, _v, _m in table], label_width)
    value_room = text_width(format_value(scale_max, unit=unit, decimals=decimals), SMALL_SIZE) + 16
    plot_width = max(width - plot_left - value_room - PAD, 60)
    body, y = _heading(
        chart_id,
        title if show_title else None,
        plot_left=plot_left,
        width=width,
        series=series if len(series) > 1 else (),
        marker_label=marker_label if any(m is not None for _l, _v, m in table) else None,
    )

    bar = 18 if n_series == 1 else 13
    bar_gap = 2
    group_gap = 10 if n_series == 1 else 14
    plot_top = y
    bars = []

    def x_of(value: Decimal | float | int) -> float:
        return plot_left + plot_width * min(max(float(value), 0.0), scale_max) / scale_max

    for (label, values, marker), lines in zip(table, wrapped, strict=True):
        block = n_series * bar + (n_series - 1) * bar_gap
        row_label, row_height, bars_top = _row(plot_left, y, lines, block)
        bars.append(row_label)
        marker_x = x_of(marker) if marker is not None else None
        labels = []
        for index in range(n_series):
            value = values[index] if index < len(values) else None
            top = bars_top + index * (bar + bar_gap)
            mid = top + bar / 2
            label_text = format_value(value, unit=unit, decimals=decimals)
            if value is None:
                bars.append(_text(plot_left + 4, mid + 4, label_text, size=SMALL_SIZE, fill=MUTED))
                continue
            end = x_of(value)
            bars.append(
                _el(
                    "rect",
                    _tooltip(label, series[index] if len(series) > 1 else None, label_text),
                    x=plot_left,
                    y=top,
                    width=max(end - plot_left, 0.0),
                    height=bar,
                    fill=_series_fill(chart_id, index),
                )
            )
            labels.append(
                _value_label(
                    end, mid, label_text, marker_x, solid=not index % 2, room=end - plot_left
                )
            )
        if marker_x is not None:
            bars.append(_marker(marker_x, bars_top + block / 2, block / 2 + 3))
        bars.extend(labels)  # over the marker, so that the marker never hides a figure
        y += row_height + group_gap
    ticks = [
        (x_of(tick), format_value(tick, unit=unit, decimals=0 if tick == int(tick) else 1))
        for tick in _ticks(scale_max)
    ]
    return _frame(
        chart_id,
        [_patterns(chart_id, n_series), *body],
        bars,
        ticks=ticks,
        plot=(plot_left, plot_width, plot_top, y - group_gap / 2),
        axis_label=axis_label,
        width=width,
        title=title,
        description=description,
        css_class=css_class,
    )


def bar_chart(
    *,
    title: str,
    rows: Sequence[tuple],
    description: str = "",
    marker_label: str | None = None,
    axis_label: str | None = None,
    sort: bool = True,
    width: int = 720,
    max_value: float | None = 100,
    unit: str = "%",
    decimals: int = 1,
    show_title: bool = False,
    label_width: int = 260,
    chart_id: str | None = None,
    css_class: str = "chart",
) -> SafeString:
    """Horizontal bars for one series.

    rows: `(label, value)` or `(label, value, marker)` tuples; `value` and `marker` are
        numbers (Decimal, float, int) or None (no data: drawn as "—").
    marker_label: legend text of the marker, e.g. "OECD published value"; the legend
        shows it only when at least one row has a marker.
    sort: largest value first, rows without data last; False keeps the given order.
    max_value: the end of the axis (100 for percentages); None picks a round number.
    unit, decimals: how values and ticks are printed (`42.0%`).
    show_title: also print `title` above the plot (the `<title>` element is always set).
    label_width: the most pixels given to category labels; longer labels wrap.
    chart_id: a unique id prefix on the page (one is derived from the content if omitted).
    """
    normalised = []
    for row in rows:
        label, value, *rest = row
        normalised.append((label, [value], rest[0] if rest else None))
    return _horizontal(
        title=title,
        rows=normalised,
        series=(),
        description=description,
        marker_label=marker_label,
        axis_label=axis_label,
        sort=sort,
        width=width,
        max_value=max_value,
        unit=unit,
        decimals=decimals,
        show_title=show_title,
        label_width=label_width,
        chart_id=chart_id,
        css_class=css_class,
        prefix="bar",
    )


def grouped_bar_chart(
    *,
    title: str,
    series: Sequence[str],
    rows: Sequence[tuple],
    description: str = "",
    marker_label: str | None = None,
    axis_label: str | None = None,
    sort: bool = True,
    width: int = 720,
    max_value: float | None = 100,
    unit: str = "%",
    decimals: int = 1,
    show_title: bool = False,
    label_width: int = 260,
    chart_id: str | None = None,
    css_class: str = "chart",
) -> SafeString:
    """Horizontal bars, one per series, grouped by category (e.g. embedded vs pilot).

    series: the series names, in the order their bars are drawn and listed in the legend.
    rows: `(label, [value per series])` or `(label, [values], marker)`; a missing or None
        value is drawn as "—". The marker (e.g. the survey's percent) spans the group.
    sort: by the first series, largest first. Other arguments as in `bar_chart`.
    """
    normalised = []
    for row in rows:
        label, values, *rest = row
        normalised.append((label, list(values), rest[0] if rest else None))
    return _horizontal(
        title=title,
        rows=normalised,
        series=[str(name) for name in series],
        description=description,
        marker_label=marker_label,
        axis_label=axis_label,
        sort=sort,
        width=width,
        max_value=max_value,
        unit=unit,
        decimals=decimals,
        show_title=show_title,
        label_width=label_width,
        chart_id=chart_id,
        css_class=css_class,
        prefix="grouped",
    )


def stacked_bar_chart(
    *,
    title: str,
    series: Sequence[str],
    rows: Sequence[tuple],
    description: str = "",
    axis_label: str | None = None,
    normalise: bool = True,
    sort: bool = False,
    width: int = 720,
    decimals: int = 0,
    show_title: bool = False,
    label_width: int = 220,
    chart_id: str | None = None,
    css_class: str = "chart",
) -> SafeString:
    """One bar per category split into shares (e.g. maturity stages per sector).

    series: the segment names, drawn left to right and listed in the legend.
    rows: `(label, [value per series])`; values are counts (or shares). With `normalise`
        each bar is scaled to 100 % of its total; a row whose total is 0 or None is
        drawn as "—". Segments wide enough carry their percentage; the total count is
        printed after the bar when `normalise` is on.
    sort: by the share of the first series, largest first.
    """
    series = [str(name) for name in series]
    prepared = []
    for label, values, *_rest in rows:
        values = [float(v) if v is not None else 0.0 for v in values]
        total = sum(values)
        if normalise:
            shares = [100 * v / total for v in values] if total else None
        else:
            shares = values if total else None
        prepared.append((str(label), shares, total))
    if sort:
        prepared.sort(key=lambda row: (row[1] is None, -(row[1][0] if row[1] else 0)))
    chart_id = chart_id or _chart_id("stacked", title, prepared)
    if not description:
        parts = []
        for label, shares, total in prepared:
            if shares is None:
                parts.append(f"{label}: {_('no data')}")
                continue
            split = ", ".join(
                f"{name} {format_value(share, decimals=decimals)}"
                for name, share in zip(series, shares, strict=False)
            )
            parts.append(f"{label} (n={total:.0f}): {split}" if normalise else f"{label}: {split}")
        description = "; ".join(parts) + "." if parts else _("No data.")

    wrapped, plot_left = _label_column([label for label, _s, _t in prepared], label_width)
    total_room = text_width("n=00000", SMALL_SIZE) + 12 if normalise else PAD
    plot_width = max(width - plot_left - total_room - PAD, 60)
    body, y = _heading(
        chart_id, title if show_title else None, plot_left=plot_left, width=width, series=series
    )
    plot_top = y
    bar = 20
    bars = []
    for (label, shares, total), lines in zip(prepared, wrapped, strict=True):
        row_label, row_height, top = _row(plot_left, y, lines, bar)
        bars.append(row_label)
        if shares is None:
            bars.append(
                _text(plot_left + 4, top + bar / 2 + 4, NO_DATA, size=SMALL_SIZE, fill=MUTED)
            )
        else:
            x = plot_left
            for index, share in enumerate(shares):
                segment = plot_width * share / 100
                if segment <= 0:
                    continue
                shown = format_value(share, decimals=decimals)
                bars.append(
                    _el(
                        "rect",
                        _tooltip(label, series[index] if index < len(series) else None, shown),
                        x=x,
                        y=top,
                        width=segment,
                        height=bar,
                        fill=_series_fill(chart_id, index),
                        stroke="#ffffff",
                        stroke_width=1,
                    )
                )
                if segment >= text_width(shown, SMALL_SIZE) + 6:
                    # Even series are dark and solid, odd ones light and hatched.
                    label_fill = INK if index % 2 else "#ffffff"
                    if index % 2:
                        # Hatched segments get a white backing so the number stays legible.
                        w = text_width(shown, SMALL_SIZE) + 4
                        bars.append(
                            _el(
                                "rect",
                                x=x + segment / 2 - w / 2,
                                y=top + bar / 2 - 7,
                                width=w,
                                height=14,
                                fill="#ffffff",
                                fill_opacity=0.85,
                            )
                        )
                    bars.append(
                        _text(
                            x + segment / 2,
                            top + bar / 2 + 4,
                            shown,
                            size=SMALL_SIZE,
                            fill=label_fill,
                            anchor="middle",
                        )
                    )
                x += segment
            if normalise:
                bars.append(
                    _text(
                        plot_left + plot_width + 6,
                        top + bar / 2 + 4,
                        f"n={total:.0f}",
                        size=SMALL_SIZE,
                        fill=MUTED,
                    )
                )
        y += row_height + 10
    return _frame(
        chart_id,
        [_patterns(chart_id, len(series)), *body],
        bars,
        ticks=[(plot_left + plot_width * tick / 100, f"{tick}%") for tick in (0, 25, 50, 75, 100)],
        plot=(plot_left, plot_width, plot_top, y - 5),
        axis_label=axis_label,
        width=width,
        title=title,
        description=description,
        css_class=css_class,
    )


def small_multiples(
    *,
    title: str,
    panels: Sequence[tuple],
    marker_label: str | None = None,
    sort: bool = False,
    width: int = 340,
    max_value: float | None = 100,
    unit: str = "%",
    decimals: int = 1,
    label_width: int = 120,
    css_class: str = "chart chart-small",
) -> SafeString:
    """One small bar chart per panel (per country, per sector, per item), on one scale.

    panels: `(panel_title, rows)` with rows as in `bar_chart`.
    Returns a `<div class="chart-multiples">` holding one `<svg>` per panel; the grid
    layout is in site.css. With `max_value=None` all panels share the largest scale.
    sort: False keeps the given order in every panel, so that panels compare row by row.
    """
    panels = [(str(name), list(rows)) for name, rows in panels]
    if max_value is None:
        max_value = _nice_max(
            [v for _n, rows in panels for row in rows for v in row[1:3] if v is not None]
        )
    figures = []
    for index, (panel_title, rows) in enumerate(panels):
        figures.append(
            bar_chart(
                title=panel_title,
                rows=rows,
                marker_label=marker_label,
                sort=sort,
                width=width,
                max_value=max_value,
                unit=unit,
                decimals=decimals,
                show_title=True,
                label_width=label_width,
                chart_id=_chart_id("panel", title, index, panel_title),
                css_class=css_class,
            )
        )
    return mark_safe(  # noqa: S308 - the panels are SafeStrings built above
        f'<div class="chart-multiples" role="group" aria-label="{escape(title)}">'
        + "".join(figures)
        + "</div>"
    )
