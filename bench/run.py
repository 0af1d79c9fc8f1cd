"""Ingest benchmark, side by side with GoAccess on the same file, in one run.

    python bench/run.py [--lines 5000000] [--out bench/out] [--doc docs/benchmarks.md]

1. Generates the seeded sample month (ledger.sample) with --lines lines and turns its files into one
   plain combined log (the vhost file's host column dropped), a gzip copy of it, the same requests as an AWS
   CloudFront standard log (tab-separated W3C, URL-encoded user agents and referers), and as nginx logs
   them behind a load balancer (combined_xff: an X-Forwarded-For chain on every line, browser builds
   varying by client), and its crawlers' lines alone (nearly every line a fetch row: the most the
   ledger writes, and the most memory).
2. Times, each in a fresh process under /usr/bin/time: `cat` and `zcat` of the input (the disk and
   decompression floors), GoAccess 1.7 producing its JSON report (the tool an outlet would otherwise
   use), and `royalty ingest` into a new DuckDB ledger, plain and gzip (parse + detect + verify + write);
   then GoAccess and `royalty ingest` on the CloudFront log, the load balancer's log and the crawlers'
   lines; then on a directory of 300 small gzip files (the log's first 600,000 lines: `zcat` of them
   all, GoAccess reading that from a pipe, and `royalty ingest DIR`, where each file is an upload of its
   own, with `--format combined` and without a format, as a regulator receiving logs runs it: each
   file's format sniffed).
3. Writes the figures to docs/benchmarks.md (the measured table between the BEGIN/END markers).

Timings are wall-clock seconds on whatever machine runs this. `cat`, `zcat` and `royalty ingest` run
--repeat times each (default 3, one after another) and the table gives the median with the range: on a
shared 2-core machine one run can be 5% off the next, more than most changes being measured. GoAccess,
over a minute a run and far from the others, runs once. Peak RSS is the largest maximum resident set size
GNU time reported over the runs.
"""

from __future__ import annotations

import argparse
import gzip
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import polars as pl

ROOT = Path(__file__).resolve().parents[1]
ROYALTY = str(Path(sys.executable).with_name("royalty"))


@dataclass(frozen=True)
class Measure:
    name: str
    command: str
    seconds: float  # the median of the runs
    peak_mb: float  # the largest of the runs
    input: str = "combined"
    runs: tuple[float, ...] = ()  # every run's seconds, in order

    @property
    def spread(self) -> str:
        """The range of the runs' seconds ("" for a single run)."""
        return f"{min(self.runs):.2f}-{max(self.runs):.2f}" if len(self.runs) > 1 else ""


@dataclass(frozen=True)
class Input:
    name: str
    path: Path
    lines: int
    size: int


REPEAT = 3  # runs of each quick step (--repeat)
MANY_FILES, MANY_LINES = 300, 2_000  # the many small files: how many (fewer for a short log), lines in each


def timed(
    name: str,
    argv: list[str],
    stdout: Path | None = None,
    input: str = "combined",
    repeat: int = 1,
    before: Callable[[], None] | None = None,
) -> Measure:
    """Run ``argv`` under GNU time ``repeat`` times (``before`` each run); the median wall seconds and the
    peak RSS."""
    runs = []
    for _ in range(repeat):
        if before is not None:
            before()
        runs.append(_run_once(name, argv, stdout))
    seconds = statistics.median(r[0] for r in runs)
    peak = max(r[1] for r in runs)
    if repeat > 1:
        print(f"  {name}: median {seconds:.2f} s of {', '.join(f'{r[0]:.2f}' for r in runs)}", flush=True)
    return Measure(name, " ".join(argv), seconds, peak, input, tuple(r[0] for r in runs))


