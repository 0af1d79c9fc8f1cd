"""`royalty report ...`: the pages people read (HTML with charts) and the same tables as data files."""

from __future__ import annotations

import sys
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer

from ledger.errors import ConfigError
from ledger.period import END, FIRST, HELD, Period
from royalty.commands.common import FromOpt, PeriodOpt, ToOpt, open_ledger, period_of
from royalty.output import err

app = typer.Typer(
    help="Reports people read: one self-contained HTML page (charts, tables; works offline and prints), "
    "plus every table as CSV, JSON, Parquet and XLSX with --data-dir.",
    no_args_is_help=True,
)


class Lang(StrEnum):
    en = "en"
    ru = "ru"
    kk = "kk"


LangOpt = Annotated[Lang, typer.Option("--lang", help="Language of the page: en, ru or kk.")]
PageOpt = Annotated[
    Path | None, typer.Option("--output", "-o", help="Write the HTML page here (default: stdout, unless --data-dir).")
]
DataDirOpt = Annotated[
    Path | None,
    typer.Option("--data-dir", file_okay=False, help="Also write every table as CSV, JSON, Parquet and one XLSX here."),
]
GeneratedOpt = Annotated[
    str | None,
    typer.Option(
        "--generated-at", help="Pin the generation time (ISO 8601, e.g. 2026-11-01T06:00:00Z) for reproducible files."
    ),
]


def _period(period: str | None, first: str | None, last: str | None) -> Period:
    chosen = period_of(period, first, last)
    if chosen is None:
        raise ConfigError("a report needs a period: give --period YYYY-MM or --from/--to", key="--period")
    return chosen


def _clock(text: str | None) -> datetime:
    if text is None:
        return datetime.now(UTC)
    try:
        value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise ConfigError(
            f"'{text}' is not an ISO 8601 time such as 2026-11-01T06:00:00Z", key="--generated-at"
        ) from None
    if value.tzinfo is None:
        raise ConfigError(f"'{text}' has no time zone; end it with Z for UTC", key="--generated-at")
    try:
        utc = value.astimezone(UTC)
    except OverflowError:  # year 1 ahead of UTC, or 9999 behind it
        utc = None
    if utc is None or not FIRST <= utc < END:
        raise ConfigError(
            f"'{text}' is outside the times a ledger holds ({HELD}, UTC)",
            key="--generated-at",
        )
    return utc


def _publish(ctx: typer.Context, kind: str, window: Period, clock: datetime, **options: Any) -> None:
    """Render one report and say where it went (the page on stdout when no -o)."""
    from reports.publish import publish  # the rendering modules load only when a report is made

    with open_ledger(ctx, must_exist=True) as ledger:
        result = publish(ledger, kind, window, generated_at=clock, **options)
    if result.html is None and result.page is not None:
        sys.stdout.write(result.page)
    elif result.html is not None:
        err.print(f"wrote {result.html}")
    if result.data:
        err.print(f"wrote {len(result.data)} data files to {result.data[0].parent}")


@app.command("regulator")
def regulator(
    ctx: typer.Context,
    period: PeriodOpt = None,
    first: FromOpt = None,
    last: ToOpt = None,
    output: PageOpt = None,
    lang: LangOpt = Lang.en,
    data_dir: DataDirOpt = None,
    generated_at: GeneratedOpt = None,
) -> None:
    """The regulator's market report: coverage, AI fetches over time, top outlets, verification, robots.txt,
    crawl-to-refer ratios, undeclared traffic and the methodology.

    Example: royalty report regulator --period 2026-10 -o report.html --lang ru --data-dir report-data
    """
    window = _period(period, first, last)
    clock = _clock(generated_at)
    _publish(ctx, "regulator", window, clock, lang=lang.value, output=output, data_dir=data_dir)


@app.command("outlet")
def outlet(
    ctx: typer.Context,
    slug: Annotated[str, typer.Argument(help="The outlet's slug.")],
    period: PeriodOpt = None,
    first: FromOpt = None,
    last: ToOpt = None,
    schemes: Annotated[
        Path | None,
        typer.Option("--schemes", exists=True, dir_okay=False, help="Show what each scheme of this file would pay."),
    ] = None,
    output: PageOpt = None,
    lang: LangOpt = Lang.en,
    data_dir: DataDirOpt = None,
    generated_at: GeneratedOpt = None,
) -> None:
    """An outlet's statement: its usage by operator, bot and purpose, top articles, referrals back, robots.txt
    verdicts, and (with --schemes) what each scheme would pay it, from fetches to amounts.

    Example: royalty report outlet tengrinews --period 2026-10 --schemes schemes.toml -o tengrinews.html
    """
    window = _period(period, first, last)
    clock = _clock(generated_at)
    from ledger.schemes import load_schemes

    scheme_file = load_schemes(schemes) if schemes else None
    _publish(
        ctx,
        "outlet",
        window,
        clock,
        lang=lang.value,
        output=output,
        data_dir=data_dir,
        outlet=slug,
        schemes=scheme_file,
    )


@app.command("compare")
def compare(
    ctx: typer.Context,
    schemes: Annotated[
        Path, typer.Option("--schemes", exists=True, dir_okay=False, help="The schemes TOML file to compare.")
    ],
    period: PeriodOpt = None,
    first: FromOpt = None,
    last: ToOpt = None,
    scheme_a: Annotated[
        str | None, typer.Option("--scheme-a", help="Winners and losers from this scheme (default: the first).")
    ] = None,
    scheme_b: Annotated[
        str | None, typer.Option("--scheme-b", help="... to this one (default: the next scheme of the file).")
    ] = None,
    sweep: Annotated[
        str | None, typer.Option("--sweep", help="Sensitivity charts: settle this scheme at every value of --param.")
    ] = None,
    param: Annotated[
        str | None, typer.Option("--param", help="The swept parameter: PATH=START:STOP:STEP or PATH=V1,V2,...")
    ] = None,
    output: PageOpt = None,
    lang: LangOpt = Lang.en,
    data_dir: DataDirOpt = None,
    generated_at: GeneratedOpt = None,
) -> None:
    """The scheme comparison: Lorenz curves, distribution metrics, winners and losers between two schemes,
    payouts per outlet and (with --sweep and --param) sensitivity charts. Each scheme's run is stored.

    Example: royalty report compare --schemes schemes.toml --period 2026-10 --sweep pool --param admin_fee=0:0.2:0.05
    """
    window = _period(period, first, last)
    clock = _clock(generated_at)
    from ledger.sweep import Axis

    axis = Axis.parse(param) if param else None
    from ledger.schemes import load_schemes

    scheme_file = load_schemes(schemes)
    _publish(
        ctx,
        "compare",
        window,
        clock,
        lang=lang.value,
        output=output,
        data_dir=data_dir,
        schemes=scheme_file,
        scheme_a=scheme_a,
        scheme_b=scheme_b,
        sweep=sweep,
        param=axis,
    )
