"""Exact money (ledger/money.py): half-even rounding to minor units, formatting, largest-remainder splits."""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction
from math import floor

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ledger.money import from_minor, largest_remainder, to_minor

# Non-negative amounts in major units with awkward denominators (thirds, sevenths, 1/997...).
amounts = st.fractions(min_value=0, max_value=10**6, max_denominator=10**4)
minor_units = st.integers(min_value=0, max_value=4)
parts = st.dictionaries(st.text("abcdefgh", min_size=1, max_size=3), amounts, min_size=1, max_size=12)


# --- to_minor -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("amount", "m", "expected"),
    [
        (Decimal("0.005"), 2, 0),  # half to even: 0.5 tiyn -> 0
        (Decimal("0.015"), 2, 2),  # 1.5 -> 2
        (Decimal("0.025"), 2, 2),  # 2.5 -> 2
        (Decimal("0.035"), 2, 4),  # 3.5 -> 4
        (Decimal("0.0051"), 2, 1),  # just above half rounds up
        (Decimal("0.0049"), 2, 0),
        (Decimal("2.5"), 0, 2),  # JPY-style, no minor units
        (Decimal("3.5"), 0, 4),
        (Decimal("12.34"), 2, 1234),
        (Decimal("1.23456"), 4, 12346),
        (Fraction(1, 3), 2, 33),
        (Fraction(2, 3), 2, 67),
        (Fraction(1, 200), 2, 0),  # exactly half a tiyn, even is 0
        (Fraction(3, 200), 2, 2),
        (Decimal("-0.015"), 2, -2),
        (Decimal("-0.025"), 2, -2),
        (Decimal(0), 2, 0),
    ],
)
def test_to_minor_rounds_half_even(amount: Decimal | Fraction, m: int, expected: int) -> None:
    assert to_minor(amount, m) == expected
    assert type(to_minor(amount, m)) is int


def test_to_minor_never_goes_through_float() -> None:
    # 0.285 is 0.28499999999999998 as a float; the exact decimal is a half and rounds to even (28).
    assert to_minor(Decimal("0.285"), 2) == 28
    assert to_minor(Decimal("0.295"), 2) == 30
    assert to_minor(Decimal("123456789012345678.125"), 2) == 12345678901234567812


@given(amounts, minor_units)
def test_to_minor_is_within_half_a_unit(amount: Fraction, m: int) -> None:
    assert abs(to_minor(amount, m) - amount * 10**m) <= Fraction(1, 2)


# --- from_minor -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("units", "m", "text"),
    [
        (123456, 2, "1234.56"),
        (5, 2, "0.05"),
        (500, 2, "5.00"),
        (0, 2, "0.00"),
        (-5, 2, "-0.05"),
        (7, 0, "7"),
        (1, 3, "0.001"),
        (10000, 4, "1.0000"),
        (4_750_000_000, 2, "47500000.00"),
    ],
)
def test_from_minor_has_the_currency_scale(units: int, m: int, text: str) -> None:
    value = from_minor(units, m)
    assert str(value) == text
    assert value.as_tuple().exponent == -m


@given(st.integers(min_value=-(10**20), max_value=10**20), minor_units)
def test_from_minor_inverts_to_minor(units: int, m: int) -> None:
    assert to_minor(from_minor(units, m), m) == units


def test_from_minor_handles_amounts_the_ledger_column_can_hold() -> None:
    # payouts.amount is DECIMAL(38, 4): 34 integer digits fit; 10^27 KZT is well inside.
    assert from_minor(10**29, 2) == Decimal(10**27)


# --- largest_remainder ----------------------------------------------------------------------------------


def test_largest_remainder_thirds() -> None:
    third = Fraction(1, 3)
    assert largest_remainder({"a": third, "b": third, "c": third}, 100, 2) == {"a": 34, "b": 33, "c": 33}


def test_largest_remainder_gives_missing_units_to_the_largest_remainders() -> None:
    exact = {"a": Fraction("0.014"), "b": Fraction("0.016"), "c": Fraction("0.019"), "d": Fraction("0.011")}
    # floors 1,1,1,1 (sum 4); exact sum 6 tiyn; remainders .4,.6,.9,.1 -> c and b get one more.
    assert largest_remainder(exact, 6, 2) == {"a": 1, "b": 2, "c": 2, "d": 1}


def test_largest_remainder_breaks_ties_by_key_and_not_by_insertion_order() -> None:
    half = Fraction(1, 200)
    forward = largest_remainder({"x": half, "y": half, "z": half}, 1, 2)
    backward = largest_remainder({"z": half, "y": half, "x": half}, 1, 2)
    assert forward == backward == {"x": 1, "y": 0, "z": 0}
    cells = {("outlet-b", "OpenAI"): half, ("outlet-a", "OpenAI"): half, ("outlet-a", "Anthropic"): half}
    assert largest_remainder(cells, 2, 2) == {
        ("outlet-a", "Anthropic"): 1,
        ("outlet-a", "OpenAI"): 1,
        ("outlet-b", "OpenAI"): 0,
    }