def _run_once(name: str, argv: list[str], stdout: Path | None) -> tuple[float, float]:
    sink = stdout.open("wb") if stdout else subprocess.DEVNULL
    started = time.perf_counter()
    done = subprocess.run(["/usr/bin/time", "-f", "%e %M", *argv], stdout=sink, stderr=subprocess.PIPE, check=False)
    elapsed = time.perf_counter() - started
    if stdout:
        sink.close()  # type: ignore[union-attr]
    if done.returncode != 0:
        sys.exit(f"{name} failed ({done.returncode}):\n{done.stderr.decode(errors='replace')[-2000:]}")
    last = done.stderr.decode().strip().splitlines()[-1].split()
    print(f"  {name}: {elapsed:.2f} s, {int(last[1]) / 1024:.0f} MB", flush=True)
    return elapsed, int(last[1]) / 1024


def prepare(out: Path, lines: int) -> tuple[Path, Path, int]:
    """The seeded sample as one plain combined log (all its files, every line) and its gzip copy."""
    from ledger.sample import generate

    plain, packed = out / "bench-combined.log", out / "bench-combined.log.gz"
    marker = out / f".lines-{lines}-all-files"
    if plain.exists() and packed.exists() and marker.exists():
        return plain, packed, sum(1 for _ in plain.open("rb"))
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    print(f"generating {lines:,} lines ...", flush=True)
    sample = generate(out / "sample", lines=lines)
    parts = []
    for file in sample.files:
        opener = gzip.open if file.path.suffix == ".gz" else open
        with opener(file.path, "rb") as handle:
            text = pl.Series(handle.read().decode().splitlines())
        parts.append(text.str.replace(r"^\S+ ", "") if file.outlet is None else text)  # vhost column dropped
    combined = pl.concat(parts)
    plain.write_text("\n".join(combined.to_list()) + "\n")
    subprocess.run(["gzip", "-k", "-6", "-f", str(plain)], check=True)
    marker.touch()
    return plain, packed, combined.len()


def to_cloudfront(plain: Path, out: Path) -> Path:
    """The combined log's requests as a CloudFront standard log (the fields CloudFront writes, in its
    order; user agent and referer URL-encoded). Lines that do not read as combined are left out."""
    target = out / "bench-cloudfront.log"
    if target.exists() and target.stat().st_mtime >= plain.stat().st_mtime:
        return target
    frame = pl.read_csv(plain, has_header=False, separator="\t", quote_char=None, new_columns=["line"])
    pattern = r'^(\S+) \S+ \S+ \[([^\]]+)\] "(\S+) (\S+) \S+" (\d{3}) (\d+|-) "([^"]*)" "([^"]*)"$'
    fields = frame.select(pl.col("line").str.extract_groups(pattern).alias("f")).unnest("f")
    fields.columns = ["ip", "time", "method", "target", "status", "bytes", "referer", "agent"]
    fields = fields.with_columns(
        pl.col("time").str.to_datetime("%d/%b/%Y:%H:%M:%S %z", strict=False).dt.convert_time_zone("UTC").alias("ts")
    ).drop_nulls()
    encode = [(r"%", "%25"), (" ", "%20"), ('"', "%22"), ("\t", "%09")]

    def encoded(name: str) -> pl.Expr:
        value = pl.col(name)
        for char, code in encode:
            value = value.str.replace_all(char, code, literal=True)
        return value

    target_parts = pl.col("target").str.splitn("?", 2)
    rest = "-\tHit\tbench==\tbench.kz\thttps\t300\t0.010\t-\tTLSv1.3\tTLS_AES_128_GCM_SHA256\tHit\tHTTP/2.0\t-\t-\t443"
    rest += "\t0.010\tHit\ttext/html\t-\t-\t-"
    lines = fields.select(
        pl.concat_str(
            [
                pl.col("ts").dt.strftime("%Y-%m-%d\t%H:%M:%S"),
                pl.lit("FRA56-P1"),
                pl.col("bytes").str.replace("^-$", "0"),
                pl.col("ip"),
                pl.col("method"),
                pl.lit("d111111abcdef8.cloudfront.net"),
                target_parts.struct.field("field_0"),
                pl.col("status"),
                encoded("referer"),
                encoded("agent"),
                target_parts.struct.field("field_1").fill_null("-"),
                pl.lit(rest),
            ],
            separator="\t",
        )
    )
    lines.write_csv(target, include_header=False, quote_style="never")
    return target


