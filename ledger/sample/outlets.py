"""The fictional Kazakh outlets of the sample, their audience and archive sizes, and ``outlets.csv``."""

from __future__ import annotations

import csv
from decimal import Decimal
from pathlib import Path

import numpy as np

from ledger.outlets import CSV_COLUMNS, Outlet


def _outlet(
    slug: str, name: str, domains: tuple[str, ...], language: str, fte: str, regional: str, group: str
) -> Outlet:
    return Outlet(slug, name, domains, "KZ", language, Decimal(fte), Decimal(regional), group)


SAMPLE_OUTLETS: tuple[Outlet, ...] = (
    _outlet("dala-news", "Dala News", ("dalanews.kz", "dala.news"), "kk", "142.5", "18", "private"),
    _outlet("steppe-times", "Steppe Times", ("steppetimes.kz",), "ru", "96", "12", "private"),
    _outlet("el-arnasy", "El Arnasy", ("elarnasy.kz",), "kk", "210", "64", "public_broadcaster"),
    _outlet("aitys-tv", "Aitys TV", ("aitystv.kz",), "kk", "88", "9.5", "broadcaster"),
    _outlet("tamyr-media", "Tamyr Media", ("tamyr.media", "tamyrmedia.kz"), "ru", "34", "4", "private"),
    _outlet("almaty-kuni", "Almaty Kuni", ("almatykuni.kz",), "kk", "21", "21", "private"),
    _outlet("saryarqa-radio", "Saryarqa Radio", ("saryarqaradio.kz",), "kk", "18", "18", "public_broadcaster"),
    _outlet("aqtobe-zhuldyzy", "Aqtobe Zhuldyzy", ("zhuldyzy-aqtobe.kz",), "kk", "6", "6", "private"),
)
# Relative audience (people, user-triggered agents) and archive size (crawlers), in SAMPLE_OUTLETS order.
TRAFFIC = np.array([34, 22, 15, 12, 8, 5, 3, 1], dtype=float)
CRAWL = np.array([22, 20, 18, 8, 12, 9, 7, 4], dtype=float)
# Outlets with their own combined log (ingested with --outlet); everyone else is in the shared vhost log.
OWN_FILES = (
    ("tamyr-media", "tamyr-media.access.log", False),
    ("aqtobe-zhuldyzy", "aqtobe-zhuldyzy.access.log.gz", True),
)


def write_outlets_csv(path: Path) -> None:
    """``outlets.csv`` for ``royalty outlets import``."""
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(CSV_COLUMNS)
        for o in SAMPLE_OUTLETS:
            writer.writerow(
                [o.slug, o.name, ";".join(o.domains), o.country, o.language, o.fte, o.regional_fte, o.group]
            )
