"""A report before it is drawn: sections of charts, tables, figures and notes, in no language yet.

A report module (``reports/regulator.py``, ``reports/outlet.py``, later a scheme comparison) reads the
ledger's insights and returns a ``Report``. The same object renders to HTML in any language
(``reports.html.render``) and writes its tables as data files (``reports.export.write_data``), so the
page and the files always carry the same numbers. Message keys refer to reports/locales/<lang>.toml.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pyarrow as pa

from ledger.period import Period

CHART_KINDS = ("area", "line", "columns", "bars", "stacked", "donut", "heatmap")
VALUE_KINDS = ("integer", "percent", "ratio", "money")


@dataclass(frozen=True)
class Series:
    name: str  # a vocabulary term (translated) or a proper name (shown as is)
    values: tuple[float, ...]


@dataclass(frozen=True)
class Chart:
    """One chart. ``x`` holds dates (time charts, heatmap columns) or category names (bars, donut slices).

    area/line/columns: x = dates, one value per date in each series (area stacks them).
    bars/stacked: x = categories (one bar each); stacked draws the series end to end (``percent``: 100%).
    donut: x = slice names, one series. heatmap: x = dates, one series per row (values 0 = no data).
    """

    kind: str
    title: str  # message key
    x: tuple[Any, ...]
    series: tuple[Series, ...]
    value_kind: str = "integer"
    percent: bool = False
    currency: str | None = None
    note: str | None = None  # message key shown under the chart

    def __post_init__(self) -> None:
        if self.kind not in CHART_KINDS:
            raise ValueError(f"chart kind {self.kind!r} is not one of {CHART_KINDS}")
        if self.value_kind not in VALUE_KINDS:
            raise ValueError(f"value kind {self.value_kind!r} is not one of {VALUE_KINDS}")
        for s in self.series:
            if len(s.values) != len(self.x):
                raise ValueError(f"series {s.name!r} has {len(s.values)} values for {len(self.x)} x values")

    @property
    def empty(self) -> bool:
        return not self.x or not any(v for s in self.series for v in s.values)


@dataclass(frozen=True)
class Table:
    """A data table: written whole as data files under ``name``; the page shows up to ``max_rows`` rows."""

    name: str  # file stem, unique within the report: [a-z0-9_]+
    title: str  # message key
    data: pa.Table
    columns: tuple[str, ...] = ()  # shown on the page, in order (default: all)
    max_rows: int = 50
    currency: str | None = None  # for money columns
    on_page: bool = True  # False: a data file only (e.g. the long form behind a chart)

    @property
    def shown(self) -> tuple[str, ...]:
        return self.columns or tuple(self.data.column_names)


@dataclass(frozen=True)
class Figure:
    """A key figure in the summary: a label key and a value with its kind."""

    label: str
    value: int | Decimal | None
    kind: str = "integer"  # integer | percent | ratio | money
    currency: str | None = None


@dataclass(frozen=True)
class Note:
    """A paragraph: a message key and its values (already language-neutral: numbers, dates, names)."""

    key: str
    values: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Definition:
    """A term and its definition (both message keys), for the methodology section."""

    term: str
    text: str
    values: dict[str, Any] = field(default_factory=dict)


Block = Chart | Table | Note | Figure | Definition


@dataclass(frozen=True)
class Section:
    """``key`` names the section (its id and messages 'section.<key>.title' / '.lead'); ``empty`` is the
    message key of the "no data" text shown instead of the blocks when there is nothing to show."""

    key: str
    blocks: tuple[Block, ...] = ()
    empty: str | None = None
    empty_values: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Report:
    kind: str  # regulator | outlet | ... : the message prefix of its title ('report.<kind>.title')
    period: Period
    generated_at: datetime  # injected by the caller, never read from a clock here
    sections: tuple[Section, ...]
    figures: tuple[Figure, ...] = ()
    subject: str = ""  # e.g. the outlet's name
    currency: str = "KZT"
    command: str = ""  # the command line that reproduces the report

    @property
    def first_day(self) -> date:
        return self.period.start.date()

    @property
    def last_day(self) -> date:
        return (self.period.end - timedelta(days=1)).date()

    def tables(self) -> Iterator[Table]:
        for section in self.sections:
            for block in section.blocks:
                if isinstance(block, Table):
                    yield block

    def charts(self) -> Iterator[Chart]:
        for section in self.sections:
            if section.empty is None:
                yield from (b for b in section.blocks if isinstance(b, Chart) and not b.empty)
