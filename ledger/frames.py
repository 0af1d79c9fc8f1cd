"""Direct polars operations for the glue of each batch the ingest parses and detects.

An eager DataFrame method (``select``, ``with_columns``, ``filter``, ``drop``) runs through polars' query
engine: a plan is made, optimised and handed to polars' thread pool, about 150-250 us of CPU a call
whatever the rows (polars 2.1 on the bench machine: a filter of 10 rows 247 us, of 30,000 rows 1,022 us).
The same done to a frame's columns, which are Series, is a direct call of a few microseconds (a Series
filter of 10 rows: 2.4 us). A batch made about a hundred such calls, so that for a small file they were
most of its parsing CPU. These helpers do what the methods named do, for masks and columns that are made
already; expressions still go through ``select`` and ``with_columns``.
"""

from __future__ import annotations

from typing import Any

import polars as pl


def rows_where(frame: pl.DataFrame, mask: pl.Series) -> pl.DataFrame:
    """``frame.filter(mask)`` for a Boolean Series as long as the frame: the rows where it is true (a null
    is not), column by column."""
    if mask.len() != frame.height:
        raise ValueError(f"a mask of {mask.len()} rows for a frame of {frame.height}")
    return pl.DataFrame([column.filter(mask) for column in frame.get_columns()])


def put(frame: pl.DataFrame, *columns: pl.Series) -> pl.DataFrame:
    """``frame.with_columns(*columns)`` for Series as long as the frame: each replaces the column of its
    name, or goes after the last one."""
    out = frame.clone()  # the columns are shared, not copied; the frame given stays as it is
    names = out.columns
    for column in columns:
        if column.len() != frame.height:
            raise ValueError(f"a column {column.name!r} of {column.len()} rows for a frame of {frame.height}")
        if column.name in names:
            out.replace_column(names.index(column.name), column)
        else:
            out.insert_column(out.width, column)
            names.append(column.name)
    return out


def constant(name: str, value: Any, height: int, dtype: pl.DataType | type[pl.DataType] = pl.String) -> pl.Series:
    """A column of ``height`` times ``value`` (null: None), as ``pl.lit(value)`` gives one."""
    return pl.Series(name, [value], dtype=dtype).new_from_index(0, height)
