"""Charts as inline SVG: no script, no font or file from elsewhere, readable on a phone and on paper.

``render(chart, loc)`` returns a ``<figure>`` with the SVG, an HTML legend (it wraps on narrow screens)
and a caption. Texts are translated and numbers formatted by the ``Locale``; the drawing is plain
geometry on a fixed viewBox that the page scales to its width. Colours come from the Okabe-Ito palette
(distinguishable with the common colour-vision deficiencies); verdicts and purposes keep fixed colours.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from datetime import date
from decimal import Decimal

from markupsafe import Markup, escape

from reports.i18n import Locale
from reports.model import Chart, Series

WIDTH = 560
LEFT, RIGHT, TOP, BOTTOM = 58, 14, 12, 30
PALETTE = ("#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#8C6D31", "#F0E442", "#000000", "#999999")
FIXED = {
    "verified": "#009E73",
    "spoofed": "#D55E00",
    "unverifiable": "#999999",
    "unknown": "#C8C8C8",
    "allowed": "#009E73",
    "disallowed": "#D55E00",
    "no_snapshot": "#999999",
    "unchecked": "#C8C8C8",
    "training": "#0072B2",
    "search": "#E69F00",
    "user": "#CC79A7",
    "others": "#999999",
    "equality": "#7A7A7A",
    "gain": "#009E73",
    "loss": "#D55E00",
}


def colours(names: Sequence[str]) -> list[str]:
    """A colour per series: the fixed one for vocabulary terms, else the palette in order."""
    free = iter(c for c in PALETTE * (len(names) // len(PALETTE) + 1) if c not in {FIXED.get(n) for n in names})
    return [FIXED.get(name) or next(free) for name in names]


def render(chart: Chart, loc: Locale) -> Markup:
    """The chart as a <figure>: title, SVG, legend, note."""
    draw = _DRAWERS[chart.kind]
    title = loc.t(chart.title)
    svg = draw(chart, loc, title)
    legend = _legend(chart, loc) if chart.kind not in ("bars", "columns", "heatmap") else Markup("")
    note = Markup(f'<figcaption class="note">{escape(loc.t(chart.note))}</figcaption>') if chart.note else ""
    return Markup(
        f'<figure class="chart chart-{chart.kind}"><figcaption>{escape(title)}</figcaption>{svg}{legend}{note}</figure>'
    )


def value_text(value: float | int | Decimal, chart: Chart, loc: Locale, *, axis: bool = False) -> str:
    if chart.value_kind == "percent" or chart.percent:
        return loc.percent(Decimal(str(value)), 0 if axis else 1)
    if chart.value_kind == "ratio":
        return loc.decimal(Decimal(str(round(float(value), 1))), 1)
    if chart.value_kind == "money" and chart.currency:
        return loc.compact(value) if axis else loc.money(Decimal(str(value)), chart.currency)
    return loc.compact(value) if axis else loc.integer(round(float(value)))


def nice_ticks(top: float, count: int = 4) -> list[float]:
    """Round tick values from 0 to at least ``top``: 0, 250, 500, 750, 1000."""
    if top <= 0:
        return [0.0, 1.0]
    raw = top / count
    magnitude = 10 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw)
    return [i * step for i in range(math.ceil(top / step - 1e-9) + 1)]


def _svg(height: float, title: str, body: str) -> Markup:
    return Markup(
        f'<svg class="chart-svg" viewBox="0 0 {WIDTH} {height:.0f}" role="img" '
        f'preserveAspectRatio="xMidYMid meet" xmlns="http://www.w3.org/2000/svg">'
        f"<title>{escape(title)}</title>{body}</svg>"
    )


def _legend(chart: Chart, loc: Locale) -> Markup:
    names = list(chart.x) if chart.kind == "donut" else [s.name for s in chart.series]
    items = "".join(
        f'<li><span class="swatch" style="background:{colour}"></span>{escape(loc.term(name))}</li>'
        for name, colour in zip(names, colours(names), strict=True)
    )
    return Markup(f'<ul class="legend">{items}</ul>')


def _y_axis(ticks: list[float], scale: Callable[[float], float], chart: Chart, loc: Locale, plot_right: float) -> str:
    parts = []
    for tick in ticks:
        y = scale(tick)
        parts.append(f'<line class="grid" x1="{LEFT}" x2="{plot_right}" y1="{y:.1f}" y2="{y:.1f}"/>')
        parts.append(
            f'<text class="tick" x="{LEFT - 6}" y="{y + 4:.1f}" text-anchor="end">'
            f"{escape(value_text(tick, chart, loc, axis=True))}</text>"
        )
    return "".join(parts)


def _x_labels(days: Sequence[date], xs: Sequence[float], baseline: float, loc: Locale, every: int) -> str:
    parts = []
    for i, (day, x) in enumerate(zip(days, xs, strict=True)):
        if i % every == 0 or (i == len(days) - 1 and (len(days) - 1) % every > every // 2):
            parts.append(
                f'<text class="tick" x="{x:.1f}" y="{baseline + 18:.1f}" text-anchor="middle">'
                f"{escape(loc.day_month(day))}</text>"
            )
    return "".join(parts)


def _time(chart: Chart, loc: Locale, title: str) -> Markup:
    """area (stacked), line, or columns over dates."""
    height = 240
    plot_right, baseline = WIDTH - RIGHT, height - BOTTOM
    n = len(chart.x)
    stacked = chart.kind in ("area", "columns")
    totals = [sum(s.values[i] for s in chart.series) for i in range(n)] if stacked else []
    top = max(totals) if stacked else max((max(s.values) for s in chart.series), default=0)
    ticks = nice_ticks(float(top))

    def y_of(v: float) -> float:
        return baseline - (baseline - TOP) * v / ticks[-1]

    slot = (plot_right - LEFT) / max(n, 1)
    xs = [LEFT + slot * (i + 0.5) for i in range(n)]
    body = [_y_axis(ticks, y_of, chart, loc, plot_right)]
    below = [0.0] * n
    for series, colour in zip(chart.series, colours([s.name for s in chart.series]), strict=True):
        label = escape(loc.term(series.name))
        if chart.kind == "columns" or n == 1:
            width = max(slot * 0.7, 1.0)
            for i, v in enumerate(series.values):
                if v:
                    y0, y1 = y_of(below[i]), y_of(below[i] + v)
                    body.append(
                        f'<rect x="{xs[i] - width / 2:.1f}" y="{y1:.1f}" width="{width:.1f}" '
                        f'height="{max(y0 - y1, 0.5):.1f}" fill="{colour}"><title>{label}: '
                        f"{escape(value_text(v, chart, loc))}</title></rect>"
                    )
        elif chart.kind == "area":
            upper = [(x, y_of(below[i] + series.values[i])) for i, x in enumerate(xs)]
            lower = [(x, y_of(below[i])) for i, x in reversed(list(enumerate(xs)))]
            points = " ".join(f"{x:.1f},{y:.1f}" for x, y in upper + lower)
            body.append(
                f'<polygon points="{points}" fill="{colour}" fill-opacity="0.85"><title>{label}</title></polygon>'
            )
        else:
            points = " ".join(f"{x:.1f},{y_of(v):.1f}" for x, v in zip(xs, series.values, strict=True))
            body.append(
                f'<polyline points="{points}" fill="none" stroke="{colour}" stroke-width="2.2">'
                f"<title>{label}</title></polyline>"
            )
        if stacked:
            below = [b + v for b, v in zip(below, series.values, strict=True)]
    body.append(f'<line class="axis" x1="{LEFT}" x2="{plot_right}" y1="{baseline}" y2="{baseline}"/>')
    body.append(_x_labels(chart.x, xs, baseline, loc, max(1, math.ceil(n / 6))))
    return _svg(height, title, "".join(body))


def _label(text: str, limit: int = 24) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _bars(chart: Chart, loc: Locale, title: str) -> Markup:
    """Horizontal bars, one per category; ``stacked`` draws the series end to end."""
    row, label_w = 24, 170
    height = TOP + row * len(chart.x) + 8
    right = WIDTH - RIGHT - 70
    names = [s.name for s in chart.series]
    totals = [sum(s.values[i] for s in chart.series) for i in range(len(chart.x))]
    top = 1.0 if chart.percent else (max(totals) or 1)
    body = []
    for i, category in enumerate(chart.x):
        y = TOP + i * row
        body.append(
            f'<text class="label" x="{label_w - 6}" y="{y + row * 0.62:.1f}" text-anchor="end">'
            f"<title>{escape(loc.term(category))}</title>{escape(_label(loc.term(category)))}</text>"
        )
        start = float(label_w)
        for series, colour in zip(chart.series, colours(names), strict=True):
            v = float(series.values[i])
            share = v / totals[i] if chart.percent and totals[i] else v / top
            width = (right - label_w) * share
            if width > 0:
                body.append(
                    f'<rect x="{start:.1f}" y="{y + 3}" width="{max(width, 0.8):.1f}" height="{row - 7}" '
                    f'fill="{colour}"><title>{escape(loc.term(series.name))}: {escape(value_text(v, chart, loc))}'
                    f"</title></rect>"
                )
            start += width
        shown = value_text(totals[i], chart, loc) if not chart.percent else ""
        if chart.percent and chart.series:
            shown = loc.percent(Decimal(str(chart.series[0].values[i] / totals[i])) if totals[i] else Decimal(0), 0)
        body.append(f'<text class="value" x="{start + 4:.1f}" y="{y + row * 0.62:.1f}">{escape(shown)}</text>')
    body.append(f'<line class="axis" x1="{label_w}" x2="{label_w}" y1="{TOP}" y2="{height - 8}"/>')
    return _svg(height, title, "".join(body))


def _donut(chart: Chart, loc: Locale, title: str) -> Markup:
    height, cx, cy, r, hole = 220, WIDTH / 2, 110, 96, 56
    values = [float(v) for v in chart.series[0].values]
    total = sum(values) or 1.0
    body, angle = [], -math.pi / 2
    for name, value, colour in zip(chart.x, values, colours(list(chart.x)), strict=True):
        if value <= 0:
            continue
        sweep = 2 * math.pi * value / total
        text = f"{loc.term(name)}: {value_text(value, chart, loc)} ({loc.percent(Decimal(str(value / total)))})"
        if sweep >= 2 * math.pi - 1e-9:
            body.append(
                f'<circle cx="{cx}" cy="{cy}" r="{(r + hole) / 2}" fill="none" stroke="{colour}" '
                f'stroke-width="{r - hole}"><title>{escape(text)}</title></circle>'
            )
            break
        end = angle + sweep
        large = 1 if sweep > math.pi else 0
        p = [
            (cx + rad * math.cos(a), cy + rad * math.sin(a))
            for rad, a in ((r, angle), (r, end), (hole, end), (hole, angle))
        ]
        path = (
            f"M{p[0][0]:.2f},{p[0][1]:.2f} A{r},{r} 0 {large} 1 {p[1][0]:.2f},{p[1][1]:.2f} "
            f"L{p[2][0]:.2f},{p[2][1]:.2f} A{hole},{hole} 0 {large} 0 {p[3][0]:.2f},{p[3][1]:.2f} Z"
        )
        body.append(f'<path d="{path}" fill="{colour}"><title>{escape(text)}</title></path>')
        angle = end
    body.append(
        f'<text class="total" x="{cx}" y="{cy + 6}" text-anchor="middle">{escape(value_text(total, chart, loc))}</text>'
    )
    return _svg(height, title, "".join(body))


def _heatmap(chart: Chart, loc: Locale, title: str) -> Markup:
    """Rows = series (outlets), columns = dates; empty cells (0) are drawn as gaps."""
    row, label_w = 16, 150
    n = len(chart.x)
    height = TOP + row * len(chart.series) + BOTTOM
    cell = (WIDTH - RIGHT - label_w) / max(n, 1)
    peak = max((max(s.values) for s in chart.series), default=1) or 1
    body = []
    for r, series in enumerate(chart.series):
        y = TOP + r * row
        body.append(
            f'<text class="label" x="{label_w - 6}" y="{y + row * 0.75:.1f}" text-anchor="end">'
            f"{escape(_label(series.name, 22))}</text>"
        )
        for c, value in enumerate(series.values):
            x = label_w + c * cell
            day = loc.date(chart.x[c])
            if value:
                shade = 0.35 + 0.65 * math.log1p(value) / math.log1p(peak)
                fill, text = f'fill="#0072B2" fill-opacity="{shade:.2f}"', f"{day}: {loc.integer(int(value))}"
            else:
                fill, text = 'class="gap"', f"{day}: {loc.t('chart.no_lines')}"
            body.append(
                f'<rect x="{x + 0.5:.1f}" y="{y + 1}" width="{max(cell - 1, 0.5):.1f}" height="{row - 2}" {fill}>'
                f"<title>{escape(series.name)}, {escape(text)}</title></rect>"
            )
    xs = [label_w + cell * (i + 0.5) for i in range(n)]
    body.append(_x_labels(chart.x, xs, height - BOTTOM, loc, max(1, math.ceil(n / 6))))
    return _svg(height, title, "".join(body))


def _is_number(value: object) -> bool:
    return isinstance(value, int | float | Decimal) and not isinstance(value, bool)


def _line(chart: Chart, loc: Locale, title: str) -> Markup:
    """line: over dates (``_time``), or over numbers (``_curves``) when every x is a number."""
    if chart.x and all(_is_number(x) for x in chart.x):
        return _curves(chart, loc, title)
    return _time(chart, loc, title)


def _y_ticks(chart: Chart) -> list[float]:
    """Shares: 0 to 100%. Otherwise round ticks from the lowest value (or 0) to the highest (or 0)."""
    if chart.percent:
        return [0.0, 0.25, 0.5, 0.75, 1.0]
    values = [float(v) for s in chart.series for v in s.values] or [0.0]
    low, high = min(min(values), 0.0), max(max(values), 0.0)
    base = nice_ticks(max(high, -low))
    step = base[1] - base[0]
    first, last = math.floor(low / step + 1e-9), math.ceil(high / step - 1e-9)
    return [i * step for i in range(first, max(last, first + 1) + 1)]


def _x_ticks(chart: Chart, loc: Locale) -> list[tuple[float, str]]:
    """Shares: 0, 25, ... 100%. Values: at the data's own x values (about six of them), in their precision."""
    if chart.percent:
        return [(t, loc.percent(Decimal(str(t)), 0)) for t in (0.0, 0.25, 0.5, 0.75, 1.0)]
    exact = [Decimal(str(x)) for x in chart.x]
    places = min(4, max(_places(d) for d in exact))
    every = max(1, math.ceil(len(exact) / 6))
    chosen = [i for i in range(len(exact)) if i % every == 0 or i == len(exact) - 1]
    return [(float(exact[i]), loc.decimal(exact[i], places)) for i in chosen]


