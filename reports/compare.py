"""The scheme comparison: how each scheme of a file would spread the money over the outlets.

Sections, in order: Lorenz curves of every scheme, the metrics table (with what each scheme pays in
total), winners and losers between two chosen schemes (default: the first two of the file), payouts per
outlet, sensitivity charts from a sweep of one scheme's parameter (when asked), and the methodology (the
schemes' hashes and run ids, the ledger fingerprint, the definitions of the metrics).

Every number comes from ``ledger.compare.compare`` and ``ledger.sweep.sweep``; this module only chooses,
orders and lays out their tables. The two chosen schemes are settled first, so that their row of
``pairs`` and their ``deltas`` come out oriented from scheme A to scheme B.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal
from itertools import pairwise
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from ledger.compare import Comparison, compare
from ledger.errors import ConfigError
from ledger.period import Period
from ledger.schemes import SchemeFile
from ledger.settle import ledger_fingerprint
from ledger.store.db import Ledger
from ledger.sweep import Axis, SweepResult
from ledger.sweep import sweep as run_sweep
from reports import sections
from reports.charts import from_long
from reports.model import Chart, Definition, Figure, Note, Report, Section, Series, Table

DEFAULT_CURRENCY = "KZT"
NO_USAGE = "nodata.compare_usage"
TOP_MOVERS = 10  # outlets in each of the gains and losses charts
SWEEP_LINES = 8  # the best-paid outlets drawn in the sweep's amounts chart
SHARE_METRICS = ("gini", "cr1", "top5_share", "hhi_normalised", "dissimilarity")
METRIC_COLUMNS = (
    "scheme",
    "family",
    "total",
    "retained",
    "outlets",
    "outlets_paid",
    "gini",
    "hhi",
    "hhi_normalised",
    "top5_share",
    "cr1",
    "cr4",
    "cr10",
    "palma",
    "theil",
    "atkinson_0.5",
    "atkinson_1",
    "atkinson_2",
    "per_fetch",
    "per_fetch_cv",
    "dissimilarity",
)
PAIR_COLUMNS = (
    "scheme_a",
    "scheme_b",
    "outlets_gaining",
    "outlets_losing",
    "outlets_unchanged",
    "total_delta",
    "churn",
    "spearman",
    "kendall_tau_b",
)
MOVER_COLUMNS = ("outlet", "amount_a", "amount_b", "delta", "share_a", "share_b", "rank_a", "rank_b")
SWEEP_COLUMNS = (
    "parameter_value",
    "status",
    "total",
    "retained",
    "outlets_paid",
    *SHARE_METRICS[:3],
    "hhi",
    "per_fetch",
)
_SCHEMES_SCHEMA = pa.schema(
    [
        ("scheme", pa.string()),
        ("family", pa.string()),
        ("currency", pa.string()),
        ("run_id", pa.string()),
        ("scheme_hash", pa.string()),
        ("description", pa.string()),
    ]
)
_NO_SWEEP_POINTS = pa.schema(
    [
        ("point", pa.int64()),
        ("parameter", pa.string()),
        ("parameter_value", pa.decimal128(38, 0)),
        ("status", pa.string()),
    ]
)
_NO_SWEEP_PAYOUTS = pa.schema(
    [
        ("point", pa.int64()),
        ("parameter_value", pa.decimal128(38, 0)),
        ("outlet", pa.string()),
        ("amount", pa.decimal128(38, 4)),
        ("share", pa.float64()),
    ]
)
_DEFINED = (
    "gini",
    "hhi",
    "concentration",
    "palma",
    "theil",
    "atkinson",
    "per_fetch",
    "dissimilarity",
    "churn",
    "ranks",
    "winners",
    "sweep",
)


def build_compare(
    ledger: Ledger,
    period: Period,
    *,
    generated_at: datetime,
    schemes: SchemeFile,
    scheme_a: str | None = None,
    scheme_b: str | None = None,
    sweep: str | None = None,
    param: Axis | None = None,
    lorenz_points: int = 20,
) -> Report:
    """Settle every scheme of ``schemes`` over ``period`` (A and B first), sweep ``param`` of the scheme
    ``sweep`` when asked, and lay out the comparison (no language yet)."""
    a, b = choose_pair(schemes, scheme_a, scheme_b)
    if (sweep is None) != (param is None):
        raise ConfigError("--sweep NAME and --param PATH=START:STOP:STEP go together", key="--sweep")
    if sweep is not None:
        schemes.get(sweep)  # an unknown name fails before any settling
    order = [a, *([b] if b else []), *(n for n in schemes.schemes if n not in (a, b))]
    result = compare(ledger, schemes, period, names=order, lorenz_points=lorenz_points)
    swept = run_sweep(ledger, schemes, sweep, [param], period) if sweep and param else None
    tables = result.tables()
    usage = int(pc.sum(_first_scheme(tables["outlets"], a)["usage_fetches"]).as_py() or 0)
    currency = _currency(result)
    body = (
        lorenz_section(tables["lorenz"], tables["metrics"], usage > 0),
        metrics_section(tables["metrics"], usage > 0),
        winners_section(tables["pairs"], tables["deltas"], (a, b), usage > 0, _pair_currency(result, a, b)),
        payouts_section(tables["outlets"], tables["payouts"], order, usage > 0, currency),
        sensitivity_section(swept, param, usage > 0, currency),
        methodology_section(schemes, result, ledger_fingerprint(ledger), lorenz_points),
    )
    return Report(
        kind="compare",
        period=period,
        generated_at=generated_at,
        sections=body,
        figures=_figures(result, (a, b), usage),
        subject=Path(schemes.path).name,
        currency=result.settlements[0].currency if result.settlements else DEFAULT_CURRENCY,
        command=_command(schemes, period, (a, b), sweep, param),
    )


def choose_pair(schemes: SchemeFile, scheme_a: str | None, scheme_b: str | None) -> tuple[str, str | None]:
    """Scheme A and B: the ones named, else the first two of the file (B is None in a one-scheme file)."""
    names = list(schemes.schemes)
    a = schemes.get(scheme_a).name if scheme_a else names[0]
    b = schemes.get(scheme_b).name if scheme_b else next((n for n in names if n != a), None)
    if a == b:
        raise ConfigError(f"--scheme-a and --scheme-b both name '{a}'; choose two different schemes", key="--scheme-b")
    return a, b


def _first_scheme(outlets: pa.Table, scheme: str) -> pa.Table:
    if outlets.num_rows == 0:
        return pa.table({"usage_fetches": pa.array([], pa.int64())})
    return outlets.filter(pc.equal(outlets["scheme"], scheme))


def _currency(result: Comparison) -> str | None:
    """The schemes' one currency, or None when they pay in several (money is then not drawn side by side)."""
    currencies = {run.currency for run in result.settlements}
    return currencies.pop() if len(currencies) == 1 else None