def to_load_balancer(plain: Path, out: Path) -> Path:
    """The combined log's requests as an nginx behind a load balancer logs them (the `main` format,
    `combined_xff`): the address field is the balancer's private address and an X-Forwarded-For field
    carries the client and an inner proxy hop, on every line. The browsers' builds also vary by client, as
    in a real month (the sample has a few dozen user agents; this gives thousands)."""
    target = out / "bench-lb.log"
    if target.exists() and target.stat().st_mtime >= plain.stat().st_mtime:
        return target
    frame = pl.read_csv(plain, has_header=False, separator="\t", quote_char=None, new_columns=["line"])
    cut = pl.col("line").str.splitn(" ", 2)
    number = pl.int_range(pl.len())
    fields = frame.select(cut.struct.field("field_0").alias("client"), cut.struct.field("field_1").alias("rest"))
    octets = pl.col("client").str.extract_groups(r"(\d+)\.(\d+)$")
    low = [octets.struct.field(k).cast(pl.Int64, strict=False).fill_null(0) for k in ("1", "2")]
    build = (low[0] * 256 + low[1]) % 400 * 7 + 7000  # one build per client, 400 in all
    chrome = pl.format("Chrome/{}.0.{}.0", pl.col("rest").str.extract(r"Chrome/(\d+)\.0\.0\.0", 1), build)
    lines = fields.select(
        pl.concat_str(
            [
                pl.format("10.0.{}.{}", number % 4, number % 250 + 1),
                pl.col("rest").str.replace(r"Chrome/\d+\.0\.0\.0", chrome),
                pl.format('"{}, 10.1.0.{}"', pl.col("client"), number % 16 + 1),
            ],
            separator=" ",
        )
    ).drop_nulls()
    lines.write_csv(target, include_header=False, quote_style="never")
    return target


def to_bots(plain: Path, out: Path) -> Path:
    """The combined log's lines of crawlers alone (a user agent naming a bot, a crawler or a spider):
    nearly every line is a fetch the ledger writes row by row, the worst case for memory and for the
    writing thread (a log an outlet cut down to its bots before sending it)."""
    target = out / "bench-bots.log"
    if target.exists() and target.stat().st_mtime >= plain.stat().st_mtime:
        return target
    frame = pl.read_csv(plain, has_header=False, separator="\t", quote_char=None, new_columns=["line"])
    crawlers = frame.filter(pl.col("line").str.contains(r'"[^"]*(?i:bot|crawl|spider)[^"]*"$'))
    crawlers.write_csv(target, include_header=False, quote_style="never")
    return target


def to_many_files(plain: Path, out: Path, files: int = MANY_FILES, lines: int = MANY_LINES) -> Path:
    """The first ``files * lines`` lines of the combined log as ``files`` gzip files of ``lines`` each (a
    directory of rotated logs, as a regulator receives them from many outlets)."""
    target = out / "many"
    marker = target / f".{files}x{lines}"
    if marker.exists() and marker.stat().st_mtime >= plain.stat().st_mtime:
        return target
    shutil.rmtree(target, ignore_errors=True)
    target.mkdir()
    with plain.open("rb") as source:
        for k in range(files):
            chunk = b"".join(source.readline() for _ in range(lines))
            (target / f"access-{k:03d}.log.gz").write_bytes(gzip.compress(chunk, compresslevel=6, mtime=0))
    marker.touch()
    return target


def _many_input(directory: Path) -> Input:
    """The files' lines and decompressed bytes (what GoAccess and the ingest read)."""
    count = size = files = 0
    for path in sorted(directory.glob("*.gz")):
        content = gzip.decompress(path.read_bytes())
        count += content.count(b"\n")
        size += len(content)
        files += 1
    return Input(f"combined, {files} gzip files", directory, count, size)


def goaccess_version() -> str:
    found = shutil.which("goaccess")
    if not found:
        sys.exit("GoAccess is not installed: `apt-get install goaccess` (make bench does it)")
    first = subprocess.run([found, "--version"], capture_output=True, text=True).stdout.splitlines()[0]
    return first.strip()


