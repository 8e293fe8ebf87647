"""Kubernetes resource quantities (``100m``, ``64Mi``, ``1e3``, ``2``) parsed exactly, as apimachinery does.

The scheduler compares cpu in millicores and everything else in whole units, rounding up like
``Quantity.MilliValue()`` / ``Quantity.Value()``, so a value is kept as an exact ``Fraction``.
"""

from __future__ import annotations

import functools
import math
import re
from fractions import Fraction

_BINARY = {"Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40, "Pi": 2**50, "Ei": 2**60}
_DECIMAL = {"n": Fraction(1, 10**9), "u": Fraction(1, 10**6), "m": Fraction(1, 1000), "": Fraction(1),
            "k": Fraction(10**3), "M": Fraction(10**6), "G": Fraction(10**9), "T": Fraction(10**12),
            "P": Fraction(10**15), "E": Fraction(10**18)}
_PATTERN = re.compile(r"^([+-]?(?:\d+\.?\d*|\.\d+))(?:([eE][+-]?\d+)|(Ki|Mi|Gi|Ti|Pi|Ei|[numkMGTPE])?)$")


class QuantityError(ValueError):
    """The text is not a Kubernetes quantity."""


def parse_quantity(value: str | int | float) -> Fraction:
    """The exact value of a quantity: ``"100m"`` → 1/10, ``"1Gi"`` → 1073741824."""
    if isinstance(value, bool):
        raise QuantityError(f"quantities must match the regular expression: {value!r}")
    if isinstance(value, int):
        return Fraction(value)
    if isinstance(value, float):
        return Fraction(str(value))
    text = str(value).strip()
    match = _PATTERN.match(text)
    if not match:
        raise QuantityError(
            f"quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$': {text!r}")
    number = Fraction(match.group(1))
    exponent, suffix = match.group(2), match.group(3) or ""
    if exponent:
        return number * Fraction(10) ** int(exponent[1:])
    if suffix in _BINARY:
        return number * _BINARY[suffix]
    return number * _DECIMAL[suffix]


def milli_value(value: str | int | float) -> int:
    """The quantity in thousandths, rounded up (``Quantity.MilliValue``): cpu ``"100m"`` → 100."""
    return math.ceil(parse_quantity(value) * 1000)


def whole_value(value: str | int | float) -> int:
    """The quantity in whole units, rounded up (``Quantity.Value``): memory ``"64Mi"`` → 67108864."""
    return math.ceil(parse_quantity(value))


@functools.lru_cache(maxsize=4096)
def _cached_resource_value(name: str, value: str | int | float) -> int:
    return milli_value(value) if name == "cpu" else whole_value(value)


def resource_value(name: str, value: str | int | float) -> int:
    """The integer the scheduler compares for a resource: millicores for cpu, units for the rest.

    Memoized: every scheduling cycle re-reads the same few quantity strings of every bound pod.
    """
    if isinstance(value, bool):
        return milli_value(value)  # raises as an invalid quantity
    return _cached_resource_value(name, value)