def _pair_currency(result: Comparison, a: str, b: str | None) -> str | None:
    currencies = {run.currency for run in result.settlements if run.scheme in (a, b)}
    return currencies.pop() if len(currencies) == 1 else None


def lorenz_section(lorenz: pa.Table, metrics: pa.Table, has_usage: bool) -> Section:
    """One Lorenz curve per scheme that paid something, and the equality diagonal."""
    blocks = (Table("lorenz", "table.lorenz", lorenz, on_page=False),)
    if not has_usage:
        return Section("lorenz", blocks, empty=NO_USAGE)
    rows = lorenz.to_pylist()
    paid = [r["scheme"] for r in metrics.to_pylist() if r["total"]]
    xs = tuple(dict.fromkeys(r["population_share"] for r in rows))
    position = {x: i for i, x in enumerate(xs)}
    curves = {name: [0.0] * len(xs) for name in paid}
    for r in rows:
        if r["scheme"] in curves:
            curves[r["scheme"]][position[r["population_share"]]] = float(r["payout_share"])
    series = [Series(name, tuple(values)) for name, values in curves.items()]
    series.append(Series("equality", tuple(float(x) for x in xs)))
    chart = Chart(
        "line", "chart.lorenz", xs, tuple(series), value_kind="percent", percent=True, note="chart.lorenz_note"
    )
    unpaid = [r["scheme"] for r in metrics.to_pylist() if not r["total"]]
    notes = (Note("note.lorenz_unpaid", {"schemes": ", ".join(unpaid)}),) if unpaid else ()
    return Section("lorenz", (chart, *notes, *blocks))


