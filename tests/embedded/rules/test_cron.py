"""Cron schedules as robfig/cron ParseStandard reads them: next activations and refusal texts."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from pytest_azchaos.embedded.rules import cron

AT = datetime(2026, 12, 7, 8, 30, 15, tzinfo=UTC)  # a Monday


@pytest.mark.parametrize(("spec", "expected"), [
    ("* * * * *", datetime(2026, 12, 7, 8, 31, tzinfo=UTC)),
    ("*/5 * * * *", datetime(2026, 12, 7, 8, 35, tzinfo=UTC)),
    ("17 3 * * *", datetime(2026, 12, 8, 3, 17, tzinfo=UTC)),
    ("@hourly", datetime(2026, 12, 7, 9, 0, tzinfo=UTC)),
    ("@daily", datetime(2026, 12, 8, 0, 0, tzinfo=UTC)),
    ("@weekly", datetime(2026, 12, 13, 0, 0, tzinfo=UTC)),
    ("@monthly", datetime(2027, 1, 1, 0, 0, tzinfo=UTC)),
    ("@yearly", datetime(2027, 1, 1, 0, 0, tzinfo=UTC)),
    ("0 0 29 2 *", datetime(2028, 2, 29, 0, 0, tzinfo=UTC)),
    ("30 9 * * MON-FRI", datetime(2026, 12, 7, 9, 30, tzinfo=UTC)),
    ("0 12 * DEC SAT", datetime(2026, 12, 12, 12, 0, tzinfo=UTC)),
])
def test_next_activation_after_a_time(spec: str, expected: datetime) -> None:
    assert cron.parse(spec).next(AT) == expected


def test_day_of_month_and_weekday_either_match_when_both_are_restricted() -> None:
    # robfig: with neither field starting with *, a day matching either one fires (the 9th is a Wednesday).
    assert cron.parse("0 0 9 * MON").next(AT) == datetime(2026, 12, 9, 0, 0, tzinfo=UTC)


def test_schedule_is_read_in_its_time_zone() -> None:
    # 03:00 in New York (UTC-5 in December) is 08:00 UTC.
    assert cron.parse("0 3 * * *").next(AT, ZoneInfo("America/New_York")) == datetime(2026, 12, 8, 8, 0, tzinfo=UTC)


@pytest.mark.parametrize(("spec", "error"), [
    ("bad", "expected exactly 5 fields, found 1: [bad]"),
    ("* * * *", "expected exactly 5 fields, found 4: [* * * *]"),
    ("60 * * * *", "end of range (60) above maximum (59): 60"),
    ("a * * * *", 'failed to parse int from a: strconv.Atoi: parsing "a": invalid syntax'),
    ("5-1 * * * *", "beginning of range (5) beyond end of range (1): 5-1"),
    ("* * 0 * *", "beginning of range (0) below minimum (1): 0"),
    ("*/0 * * * *", "step of range should be a positive number: */0"),
    ("1/2/3 * * * *", "too many slashes: 1/2/3"),
    ("@fortnightly", "unrecognized descriptor: @fortnightly"),
])
def test_unparseable_schedule_gives_robfigs_error(spec: str, error: str) -> None:
    assert cron.schedule_error(spec) == error


def test_time_zone_must_be_known_to_the_tz_database() -> None:
    assert cron.time_zone_error("Europe/Berlin") is None
    assert cron.time_zone_error("Mars/Olympus") == "unknown time zone Mars/Olympus"


@pytest.mark.parametrize(("name", "error"), [
    ("", "timeZone must be nil or non-empty string"),
    ("Local", "timeZone must be an explicit time zone as defined in https://www.iana.org/time-zones"),
    ("../etc/passwd", "unknown time zone ../etc/passwd"),
    ("America/Argentina/Buenos_Aires", None),
])
def test_time_zone_validation_follows_validate_time_zone(name: str, error: str | None) -> None:
    assert cron.time_zone_error(name) == error