def _places(value: Decimal) -> int:
    exponent = value.normalize().as_tuple().exponent
    return max(-exponent, 0) if isinstance(exponent, int) else 0


def _curves(chart: Chart, loc: Locale, title: str) -> Markup:
    """Lines over a numeric x axis, one per series, with a dot at each point (Lorenz curves, a sweep).

    ``percent``: both axes are shares from 0 to 1, drawn on a squarer plot. Otherwise x runs from the
    lowest to the highest x value and y covers every value and 0. A series named 'equality' (the diagonal
    of a Lorenz chart) is drawn dashed, without dots.
    """
    height = 320 if chart.percent else 240
    plot_right, baseline = WIDTH - RIGHT, height - BOTTOM
    xs = [float(x) for x in chart.x]
    low, high = (0.0, 1.0) if chart.percent else (min(xs), max(xs))
    ticks = _y_ticks(chart)

    def x_of(v: float) -> float:
        return LEFT + (plot_right - LEFT) * ((v - low) / (high - low) if high > low else 0.5)

    def y_of(v: float) -> float:
        return baseline - (baseline - TOP) * (v - ticks[0]) / (ticks[-1] - ticks[0])

    body = [_y_axis(ticks, y_of, chart, loc, plot_right)]
    for x, text in _x_ticks(chart, loc):
        anchor = "end" if x_of(x) > plot_right - 12 else "middle"  # the last label stays inside the picture
        body.append(
            f'<text class="tick" x="{x_of(x):.1f}" y="{baseline + 18:.1f}" text-anchor="{anchor}">{escape(text)}</text>'
        )
    body.append(f'<line class="axis" x1="{LEFT}" x2="{plot_right}" y1="{y_of(0):.1f}" y2="{y_of(0):.1f}"/>')
    x_texts = [loc.percent(Decimal(str(x)), 1) if chart.percent else loc.decimal(Decimal(str(x)), 4) for x in xs]
    for series, colour in zip(chart.series, colours([s.name for s in chart.series]), strict=True):
        label = escape(loc.term(series.name))
        points = [(x_of(x), y_of(float(v))) for x, v in zip(xs, series.values, strict=True)]
        dashed = ' stroke-dasharray="6 4"' if series.name == "equality" else ""
        path = " ".join(f"{x:.1f},{y:.1f}" for x, y in points)
        body.append(
            f'<polyline points="{path}" fill="none" stroke="{colour}" stroke-width="2.2"{dashed}>'
            f"<title>{label}</title></polyline>"
        )
        if series.name != "equality" and len(points) <= 60:
            for (x, y), x_text, v in zip(points, x_texts, series.values, strict=True):
                body.append(
                    f'<circle cx="{x:.1f}" cy="{y:.1f}" r="2.6" fill="{colour}"><title>{label}: {escape(x_text)} '
                    f"→ {escape(value_text(v, chart, loc))}</title></circle>"
                )
    return _svg(height, title, "".join(body))