def metrics_section(metrics: pa.Table, has_usage: bool) -> Section:
    """What each scheme pays in total (when they share a currency) and every distribution metric."""
    shown = tuple(c for c in METRIC_COLUMNS if c in metrics.column_names)
    table = Table("metrics", "table.metrics", metrics, shown)
    if not has_usage:
        return Section("metrics", (table,), empty=NO_USAGE)
    rows = metrics.to_pylist()
    currencies = sorted({r["currency"] for r in rows})
    blocks: list[Chart | Note | Table] = []
    if len(currencies) == 1:
        blocks.append(
            Chart(
                "bars",
                "chart.compare_totals",
                tuple(r["scheme"] for r in rows),
                (Series("total", tuple(float(r["total"]) for r in rows)),),
                value_kind="money",
                currency=currencies[0],
            )
        )
    else:
        blocks.append(Note("note.currencies", {"currencies": ", ".join(currencies)}))
    return Section("metrics", (*blocks, table))


def movers(deltas: pa.Table, a: str, b: str | None) -> pa.Table:
    """The outlets under A and under B, most gained first (ties by outlet), from ``deltas``."""
    if b is not None and deltas.num_rows:
        deltas = deltas.filter(pc.and_(pc.equal(deltas["scheme_a"], a), pc.equal(deltas["scheme_b"], b)))
    else:
        deltas = deltas.slice(0, 0)
    if deltas.num_rows == 0:
        return deltas.select([c for c in MOVER_COLUMNS if c in deltas.column_names])
    return deltas.select(list(MOVER_COLUMNS)).sort_by([("delta", "descending"), ("outlet", "ascending")])


def winners_section(
    pairs: pa.Table, deltas: pa.Table, pair: tuple[str, str | None], has_usage: bool, currency: str | None
) -> Section:
    """Winners and losers from A to B: the counts, the largest gains and losses, and every pair's summary."""
    a, b = pair
    view = movers(deltas, a, b)
    tables = (
        Table(
            "winners_losers",
            "table.winners_losers",
            view,
            ("outlet", "amount_a", "amount_b", "delta", "rank_a", "rank_b"),
        ),
        Table("pairs", "table.pairs", pairs, tuple(c for c in PAIR_COLUMNS if c in pairs.column_names)),
        Table("deltas", "table.deltas", deltas, on_page=False),
    )
    if b is None:
        return Section("winners", tables, empty="nodata.one_scheme", empty_values={"scheme": a})
    if not has_usage:
        return Section("winners", tables, empty=NO_USAGE)
    row = next(r for r in pairs.to_pylist() if (r["scheme_a"], r["scheme_b"]) == (a, b))
    values = {
        "a": a,
        "b": b,
        "gaining": row["outlets_gaining"],
        "losing": row["outlets_losing"],
        "unchanged": row["outlets_unchanged"],
        "churn_share": row["churn"],
    }
    blocks: list[Chart | Note | Table] = [Note("note.winners", values)]
    if currency is None:
        blocks.append(Note("note.pair_currencies", {"a": a, "b": b}))
    else:
        blocks.extend(_mover_charts(view.to_pylist(), currency))
    return Section("winners", (*blocks, *tables))


