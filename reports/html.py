"""A Report as one self-contained HTML page: inline CSS and SVG, no script, no font, image or link that
needs the network; a phone-width layout; a print stylesheet with a page break before every section.

Any report module's ``Report`` renders here; nothing in this file knows which report it draws.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

import pyarrow as pa
from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape
from markupsafe import Markup, escape

from reports import charts
from reports.i18n import Locale
from reports.model import Chart, Definition, Figure, Note, Report, Section, Table

TERM_COLUMNS = frozenset(
    {"purpose", "attribution", "bot", "outlet", "verification", "verdict", "reason", "scheme_family"}
)
PERCENT_SUFFIXES = ("_share", "_rate", "share")
MONEY_COLUMNS = frozenset({"amount", "total", "retained", "pool", "price", "value"})


def _environment() -> Environment:
    env = Environment(
        loader=PackageLoader("reports", "templates"),
        autoescape=select_autoescape(["html", "j2"]),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    return env


def render(report: Report, lang: str) -> str:
    """The report as an HTML document in ``lang`` (en, ru or kk)."""
    loc = Locale(lang)
    env = _environment()
    template = env.get_template("report.html.j2")
    return template.render(
        lang=lang,
        t=loc.t,
        title=loc.t(f"report.{report.kind}.title", subject=report.subject),
        period=loc.period(report.first_day, report.last_day),
        generated=loc.datetime(report.generated_at),
        figures=[_figure(f, loc) for f in report.figures],
        sections=[_section(s, loc) for s in report.sections],
        command=report.command,
        css=Markup(env.loader.get_source(env, "report.css")[0]),  # type: ignore[union-attr]
    )


def _section(section: Section, loc: Locale) -> dict[str, Any]:
    lead_key = f"section.{section.key}.lead"
    blocks: list[Markup] = []
    if section.empty is None:
        blocks = [_block(block, loc) for block in section.blocks]
        blocks = [b for b in blocks if b]
    return {
        "key": section.key,
        "title": loc.t(f"section.{section.key}.title"),
        "lead": loc.t(lead_key) if loc.has(lead_key) else "",
        "empty": loc.t(section.empty, **_values(section.empty_values, loc)) if section.empty else "",
        "blocks": blocks,
    }


def _block(block: object, loc: Locale) -> Markup:
    if isinstance(block, Chart):
        return Markup("") if block.empty else charts.render(block, loc)
    if isinstance(block, Table):
        return table_html(block, loc) if block.on_page else Markup("")
    if isinstance(block, Note):
        return Markup(f'<p class="note">{escape(loc.t(block.key, **_values(block.values, loc)))}</p>')
    if isinstance(block, Definition):
        text = loc.t(block.text, **_values(block.values, loc))
        return Markup(f"<dl class='definition'><dt>{escape(loc.t(block.term))}</dt><dd>{escape(text)}</dd></dl>")
    if isinstance(block, Figure):
        figure = _figure(block, loc)
        return Markup(f'<p class="figure-inline">{escape(figure["label"])}: <b>{escape(figure["value"])}</b></p>')
    raise TypeError(f"cannot render a {type(block).__name__}")


def _values(values: dict[str, Any], loc: Locale) -> dict[str, str]:
    """Note values formatted for the locale: ints grouped, dates in the locale's form, terms translated."""
    out = {}
    for key, value in values.items():
        if isinstance(value, bool) or value is None:
            out[key] = str(value)
        elif isinstance(value, int):
            out[key] = loc.integer(value)
        elif isinstance(value, Decimal):
            out[key] = loc.percent(value) if key.endswith(PERCENT_SUFFIXES) else loc.decimal(value)
        elif isinstance(value, datetime):
            out[key] = loc.datetime(value)
        elif isinstance(value, date):
            out[key] = loc.date(value)
        else:
            out[key] = loc.term(value)
    return out


def _figure(figure: Figure, loc: Locale) -> dict[str, str]:
    value = figure.value
    if value is None:
        text = "—"
    elif figure.kind == "percent":
        text = loc.percent(Decimal(value))
    elif figure.kind == "ratio":
        text = loc.decimal(Decimal(value), 1)
    elif figure.kind == "money" and figure.currency:
        text = loc.money(Decimal(value), figure.currency)
    else:
        text = loc.integer(value)
    return {"label": loc.t(figure.label), "value": text}


def cell_text(value: Any, column: str, kind: pa.DataType, loc: Locale, currency: str | None) -> str:
    """One table cell as the page shows it."""
    if value is None:
        return "—"
    if isinstance(value, bool):
        return loc.t("term.yes") if value else loc.t("term.no")
    if isinstance(value, int):
        return loc.integer(value)
    if isinstance(value, Decimal | float):
        amount = Decimal(str(value))
        if column.endswith(PERCENT_SUFFIXES):
            return loc.percent(amount)
        if column in MONEY_COLUMNS and currency:
            return loc.money(amount, currency)
        places = min(getattr(kind, "scale", 2), 2)
        return loc.decimal(amount, places)
    if isinstance(value, datetime):
        return loc.datetime(value)
    if isinstance(value, date):
        return loc.date(value)
    return loc.term(value) if column in TERM_COLUMNS else str(value)


def table_html(table: Table, loc: Locale) -> Markup:
    data = table.data
    columns = table.shown
    types = {f.name: f.type for f in data.schema}
    numeric = {c for c in columns if pa.types.is_integer(types[c]) or pa.types.is_decimal(types[c])}
    head = "".join(
        f'<th scope="col"{" class=num" if c in numeric else ""}>{escape(loc.t(f"col.{c}"))}</th>' for c in columns
    )
    rows = data.slice(0, table.max_rows).to_pylist()
    body = []
    for row in rows:
        cells = []
        for c in columns:
            text = cell_text(row[c], c, types[c], loc, table.currency or _row_currency(row))
            cells.append(f"<td{' class=num' if c in numeric else ''}>{escape(text)}</td>")
        body.append("<tr>" + "".join(cells) + "</tr>")
    more = ""
    if data.num_rows > table.max_rows:
        text = loc.t("table.more", shown=loc.integer(table.max_rows), total=loc.integer(data.num_rows), file=table.name)
        more = f'<p class="more">{escape(text)}</p>'
    if data.num_rows == 0:
        more = f'<p class="more">{escape(loc.t("table.empty"))}</p>'
    return Markup(
        f'<div class="table" data-table="{escape(table.name)}"><h3>{escape(loc.t(table.title))}</h3>'
        f'<div class="scroll"><table><thead><tr>{head}</tr></thead><tbody>{"".join(body)}</tbody></table></div>'
        f"{more}</div>"
    )


def _row_currency(row: dict[str, Any]) -> str | None:
    currency = row.get("currency")
    return currency if isinstance(currency, str) else None
