"""Exact money: amounts as fractions until the end, then minor units by the largest-remainder method.

Largest remainder: every share is rounded down to the minor unit, then the units still missing from the
total go one each to the shares with the largest remainders (ties by key order), so the parts always add
up exactly to the total and no part moves by a full unit or more.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import ROUND_HALF_EVEN, Decimal, localcontext
from fractions import Fraction
from math import floor
from typing import TypeVar

K = TypeVar("K", bound=tuple[str, ...] | str)  # keys sort: ties go to the smaller key


def to_minor(amount: Fraction | Decimal, minor_units: int) -> int:
    """An amount rounded half-even to whole minor units (e.g. tiyn for KZT)."""
    scaled = Fraction(amount) * 10**minor_units
    return round(scaled)  # Fraction.__round__ is half-even


def from_minor(units: int, minor_units: int) -> Decimal:
    """Whole minor units as an exact Decimal with exactly ``minor_units`` places (12345, 2 -> 123.45)."""
    with localcontext() as context:
        context.prec = 80  # wider than DECIMAL(38, x): scaling and quantizing never round here
        return Decimal(units).scaleb(-minor_units).quantize(Decimal(1).scaleb(-minor_units), ROUND_HALF_EVEN)


def largest_remainder(exact: Mapping[K, Fraction], total_minor: int, minor_units: int) -> dict[K, int]:
    """Split ``total_minor`` minor units across ``exact`` amounts (in major units) by largest remainder.

    ``total_minor`` must lie between the sum of the floors and that sum plus the number of parts.
    """
    keys = sorted(exact)
    scaled = {k: Fraction(exact[k]) * 10**minor_units for k in keys}
    floors = {k: floor(scaled[k]) for k in keys}
    missing = total_minor - sum(floors.values())
    fractional = sum(1 for k in keys if scaled[k] != floors[k])
    if not 0 <= missing <= fractional:
        raise ValueError(f"cannot split {total_minor} minor units over parts summing to {sum(scaled.values())}")
    position = {k: i for i, k in enumerate(keys)}
    by_remainder = sorted(keys, key=lambda k: (-(scaled[k] - floors[k]), position[k]))
    for k in by_remainder[:missing]:
        floors[k] += 1
    return floors


def show(value: Fraction | Decimal | int, places: int = 6) -> str:
    """An exact amount as plain decimal text: exactly when it terminates within ``places``, else rounded
    half-even to ``places`` with a leading '~' (1/3 -> '~0.333333')."""
    fraction = Fraction(value)
    scaled = fraction * 10**places
    if scaled.denominator == 1:
        return format((Decimal(scaled.numerator).scaleb(-places)).normalize(), "f")
    return "~" + format(Decimal(round(scaled)).scaleb(-places).normalize(), "f")


def fraction_text(value: Fraction) -> str:
    """An exact fraction as text that parses back (``Fraction(text)``): '7/3', '12'."""
    return str(value)


def to_decimal(value: Fraction | int, places: int) -> Decimal:
    """An exact fraction rounded half-even to ``places`` decimal places."""
    return from_minor(to_minor(Fraction(value), places), places)