def _mover_charts(rows: Sequence[dict[str, Any]], currency: str) -> list[Chart]:
    gains = [r for r in rows if r["delta"] > 0][:TOP_MOVERS]
    losses = sorted((r for r in rows if r["delta"] < 0), key=lambda r: (r["delta"], r["outlet"]))[:TOP_MOVERS]
    charts = []
    for key, name, chosen in (("chart.gains", "gain", gains), ("chart.losses", "loss", losses)):
        if chosen:
            charts.append(
                Chart(
                    "bars",
                    key,
                    tuple(r["outlet"] for r in chosen),
                    (Series(name, tuple(abs(float(r["delta"])) for r in chosen)),),
                    value_kind="money",
                    currency=currency,
                )
            )
    return charts


def payouts_section(
    outlets: pa.Table, payouts: pa.Table, order: Sequence[str], has_usage: bool, currency: str | None
) -> Section:
    """Each outlet under each scheme, by rank and then scheme (the page's first rows show every scheme's best
    paid side by side), and the side-by-side payouts as a data file."""
    position = {name: i for i, name in enumerate(order)}
    rows = sorted(outlets.to_pylist(), key=lambda r: (r["rank"], position.get(r["scheme"], 0), r["outlet"]))
    ordered = pa.Table.from_pylist(rows, schema=outlets.schema)
    shown = ("scheme", "outlet", "amount", "share", "usage_fetches", "usage_share", "per_fetch", "rank")
    blocks = (
        Table(
            "outlets",
            "table.outlets",
            ordered,
            tuple(c for c in shown if c in ordered.column_names),
            max_rows=60,
            currency=currency,
        ),
        Table("payouts", "table.payouts", payouts, on_page=False),
    )
    if not has_usage:
        return Section("payouts", blocks, empty=NO_USAGE)
    return Section("payouts", blocks)


def sweep_tables(swept: SweepResult | None) -> tuple[pa.Table, pa.Table]:
    """The sweep's points with its axis as (parameter, value) columns, and its payouts with each point's
    value: the same columns whatever the parameter is called."""
    if swept is None:
        return _NO_SWEEP_POINTS.empty_table(), _NO_SWEEP_PAYOUTS.empty_table()
    path = swept.axes[0].path
    places = max(_places(v) for v in swept.axes[0].values)
    points = swept.points
    values = pa.array([Decimal(v) for v in points[path].to_pylist()], pa.decimal128(38, places))
    points = points.drop_columns([path])
    points = points.add_column(1, "parameter", pa.array([path] * points.num_rows, pa.string()))
    points = points.add_column(2, "parameter_value", values)
    by_point = dict(zip(points["point"].to_pylist(), values.to_pylist(), strict=True))
    payouts = swept.payouts
    point_values = pa.array([by_point[p] for p in payouts["point"].to_pylist()], pa.decimal128(38, places))
    return points, payouts.add_column(1, "parameter_value", point_values)


def _places(value: Decimal) -> int:
    exponent = value.as_tuple().exponent
    return max(-exponent, 0) if isinstance(exponent, int) else 0


def sensitivity_section(
    swept: SweepResult | None, param: Axis | None, has_usage: bool, currency: str | None
) -> Section:
    points, payouts = sweep_tables(swept)
    shown = tuple(c for c in SWEEP_COLUMNS if c in points.column_names)
    tables = (
        Table("sensitivity", "table.sensitivity", points, shown),
        Table("sensitivity_payouts", "table.sensitivity_payouts", payouts, on_page=False),
    )
    if swept is None or param is None:
        return Section("sensitivity", tables, empty="nodata.sweep")
    if not has_usage:
        return Section("sensitivity", tables, empty=NO_USAGE)
    rows = points.to_pylist()
    ok = [r for r in rows if r["status"] == "ok"]
    note = Note(
        "note.sweep",
        {"scheme": swept.scheme, "parameter": param.path, "points": len(rows), "settled": len(ok)},
    )
    blocks: list[Chart | Note | Table] = [note]
    if len(ok) < len(rows):
        blocks.append(Note("note.sweep_invalid", {"count": len(rows) - len(ok)}))
    if ok:
        blocks.extend(_sweep_charts(ok, payouts.to_pylist(), currency))
    return Section("sensitivity", (*blocks, *tables))