def test_largest_remainder_of_nothing_is_nothing() -> None:
    assert largest_remainder({}, 0, 2) == {}
    assert largest_remainder({"a": Fraction(0), "b": Fraction(0)}, 0, 2) == {"a": 0, "b": 0}


@pytest.mark.parametrize(
    ("exact", "total"),
    [
        ({"a": Fraction(1), "b": Fraction(1)}, 199),  # below the sum of floors (200)
        ({"a": Fraction("0.5"), "b": Fraction("0.5")}, 103),  # floors 50+50, at most 2 more
        ({}, 1),
        ({"a": Fraction(1)}, -1),
    ],
)
def test_largest_remainder_refuses_impossible_targets(exact: dict[str, Fraction], total: int) -> None:
    with pytest.raises(ValueError, match=rf"cannot split {total} minor units"):
        largest_remainder(exact, total, 2)


def test_largest_remainder_refuses_a_target_that_moves_a_part_by_a_full_unit() -> None:
    with pytest.raises(ValueError):
        largest_remainder({"a": Fraction(1)}, 101, 2)  # exactly 100 tiyn; 101 cannot be reached by rounding


@given(parts, minor_units)
def test_largest_remainder_sums_exactly_and_moves_each_part_by_less_than_a_unit(
    exact: dict[str, Fraction], m: int
) -> None:
    target = to_minor(sum(exact.values(), Fraction(0)), m)
    split = largest_remainder(exact, target, m)
    assert set(split) == set(exact)
    assert sum(split.values()) == target
    for key, units in split.items():
        scaled = exact[key] * 10**m
        assert abs(units - scaled) < 1
        assert units in (floor(scaled), floor(scaled) + 1)


@given(parts, minor_units, st.data())
def test_largest_remainder_hits_every_feasible_target(exact: dict[str, Fraction], m: int, data: st.DataObject) -> None:
    floors = sum(floor(v * 10**m) for v in exact.values())
    fractional = sum(1 for v in exact.values() if v * 10**m != floor(v * 10**m))
    target = data.draw(st.integers(min_value=floors, max_value=floors + fractional))
    split = largest_remainder(exact, target, m)
    assert sum(split.values()) == target
    assert all(floor(exact[k] * 10**m) <= u <= floor(exact[k] * 10**m) + 1 for k, u in split.items())


@given(parts, minor_units, st.randoms(use_true_random=False))
def test_largest_remainder_is_independent_of_mapping_order(exact: dict[str, Fraction], m: int, rnd) -> None:
    keys = list(exact)
    rnd.shuffle(keys)
    shuffled = {k: exact[k] for k in keys}
    target = to_minor(sum(exact.values(), Fraction(0)), m)
    assert largest_remainder(shuffled, target, m) == largest_remainder(exact, target, m)


@given(parts, minor_units)
def test_largest_remainder_is_monotone_in_remainders(exact: dict[str, Fraction], m: int) -> None:
    # A part that got the extra unit never has a smaller remainder than one that did not.
    target = to_minor(sum(exact.values(), Fraction(0)), m)
    split = largest_remainder(exact, target, m)
    rem = {k: exact[k] * 10**m - floor(exact[k] * 10**m) for k in exact}
    up = [rem[k] for k in exact if split[k] > floor(exact[k] * 10**m)]
    down = [rem[k] for k in exact if split[k] == floor(exact[k] * 10**m)]
    if up and down:
        assert min(up) >= max(down)


@pytest.mark.parametrize(
    ("value", "places", "text"),
    [
        (Fraction(5, 2), 6, "2.5"),
        (Fraction(1, 3), 6, "~0.333333"),
        (Fraction(2, 3), 2, "~0.67"),
        (100, 6, "100"),
        (Fraction(-1, 4), 6, "-0.25"),
    ],
)
def test_show_is_exact_or_marked_approximate(value: Fraction | int, places: int, text: str) -> None:
    from ledger.money import show

    assert show(value, places) == text


@pytest.mark.parametrize(
    ("value", "places", "expected"),
    [(Fraction(1, 3), 4, "0.3333"), (Fraction(5, 8), 2, "0.62"), (Fraction(7, 8), 2, "0.88"), (3, 2, "3.00")],
)
def test_to_decimal_rounds_half_even(value: Fraction | int, places: int, expected: str) -> None:
    from ledger.money import to_decimal

    assert str(to_decimal(value, places)) == expected
