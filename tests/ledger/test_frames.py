"""The direct frame operations (ledger/frames.py) give what polars' own methods give."""

from __future__ import annotations

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from polars.testing import assert_frame_equal, assert_series_equal

from ledger.frames import constant, put, rows_where

TEXTS = st.one_of(st.none(), st.text(max_size=6))


@st.composite
def frames_and_masks(draw: st.DrawFn) -> tuple[pl.DataFrame, pl.Series]:
    height = draw(st.integers(0, 12))
    rows = st.lists(TEXTS, min_size=height, max_size=height)
    numbers = st.lists(st.one_of(st.none(), st.integers(-5, 5)), min_size=height, max_size=height)
    frame = pl.DataFrame(
        {"line_no": list(range(height)), "text": draw(rows), "n": draw(numbers)},
        schema={"line_no": pl.Int64, "text": pl.String, "n": pl.Int16},
    )
    mask = draw(st.lists(st.one_of(st.none(), st.booleans()), min_size=height, max_size=height))
    return frame, pl.Series("mask", mask, dtype=pl.Boolean)


@settings(max_examples=200, deadline=None)
@given(frames_and_masks())
def test_rows_where_keeps_the_rows_filter_keeps(case: tuple[pl.DataFrame, pl.Series]) -> None:
    """Row for row and column for column what ``DataFrame.filter`` keeps: a null in the mask drops its row."""
    frame, mask = case
    assert_frame_equal(rows_where(frame, mask), frame.filter(mask))


def test_rows_where_refuses_a_mask_of_another_length() -> None:
    frame = pl.DataFrame({"a": [1, 2, 3]})
    with pytest.raises(ValueError, match="a mask of 2 rows for a frame of 3"):
        rows_where(frame, pl.Series([True, False]))


def test_put_replaces_a_column_of_its_name_and_adds_the_others_after_the_last() -> None:
    frame = pl.DataFrame({"a": [1, 2], "b": ["x", "y"]})
    given_columns = (pl.Series("b", [None, "z"]), pl.Series("c", [True, False]), pl.Series("a", [7, 8]))
    out = put(frame, *given_columns)
    assert_frame_equal(out, frame.with_columns(*given_columns))
    assert out.columns == ["a", "b", "c"]
    assert frame.to_dict(as_series=False) == {"a": [1, 2], "b": ["x", "y"]}  # the frame given is left as it was


def test_put_refuses_a_column_of_another_length() -> None:
    frame = pl.DataFrame({"a": [1, 2, 3]})
    with pytest.raises(ValueError, match="a column 'b' of 1 rows for a frame of 3"):
        put(frame, pl.Series("b", [1]))


@pytest.mark.parametrize(
    ("value", "dtype"),
    [("upload-1", pl.String), (None, pl.String), (5, pl.Int64), (None, pl.Int16), (True, pl.Boolean)],
)
@pytest.mark.parametrize("height", [0, 1, 4])
def test_constant_is_the_literal_broadcast(value: object, dtype: type[pl.DataType], height: int) -> None:
    frame = pl.DataFrame({"a": list(range(height))})
    expected = frame.with_columns(pl.lit(value, dtype=dtype).alias("c"))["c"]
    assert_series_equal(constant("c", value, height, dtype), expected)