def _sweep_charts(ok: list[dict[str, Any]], payouts: list[dict[str, Any]], currency: str | None) -> list[Chart]:
    xs = tuple(r["parameter_value"] for r in ok)
    metrics = [
        Series(m, tuple(float(r[m]) for r in ok)) for m in SHARE_METRICS if all(r.get(m) is not None for r in ok)
    ]
    charts = [Chart("line", "chart.sensitivity_metrics", xs, tuple(metrics), value_kind="percent")] if metrics else []
    if currency is None:
        return charts
    totals = [Series("total", tuple(float(r["total"]) for r in ok))]
    if any(r["retained"] for r in ok):
        totals.append(Series("retained", tuple(float(r["retained"]) for r in ok)))
    outlets = len({r["outlet"] for r in payouts})  # no 'others' line: it would dwarf the outlets drawn
    by_outlet = from_long(payouts, "parameter_value", "outlet", "amount", xs, keep=outlets)[:SWEEP_LINES]
    return [
        *charts,
        Chart("line", "chart.sensitivity_totals", xs, tuple(totals), value_kind="money", currency=currency),
        Chart("line", "chart.sensitivity_amounts", xs, by_outlet, value_kind="money", currency=currency),
    ]


def methodology_section(schemes: SchemeFile, result: Comparison, fingerprint: str, lorenz_points: int) -> Section:
    rows = [
        {
            "scheme": run.scheme,
            "family": run.family,
            "currency": run.currency,
            "run_id": run.run_id,
            "scheme_hash": schemes.get(run.scheme).scheme_hash,
            "description": schemes.get(run.scheme).description,
        }
        for run in result.settlements
    ]
    definitions = [
        Definition("def.period.term", "def.period.text"),
        Definition("def.baseline.term", "def.baseline.text"),
        Definition("def.lorenz.term", "def.lorenz.text", {"points": lorenz_points}),
        *(Definition(f"def.{m}.term", f"def.{m}.text") for m in _DEFINED),
    ]
    return Section(
        "methodology",
        (
            Note("note.compare_file", {"path": schemes.path}),
            Note("note.fingerprint", {"fingerprint": fingerprint}),
            Table("schemes", "table.schemes", pa.Table.from_pylist(rows, schema=_SCHEMES_SCHEMA)),
            *definitions,
        ),
    )


def _figures(result: Comparison, pair: tuple[str, str | None], usage: int) -> tuple[Figure, ...]:
    a, b = pair
    row = next((r for r in result.pairs.to_pylist() if (r["scheme_a"], r["scheme_b"]) == (a, b)), None)
    if usage == 0:
        row = None
    return (
        Figure("figure.schemes_compared", len(result.settlements)),
        Figure("figure.outlets_compared", result.payouts.num_rows),
        Figure("figure.qualifying_fetches", usage),
        Figure("figure.churn", row["churn"] if row else None, "percent"),
        Figure("figure.outlets_gaining", row["outlets_gaining"] if row else None),
    )


def _command(
    schemes: SchemeFile, period: Period, pair: tuple[str, str | None], sweep: str | None, param: Axis | None
) -> str:
    a, b = pair
    command = f"royalty report compare --schemes {schemes.path} {sections.period_args(period)} --scheme-a {a}"
    if b is not None:
        command += f" --scheme-b {b}"
    if sweep is not None and param is not None:
        command += f" --sweep {sweep} --param {param.path}={_spec(param.values)}"
    return command


def _spec(values: Sequence[Decimal]) -> str:
    """The axis as START:STOP:STEP when its values are evenly spaced, else as V1,V2,..."""
    steps = {b - a for a, b in pairwise(values)}
    if len(values) > 2 and len(steps) == 1 and steps.pop() > 0:
        return f"{values[0]}:{values[-1]}:{values[1] - values[0]}"
    return ",".join(str(v) for v in values)
