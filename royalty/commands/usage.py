"""`royalty usage` and `royalty referrals`: who fetched what, and who sent visitors back."""

from __future__ import annotations

from typing import Annotated

import typer

from ledger.usage import REFERRAL_FIELDS, USAGE_FIELDS, parse_fields
from ledger.usage import referrals as referral_table
from ledger.usage import usage as usage_table
from royalty.commands.common import FormatOpt, FromOpt, OutputOpt, PeriodOpt, ToOpt, open_ledger, period_of
from royalty.output import choose, emit


def usage(
    ctx: typer.Context,
    period: PeriodOpt = None,
    first: FromOpt = None,
    last: ToOpt = None,
    by: Annotated[str, typer.Option("--by", help=f"Group by, comma-separated: {', '.join(USAGE_FIELDS)}.")] = (
        "outlet,operator"
    ),
    all_bots: Annotated[
        bool, typer.Option("--all-bots", help="Include non-AI crawlers (search engines, SEO).")
    ] = False,
    include_undeclared: Annotated[
        bool, typer.Option("--include-undeclared", help="Include browser-like requests from AI operators' ranges.")
    ] = False,
    fmt: FormatOpt = None,
    output: OutputOpt = None,
) -> None:
    """AI fetches and distinct URLs, grouped by the fields you name (periods are UTC).

    Example: royalty usage --period 2026-10 --by outlet,operator,purpose --format csv
    """
    fields = parse_fields(by, USAGE_FIELDS)
    window = period_of(period, first, last)
    with open_ledger(ctx, must_exist=True) as ledger:
        table = usage_table(ledger, window, fields, ai_only=not all_bots, include_undeclared=include_undeclared)
    emit(table, choose(fmt, output), output, title=f"usage {window.label if window else 'all time'}")


def referrals(
    ctx: typer.Context,
    period: PeriodOpt = None,
    first: FromOpt = None,
    last: ToOpt = None,
    by: Annotated[str, typer.Option("--by", help=f"Group by, comma-separated: {', '.join(REFERRAL_FIELDS)}.")] = (
        "outlet,operator,product"
    ),
    fmt: FormatOpt = None,
    output: OutputOpt = None,
) -> None:
    """Visits referred by AI products (Referer host or utm_source), grouped (periods are UTC).

    Example: royalty referrals --period 2026-10 --by operator,product
    """
    fields = parse_fields(by, REFERRAL_FIELDS)
    window = period_of(period, first, last)
    with open_ledger(ctx, must_exist=True) as ledger:
        table = referral_table(ledger, window, fields)
    emit(table, choose(fmt, output), output, title=f"AI referrals {window.label if window else 'all time'}")
