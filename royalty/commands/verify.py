"""`royalty verify --rdns`: a second opinion on crawler claims by forward-confirmed reverse DNS."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

import typer

from ledger.errors import ConfigError
from royalty.commands.common import FormatOpt, FromOpt, OutputOpt, PeriodOpt, ToOpt, open_ledger, period_of
from royalty.output import choose, emit, err


def verify(
    ctx: typer.Context,
    rdns: Annotated[bool, typer.Option("--rdns", help="Forward-confirmed reverse DNS (FCrDNS).")] = False,
    period: PeriodOpt = None,
    first: FromOpt = None,
    last: ToOpt = None,
    max_age: Annotated[
        int, typer.Option("--max-age", min=0, max=36500, help="Days a cached DNS answer stays valid (up to 100 years).")
    ] = 7,
    fmt: FormatOpt = None,
    output: OutputOpt = None,
) -> None:
    """Check the claims IP lists could not settle (unverifiable or spoofed) of bots whose operators document
    reverse DNS (Googlebot, bingbot, Applebot, Amazonbot, YandexBot, ...). The ingest verdicts stay as
    they are; rows: operator, bot, ingest_verdict, rdns_verdict, fetches, addresses.

    Example: royalty verify --rdns --period 2026-10
    """
    if not rdns:
        raise ConfigError("name the check to run; the one there is: --rdns", key="verify")
    window = period_of(period, first, last)
    with open_ledger(ctx, must_exist=True) as ledger:
        from ledger.rdns import verify_rdns

        run = verify_rdns(ledger, window, max_age=timedelta(days=max_age))
    emit(run.summary, choose(fmt, output), output, title=f"rDNS {window.label if window else 'all time'}")
    changes = run.changes()
    err.print(
        f"checked {run.fetches} claims from {run.addresses} addresses ({run.resolved} looked up, the rest cached);"
        f" unverifiable claims now verified: {changes.get(('unverifiable', 'verified'), 0)},"
        f" spoofed: {changes.get(('unverifiable', 'spoofed'), 0)};"
        f" claims the IP lists called spoofed that rDNS verified: {changes.get(('spoofed', 'verified'), 0)}"
    )