def from_long(
    rows: Sequence[dict[str, object]],
    x_key: str,
    series_key: str,
    value_key: str,
    xs: Sequence[object],
    keep: int = 8,
    others: str = "others",
) -> tuple[Series, ...]:
    """Long rows -> one Series per ``series_key`` value over ``xs``; beyond the ``keep`` largest, one 'others'."""
    position = {x: i for i, x in enumerate(xs)}
    sums: dict[str, list[float]] = {}
    for r in rows:
        values = sums.setdefault(str(r[series_key]), [0.0] * len(xs))
        if r[x_key] in position:
            values[position[r[x_key]]] += float(r[value_key])  # type: ignore[arg-type]
    ranked = sorted(sums, key=lambda name: (-sum(sums[name]), name))
    kept = ranked if len(ranked) <= keep else ranked[: keep - 1]
    series = [Series(name, tuple(sums[name])) for name in kept]
    rest = [name for name in ranked if name not in kept]
    if rest:
        series.append(Series(others, tuple(sum(sums[n][i] for n in rest) for i in range(len(xs)))))
    return tuple(series)


_DRAWERS: dict[str, Callable[[Chart, Locale, str], Markup]] = {
    "area": _time,
    "line": _line,
    "columns": _time,
    "bars": _bars,
    "stacked": _bars,
    "donut": _donut,
    "heatmap": _heatmap,
}
