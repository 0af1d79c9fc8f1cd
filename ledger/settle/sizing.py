"""F5 pool sizing: how much there is to share, in total and per paying operator, as exact fractions.

``fixed`` is an amount per settled period (or per year, prorated by days), optionally CPI-indexed.
``levy``, ``revenue_tariff``, ``nash`` and ``payments`` read the operators' figures imported into the
ledger (``royalty operators import``). A figure row covers a month or a year; each row is computed as a
whole (a levy's threshold applies to the row's own revenue) and then prorated by the days it shares with
the settled period. Month rows of an operator take precedence over its year rows. ``implied_by_tariff``
is the total a per_fetch scheme would charge each operator over the same usage. The admin fee comes off
each operator's amount.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from fractions import Fraction

from ledger.errors import ConfigError
from ledger.money import show
from ledger.operators import OperatorFigures
from ledger.period import Period
from ledger.schemes import Scheme, Sizing


@dataclass(frozen=True)
class PoolSize:
    gross: Fraction  # before the admin fee
    net: Fraction  # after it
    operators: dict[str, Fraction] | None  # net amount per paying operator; None: a pool not tied to operators
    lines: tuple[str, ...] = field(default=())  # how it was computed, with the numbers


def size_pool(
    scheme: Scheme,
    period: Period,
    figures: list[OperatorFigures],
    tariff_totals: Callable[[Scheme], dict[str, Fraction]],
) -> PoolSize:
    sizing = scheme.sizing
    assert sizing is not None
    fee = Fraction(sizing.admin_fee)
    if sizing.method == "fixed":
        gross, lines = _fixed(sizing, period)
        return PoolSize(gross, gross * (1 - fee), None, (*lines, _fee_line(sizing, gross)))
    if sizing.method == "implied_by_tariff":
        assert sizing.tariff is not None
        per_operator = tariff_totals(sizing.tariff)
        lines = [f"{op}: per_fetch '{sizing.tariff.name}' total {show(c)}" for op, c in sorted(per_operator.items())]
    else:
        per_operator, lines = _from_figures(scheme, sizing, period, figures)
    gross = sum(per_operator.values(), Fraction(0))
    net = {op: c * (1 - fee) for op, c in per_operator.items()}
    return PoolSize(gross, gross * (1 - fee), net, (*lines, f"P = {show(gross)}", _fee_line(sizing, gross)))


def _fee_line(sizing: Sizing, gross: Fraction) -> str:
    fee = Fraction(sizing.admin_fee)
    return f"P_net = (1 - {sizing.admin_fee}) x P = {show(gross * (1 - fee))}"


def _fixed(sizing: Sizing, period: Period) -> tuple[Fraction, list[str]]:
    assert sizing.pool is not None
    pool = Fraction(sizing.pool)
    lines = [f"pool {sizing.pool} per {sizing.pool_per}"]
    if sizing.cpi is not None and sizing.cpi_base is not None:
        pool = pool * Fraction(sizing.cpi) / Fraction(sizing.cpi_base)
        lines.append(f"CPI-indexed: x {sizing.cpi} / {sizing.cpi_base} = {show(pool)}")
    if sizing.pool_per == "year":
        share = sum((overlap(period, *_year(y)) for y in range(period.start.year, period.end.year + 1)), Fraction(0))
        pool *= share
        lines.append(f"prorated to the period by days: x {share} = {show(pool)}")
    return pool, lines


def _year(year: int) -> tuple[datetime, datetime]:
    return datetime(year, 1, 1, tzinfo=UTC), datetime(year + 1, 1, 1, tzinfo=UTC)


def overlap(period: Period, start: datetime, end: datetime) -> Fraction:
    """The fraction of [start, end) that falls inside the period."""
    shared = (min(period.end, end) - max(period.start, start)).total_seconds()
    return Fraction(int(max(shared, 0)), int((end - start).total_seconds()))


def rows_in_force(period: Period, figures: list[OperatorFigures]) -> dict[str, list[tuple[OperatorFigures, Fraction]]]:
    """Per operator, the figure rows overlapping the period with the overlapping fraction of each; an
    operator's month rows win over its year rows."""
    chosen: dict[str, list[tuple[OperatorFigures, Fraction]]] = {}
    for months in (True, False):
        monthly = set(chosen)
        for row in figures:
            if (len(row.period) == 7) != months or row.operator in monthly:
                continue
            share = overlap(period, *row.start_end())
            if share > 0:
                chosen.setdefault(row.operator, []).append((row, share))
    return chosen


