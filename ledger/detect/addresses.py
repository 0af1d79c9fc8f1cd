"""Which address a request really came from, as a number, and whether it is a public one.

A log's address field can hold one address or a chain ("a, b, c"), and formats behind a load balancer
add an X-Forwarded-For chain. The client is the right-most PUBLIC address of forwarded_for followed by
the address field: proxies append what they saw on the right, so everything to the left of the last
public hop was written by the client and proves nothing. When no address is public (a private
load-balancer address and no forwarded chain), the direct address stays and its verdict is `unknown`.
"""

from __future__ import annotations

import numpy as np
import polars as pl

from ledger.detect.iplists import addresses_to_int, match_lists, non_public_cover, non_public_partitions
from ledger.parse.native import string_views

try:
    from ledger import _native  # type: ignore[attr-defined]
except ImportError:  # pragma: no cover - the extension is optional; _pick does the same
    _native = None


def _numbers(addresses: pl.Series) -> pl.DataFrame:
    """address, n (UInt128 or null), non_public for distinct addresses."""
    table = pl.DataFrame({"address": addresses}).unique().drop_nulls()
    table = table.with_columns(addresses_to_int(table["address"]).alias("n"))
    private = match_lists(table["n"], non_public_partitions()).select("n", pl.lit(True).alias("non_public"))
    return table.join(private, on="n", how="left").with_columns(pl.col("non_public").fill_null(False))


def resolve_addresses(frame: pl.DataFrame) -> pl.DataFrame:
    """Replaces ``client_ip`` by the effective client address and adds ``n`` and ``non_public``."""
    frame = effective_clients(frame)
    numbers = _numbers(frame["client_ip"]).rename({"address": "client_ip"})
    return frame.join(numbers, on="client_ip", how="left", maintain_order="left")


def effective_clients(frame: pl.DataFrame) -> pl.DataFrame:
    """Replaces ``client_ip`` by the effective client address."""
    chained = (
        pl.col("client_ip").str.contains(",", literal=True).fill_null(False) | pl.col("forwarded_for").is_not_null()
    )
    rows = frame.select(chained.alias("_chained")).to_series().arg_true()
    if rows.len():  # the chains: their client picked, in place
        chains = frame[rows]
        picked = pick_natively(chains)
        if picked is None:
            picked = _pick(chains)
        frame = frame.with_columns(frame["client_ip"].scatter(rows, picked))
    return frame


def pick_natively(rows: pl.DataFrame) -> pl.Series | None:
    """``_pick`` in one native pass over the chains (``_native.pick_clients``); the rows it leaves (a
    non-ASCII byte, a hop only the standard library reads) go to ``_pick``. None without the extension."""
    table = non_public_cover()
    if _native is None or table is None:
        return None
    forwarded, clients = rows["forwarded_for"].cast(pl.String), rows["client_ip"].cast(pl.String)
    picks, starts, lengths = _native.pick_clients(
        string_views(forwarded), string_views(clients), table.starts, table.ends, table.masks
    )
    pick = pl.Series(np.frombuffer(picks, dtype=np.uint8))
    at = pl.Series(np.frombuffer(starts, dtype=np.int32))
    size = pl.Series(np.frombuffer(lengths, dtype=np.int32))
    picked = pl.select(  # the strings of rows 1 and 2 are ASCII: characters are bytes
        pl.when(pick == 1)
        .then(pl.lit(forwarded).str.slice(at, size))
        .when(pick == 2)
        .then(pl.lit(clients).str.slice(at, size))
        .alias("client_ip")
    ).to_series()
    odd = pick == 3
    if odd.any():
        picked = picked.scatter(odd.arg_true(), _pick(rows.filter(odd)))
    return picked


def _pick(rows: pl.DataFrame) -> pl.Series:
    """The right-most public element of forwarded_for + address field, else the right-most element."""
    chain = pl.concat_list(
        pl.col("forwarded_for").fill_null("").str.split(","), pl.col("client_ip").fill_null("").str.split(",")
    )
    exploded = (
        rows.select("line_no", chain.alias("address"))
        .with_columns(pl.int_ranges(pl.col("address").list.len()).alias("position"))
        .explode("address", "position")
        .with_columns(pl.col("address").str.strip_chars().str.strip_chars('"'))
        .filter(pl.col("address").is_not_null() & ~pl.col("address").is_in(["", "-", "unknown"]))
    )
    numbers = _numbers(exploded["address"])
    ranked = exploded.join(numbers, on="address", how="left").with_columns(
        (pl.col("n").is_not_null() & ~pl.col("non_public").fill_null(True)).alias("public")
    )
    best = ranked.sort("line_no", "public", "position").group_by("line_no", maintain_order=True).last()
    return rows.select("line_no").join(best, on="line_no", how="left", maintain_order="left")["address"]
