"""Resource quantities as the scheduler compares them."""

from __future__ import annotations

from fractions import Fraction

import pytest

from pytest_azchaos.embedded.scheduler.quantity import QuantityError, milli_value, parse_quantity, whole_value


@pytest.mark.parametrize(("text", "millis"), [("100m", 100), ("2", 2000), ("0.5", 500), ("1.5m", 2), ("1e-3", 1)])
def test_cpu_in_millicores_rounds_up(text: str, millis: int) -> None:
    assert milli_value(text) == millis


@pytest.mark.parametrize(("text", "value"), [
    ("64Mi", 64 * 2**20), ("8Gi", 8 * 2**30), ("123Ki", 123 * 1024), ("1G", 10**9), ("129M", 129 * 10**6),
    ("128974848", 128974848), ("1e3", 1000), ("12E", 12 * 10**18), ("0.5Ki", 512), ("1.1", 2),
])
def test_memory_suffixes(text: str, value: int) -> None:
    assert whole_value(text) == value


def test_numbers_are_accepted_as_quantities() -> None:
    assert parse_quantity(3) == 3
    assert parse_quantity(0.25) == Fraction(1, 4)


@pytest.mark.parametrize("text", ["", "abc", "1Qi", "--1", "1 Gi", "Mi"])
def test_malformed_quantity_is_rejected(text: str) -> None:
    with pytest.raises(QuantityError):
        parse_quantity(text)