def _counted(name: str, path: Path) -> Input:
    return Input(name, path, sum(1 for _ in path.open("rb")), path.stat().st_size)


def goaccess(name: str, source: Path, report: Path, input: str, *log_format: str) -> Measure:
    """GoAccess building its JSON report of ``source`` read with ``log_format``."""
    return timed(name, ["goaccess", str(source), *log_format, "--no-progress", "-o", str(report)], input=input)


def ingest(
    name: str, source: Path, out: Path, fmt: str = "combined", repeat: int = REPEAT, input: str | None = None
) -> Measure:
    """``royalty ingest`` of ``source`` (a file or a directory), each run into a new ledger with the bench
    outlet."""
    db = out / f"{name}.duckdb"

    def new_ledger() -> None:
        for stale in (db, Path(f"{db}.wal")):
            stale.unlink(missing_ok=True)
        setup = [ROYALTY, "--db", str(db), "outlets", "add", "bench", "--name", "Bench", "--domain", "bench.kz"]
        subprocess.run(setup, check=True, capture_output=True)

    argv = [ROYALTY, "--db", str(db), "ingest", str(source), "--outlet", "bench", "--format", fmt]
    return timed(name, argv, input=input or fmt, repeat=repeat, before=new_ledger)


def run(lines: int, out: Path, repeat: int = REPEAT) -> tuple[list[Measure], dict[str, Input], str]:
    plain, packed, count = prepare(out, lines)
    cloudfront = to_cloudfront(plain, out)
    balanced = to_load_balancer(plain, out)
    bots = to_bots(plain, out)
    version = goaccess_version()
    many = to_many_files(plain, out, files=max(1, min(MANY_FILES, count // MANY_LINES)))
    files, report, split = sorted(many.glob("*.gz")), out / "goaccess-many.json", _many_input(many)
    inputs = {
        "combined": Input("combined", plain, count, plain.stat().st_size),
        "cloudfront": _counted("cloudfront", cloudfront),
        "combined_xff": _counted("combined_xff", balanced),
        "bots": _counted("combined, crawlers only", bots),
        "many": split,
    }
    for item in inputs.values():
        print(f"input {item.name}: {item.lines:,} lines, {item.size / 1e6:.0f} MB", flush=True)
    print(f"  (combined gzip: {packed.stat().st_size / 1e6:.0f} MB)", flush=True)
    measures = [
        timed("cat (plain)", ["cat", str(plain)], repeat=repeat),
        timed("zcat (gzip)", ["zcat", str(packed)], repeat=repeat),
        goaccess("GoAccess JSON report (plain)", plain, out / "goaccess.json", "combined", "--log-format=COMBINED"),
        ingest("royalty ingest (plain)", plain, out, repeat=repeat),
        ingest("royalty ingest (gzip)", packed, out, repeat=repeat),
        goaccess("GoAccess JSON report", cloudfront, out / "goaccess-cf.json", "cloudfront", "--log-format=CLOUDFRONT"),
        ingest("royalty ingest", cloudfront, out, fmt="cloudfront", repeat=repeat),
        goaccess(
            "GoAccess JSON report",
            balanced,
            out / "goaccess-lb.json",
            "combined_xff",
            '--log-format=%^ %^ %^ [%d:%t %^] "%r" %s %b "%R" "%u" ~h{," }',  # the client from the chain (~h)
            "--date-format=%d/%b/%Y",
            "--time-format=%T",
        ),
        ingest("royalty ingest (behind a load balancer)", balanced, out, fmt="combined_xff", repeat=repeat),
        goaccess("GoAccess JSON report", bots, out / "goaccess-bots.json", "bots", "--log-format=COMBINED"),
        ingest("royalty ingest (crawlers only)", bots, out, repeat=repeat, input="bots"),
        timed("zcat (every file)", ["zcat", *map(str, files)], input="many", repeat=repeat),
        timed(
            "GoAccess JSON report (zcat into it)",
            ["sh", "-c", f'zcat "{many}"/*.gz | goaccess - --log-format=COMBINED --no-progress -o "{report}"'],
            input="many",
        ),
        ingest("royalty ingest (the directory)", many, out, repeat=repeat, input="many"),
        # what a regulator receiving logs runs: no --format, each file's format sniffed on its first lines
        ingest("royalty ingest (the directory, formats sniffed)", many, out, fmt="auto", repeat=repeat, input="many"),
    ]
    return measures, inputs, version


def render(measures: list[Measure], inputs: dict[str, Input], version: str, repeat: int = REPEAT) -> str:
    rows = [
        "| input | step | seconds | range | lines/s | MB/s | peak RSS | speed vs GoAccess |",
        "|---|---|---:|---:|---:|---:|---:|---:|",
    ]
    for m in measures:
        item = inputs[m.input]
        goaccess = next(g for g in measures if g.name.startswith("GoAccess") and g.input == m.input)
        rows.append(
            f"| {item.name} | {m.name} | {m.seconds:.2f} | {m.spread} | {item.lines / m.seconds:,.0f} | "
            f"{item.size / 1e6 / m.seconds:,.0f} | {m.peak_mb:,.0f} MB | {goaccess.seconds / m.seconds:.1f}x |"
        )
    combined, cloudfront, balanced = inputs["combined"], inputs["cloudfront"], inputs["combined_xff"]
    many, bots = inputs["many"], inputs["bots"]
    return "\n".join(
        [
            f"Measured {time.strftime('%Y-%m-%d', time.gmtime())} on {_cpu()}, {os.cpu_count()} cores, "
            f"Python {platform.python_version()}, {version}; inputs: the seeded sample as a combined log "
            f"({combined.lines:,} lines, {combined.size / 1e6:,.0f} MB), the same requests as a CloudFront "
            f"log ({cloudfront.lines:,} lines, {cloudfront.size / 1e6:,.0f} MB) and as nginx logs them behind "
            f"a load balancer (`combined_xff`, an X-Forwarded-For chain on every line, a few thousand "
            f"browser builds; {balanced.lines:,} lines, {balanced.size / 1e6:,.0f} MB), its crawlers' lines "
            f"alone (a user agent naming a bot, crawler or spider: nearly every line a fetch row; "
            f"{bots.lines:,} lines, {bots.size / 1e6:,.0f} MB), and its first "
            f"{many.lines:,} lines as a directory of gzip files of {MANY_LINES:,} lines ({many.name}; "
            f"{many.size / 1e6:,.0f} MB decompressed; each file is its own upload). "
            + (
                f"Seconds are the median of {repeat} runs (range: the fastest and slowest), GoAccess one run."
                if repeat > 1
                else "One run each."
            ),
            "",
            *rows,
        ]
    )


def _cpu() -> str:
    try:
        text = Path("/proc/cpuinfo").read_text()
    except OSError:
        return platform.machine()
    match = re.search(r"model name\s*:\s*(.+)", text)
    return match.group(1).strip() if match else platform.machine()


def write_doc(doc: Path, table: str) -> None:
    text = doc.read_text()
    begin, end = "<!-- BEGIN MEASURED -->", "<!-- END MEASURED -->"
    head, rest = text.split(begin, 1)
    _, tail = rest.split(end, 1)
    doc.write_text(f"{head}{begin}\n{table}\n{end}{tail}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--lines", type=int, default=5_000_000)
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "out")
    parser.add_argument("--doc", type=Path, default=ROOT / "docs" / "benchmarks.md")
    parser.add_argument("--repeat", type=int, default=REPEAT, help="runs of cat, zcat and each ingest (median)")
    args = parser.parse_args()
    if args.repeat < 1:
        parser.error("--repeat must be at least 1")
    measures, inputs, version = run(args.lines, args.out, args.repeat)
    table = render(measures, inputs, version, args.repeat)
    print()
    print(table)
    write_doc(args.doc, table)
    print(f"\nwrote {args.doc}")


if __name__ == "__main__":
    main()
