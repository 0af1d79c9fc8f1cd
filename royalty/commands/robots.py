"""`royalty robots ...`: robots.txt violations by AI crawlers, and the robots.txt history behind them."""

from __future__ import annotations

import typer

from ledger.robots import snapshots, violations
from royalty.commands.common import FormatOpt, FromOpt, OutputOpt, PeriodOpt, ToOpt, open_ledger, period_of
from royalty.commands.crawl import OutletOpt
from royalty.output import choose, emit

app = typer.Typer(help="robots.txt: violations by AI crawlers and the stored snapshots.", no_args_is_help=True)


@app.command("violations")
def list_violations(
    ctx: typer.Context,
    period: PeriodOpt = None,
    first: FromOpt = None,
    last: ToOpt = None,
    fmt: FormatOpt = None,
    output: OutputOpt = None,
) -> None:
    """AI fetches that robots.txt disallowed at the time they were made, grouped by path and rule.

    Each fetch is judged against the robots.txt snapshot in force at its time (verdicts are brought up to
    date first). Columns: outlet, operator, bot, path, robots_group, directive, fetches, first_seen,
    last_seen.

    Example: royalty robots violations --period 2026-10
    """
    window = period_of(period, first, last)
    with open_ledger(ctx, must_exist=True) as ledger:
        table = violations(ledger, window)
    emit(table, choose(fmt, output), output, title=f"robots.txt violations {window.label if window else 'all time'}")


@app.command("show")
def show(ctx: typer.Context, outlet: OutletOpt = None, fmt: FormatOpt = None, output: OutputOpt = None) -> None:
    """The stored robots.txt snapshots with their Content-Usage, Content-Signal and License lines.

    Example: royalty robots show --outlet tengrinews
    """
    with open_ledger(ctx, must_exist=True) as ledger:
        table = snapshots(ledger, outlet)
    emit(table, choose(fmt, output), output, title="robots.txt snapshots")