def _from_figures(
    scheme: Scheme, sizing: Sizing, period: Period, figures: list[OperatorFigures]
) -> tuple[dict[str, Fraction], list[str]]:
    chosen = rows_in_force(period, figures)
    if not chosen:
        raise ConfigError(
            f"scheme '{scheme.name}' (sizing = '{sizing.method}') needs operators' figures for {period.label}, and "
            "the ledger has none; import them with 'royalty operators import FILE' (see docs/schemes.md)"
        )
    wrong = sorted({r.operator for rows in chosen.values() for r, _ in rows if r.currency != scheme.currency})
    if wrong:
        raise ConfigError(
            f"scheme '{scheme.name}' is in {scheme.currency} but the figures of {', '.join(wrong)} are not; "
            "convert them before importing (no exchange rates are applied)"
        )
    amounts: dict[str, Fraction] = {}
    lines: list[str] = []
    missing: list[str] = []
    for operator in sorted(chosen):
        total = Fraction(0)
        for row, share in chosen[operator]:
            value, line = _row_amount(sizing, row)
            if value is None:
                missing.append(f"{operator} ({row.period}: {line})")
                continue
            total += value * share
            lines.append(
                f"{operator} {row.period}: {line}" + (f"; x {share} of the row in the period" if share != 1 else "")
            )
        amounts[operator] = total
    if missing:
        raise ConfigError(
            f"scheme '{scheme.name}' (sizing = '{sizing.method}') is missing figures for: {'; '.join(missing)}; "
            "add them to the operators file and import it again"
        )
    return amounts, lines


def _row_amount(sizing: Sizing, row: OperatorFigures) -> tuple[Fraction | None, str]:
    method = sizing.method
    if method == "levy":
        if row.revenue is None:
            return None, "no revenue"
        assert sizing.levy_rate is not None
        deals = row.deals or 0
        if row.revenue < sizing.levy_threshold:
            return Fraction(0), f"revenue {row.revenue} below the threshold {sizing.levy_threshold}: 0"
        value = max(
            Fraction(0),
            Fraction(sizing.levy_rate) * Fraction(row.revenue) - Fraction(sizing.offset_ratio) * Fraction(deals),
        )
        text = f"max(0, {sizing.levy_rate} x {row.revenue} - {sizing.offset_ratio} x deals {deals}) = {show(value)}"
        return value, text
    if method == "revenue_tariff":
        share = row.repertoire_share if row.repertoire_share is not None else sizing.repertoire_share
        if row.revenue is None or share is None:
            return None, "no revenue" if row.revenue is None else "no repertoire_share (in the file or the scheme)"
        assert sizing.tariff_rate is not None
        value = Fraction(sizing.tariff_rate) * Fraction(row.revenue) * Fraction(share)
        return value, f"{sizing.tariff_rate} x {row.revenue} x repertoire share {share} = {show(value)}"
    if method == "nash":
        if row.value_of_news is None:
            return None, "no value_of_news"
        assert sizing.beta is not None
        value = Fraction(sizing.beta) * Fraction(row.value_of_news)
        return value, f"beta {sizing.beta} x value of news {row.value_of_news} = {show(value)}"
    if row.payment is None:
        return None, "no payment"
    return Fraction(row.payment), f"payment {row.payment}"
