"""``generate``: the whole sample run, from the world to the files, ``outlets.csv`` and ``truth.json``."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ledger.detect.iplists import IpLists, load_ip_lists
from ledger.detect.referrals import Referrers, load_referrers
from ledger.detect.registry import Registry, load_registry
from ledger.errors import ConfigError
from ledger.outlets import Outlet
from ledger.sample.outlets import CRAWL, OWN_FILES, SAMPLE_OUTLETS, TRAFFIC, write_outlets_csv
from ledger.sample.truth import GroundTruth, Month, Tally, ground_truth
from ledger.sample.world import World, build_world, normalised
from ledger.sample.writer import FileSpec, FileWriter, write_file

VHOST_FILE = "access-vhost.log.gz"


@dataclass(frozen=True)
class SampleFile:
    """One generated log file, how to ingest it, and what ingest finds in it."""

    path: Path
    outlet: str | None  # the --outlet to ingest it with; None for the shared vhost log
    format: str
    lines: int
    parsed: int = 0
    rejected: int = 0


@dataclass(frozen=True)
class Sample:
    """What ``generate`` wrote: the files, the outlets they belong to and the ground truth over all of them."""

    files: tuple[SampleFile, ...]
    outlets: tuple[Outlet, ...]
    truth: GroundTruth


def generate(
    directory: Path,
    *,
    lines: int = 1_000_000,
    seed: int = 20261001,
    month: str = "2026-10",
    registry: Registry | None = None,
    ip_lists: IpLists | None = None,
    referrers: Referrers | None = None,
) -> Sample:
    """Write the sample logs, ``outlets.csv`` and ``truth.json`` into ``directory``; same seed, same bytes."""
    if lines < 1000:
        raise ConfigError(f"lines must be at least 1000, got {lines}", key="lines", value=lines)
    period = Month.parse(month)
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    seeds = np.random.SeedSequence(seed).spawn(2 + 1 + len(OWN_FILES))
    world = build_world(
        registry or load_registry(),
        ip_lists or load_ip_lists(),
        referrers or load_referrers(),
        np.random.default_rng(seeds[0]),
    )
    tally = Tally(len(world.bots), len(world.attributed_pool), len(world.products), period.days)
    files = []
    for spec, child in zip(_split(world, lines, np.random.default_rng(seeds[1])), seeds[2:], strict=True):
        before = (tally.parsed, tally.rejected)
        writer = FileWriter(world, spec, period, np.random.default_rng(child))
        path = directory / spec.name
        write_file(path, writer.chunks(tally), spec.gzip)
        files.append(
            SampleFile(
                path,
                spec.slug,
                "vhost_combined" if spec.vhost else "combined",
                spec.lines,
                tally.parsed - before[0],
                tally.rejected - before[1],
            )
        )
    truth = ground_truth(tally, world, period, month)
    write_outlets_csv(directory / "outlets.csv")
    document = {
        **truth.as_dict(),
        "files": [
            {
                "name": f.path.name,
                "outlet": f.outlet,
                "format": f.format,
                "lines": f.lines,
                "parsed": f.parsed,
                "rejected": f.rejected,
            }
            for f in files
        ],
        "seed": seed,
    }
    (directory / "truth.json").write_text(json.dumps(document, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    return Sample(tuple(files), SAMPLE_OUTLETS, truth)


def _split(world: World, lines: int, rng: np.random.Generator) -> list[FileSpec]:
    """Lines per file, in proportion to the expected lines of the outlets in it (at least one each)."""
    slugs = [o.slug for o in SAMPLE_OUTLETS]
    own = [slugs.index(slug) for slug, _, _ in OWN_FILES]
    shared = np.array([i for i in range(len(slugs)) if i not in own])
    weights = np.where(world.follows_traffic[None, :], normalised(TRAFFIC)[:, None], normalised(CRAWL)[:, None])
    per_outlet = (weights * world.shares[None, :]).sum(axis=1)
    groups = [shared] + [np.array([i]) for i in own]
    counts = rng.multinomial(lines, normalised([per_outlet[g].sum() for g in groups]))
    for i in np.flatnonzero(counts == 0):
        counts[i], counts[0] = 1, counts[0] - 1
    specs = [FileSpec(VHOST_FILE, None, shared, True, int(counts[0]))]
    for (slug, name, gz), index, count in zip(OWN_FILES, own, counts[1:], strict=True):
        specs.append(FileSpec(name, slug, np.array([index]), gz, int(count)))
    return specs
