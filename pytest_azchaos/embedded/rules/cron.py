"""Cron schedules as the CronJob controller reads them (``robfig/cron/v3`` ``ParseStandard``).

Five fields (minute hour day-of-month month day-of-week) with lists, ranges, steps, month and weekday names,
``?`` as ``*``, and the descriptors ``@yearly``/``@annually``/``@monthly``/``@weekly``/``@daily``/``@midnight``/
``@hourly`` and ``@every <duration>``. Day-of-month and day-of-week combine as robfig does: when either field
starts with ``*`` or ``?`` both must match, otherwise either may. Error texts are robfig's, which the API
server puts in its 422 (``spec.schedule: Invalid value: "...": <error>``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

_BOUNDS = ((0, 59), (0, 23), (1, 31), (1, 12), (0, 6))
_MONTHS = {m: i + 1 for i, m in enumerate(("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct",
                                            "nov", "dec"))}
_DAYS = {d: i for i, d in enumerate(("sun", "mon", "tue", "wed", "thu", "fri", "sat"))}
_NAMES: tuple[dict[str, int], ...] = ({}, {}, {}, _MONTHS, _DAYS)
_DESCRIPTORS = {
    "@yearly": "0 0 1 1 *", "@annually": "0 0 1 1 *", "@monthly": "0 0 1 * *", "@weekly": "0 0 * * 0",
    "@daily": "0 0 * * *", "@midnight": "0 0 * * *", "@hourly": "0 * * * *",
}
_DURATION_UNITS = {"ns": 1e-9, "us": 1e-6, "µs": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0, "h": 3600.0}


class CronError(ValueError):
    """A schedule robfig/cron refuses; the message is robfig's."""


@dataclass(frozen=True)
class Schedule:
    """A parsed schedule: the allowed values of each field, or a fixed interval (``@every``)."""

    minutes: frozenset[int] = frozenset()
    hours: frozenset[int] = frozenset()
    dom: frozenset[int] = frozenset()
    months: frozenset[int] = frozenset()
    dow: frozenset[int] = frozenset()
    dom_star: bool = False
    dow_star: bool = False
    every: float = 0.0

    def _day_matches(self, d: datetime) -> bool:
        dom_match = d.day in self.dom
        dow_match = (d.isoweekday() % 7) in self.dow
        if self.dom_star or self.dow_star:
            return dom_match and dow_match
        return dom_match or dow_match

    def next(self, after: datetime, tz: tzinfo = UTC) -> datetime | None:
        """The first activation strictly after ``after`` (aware), in UTC; None within five years."""
        if self.every:
            # ConstantDelaySchedule: whole seconds, at least one, from ``after`` rounded down to the second.
            return after.astimezone(UTC).replace(microsecond=0) + timedelta(seconds=max(1, int(self.every)))
        local = after.astimezone(tz).replace(second=0, microsecond=0) + timedelta(minutes=1)
        day = local.replace(hour=0, minute=0)
        limit = local + timedelta(days=366 * 5)
        first = True
        while day <= limit:
            if day.month in self.months and self._day_matches(day):
                for h in sorted(self.hours):
                    if first and h < local.hour:
                        continue
                    for m in sorted(self.minutes):
                        if first and h == local.hour and m < local.minute:
                            continue
                        wall = datetime(day.year, day.month, day.day, h, m, tzinfo=tz)
                        # A wall time skipped by a DST change does not exist: robfig moves on.
                        back = wall.astimezone(UTC).astimezone(tz)
                        if (back.hour, back.minute) != (h, m):
                            continue
                        candidate = wall.astimezone(UTC)
                        if candidate > after.astimezone(UTC):
                            return candidate
            day = (day + timedelta(days=1)).replace(hour=0, minute=0)
            first = False
        return None


def _parse_int(text: str, expr: str) -> int:
    if not re.fullmatch(r"[+-]?\d+", text):
        raise CronError(f'failed to parse int from {text}: strconv.Atoi: parsing "{text}": invalid syntax')
    value = int(text)
    if value < 0:
        raise CronError(f"negative number ({value}) not allowed: {text}")
    return value


def _value(text: str, names: dict[str, int], expr: str) -> int:
    named = names.get(text.lower())
    return named if named is not None else _parse_int(text, expr)


def _field(expr: str, index: int) -> tuple[set[int], bool]:
    lo, hi = _BOUNDS[index]
    names = _NAMES[index]
    values: set[int] = set()
    star = False
    for part in expr.split(","):
        range_and_step = part.split("/")
        if len(range_and_step) > 2:
            raise CronError(f"too many slashes: {part}")
        low_high = range_and_step[0].split("-")
        single = len(low_high) == 1
        extra_star = False
        if low_high[0] in ("*", "?"):
            start, end, extra_star = lo, hi, True
        else:
            start = _value(low_high[0], names, part)
            if len(low_high) == 1:
                end = start
            elif len(low_high) == 2:
                end = _value(low_high[1], names, part)
            else:
                raise CronError(f"too many hyphens: {part}")
        step = 1
        if len(range_and_step) == 2:
            step = _parse_int(range_and_step[1], part)
            if single and not extra_star:
                end = hi  # "N/step" means "N-max/step"
            if step > 1:
                extra_star = False
        if start < lo:
            raise CronError(f"beginning of range ({start}) below minimum ({lo}): {part}")
        if end > hi:
            raise CronError(f"end of range ({end}) above maximum ({hi}): {part}")
        if start > end:
            raise CronError(f"beginning of range ({start}) beyond end of range ({end}): {part}")
        if step == 0:
            raise CronError(f"step of range should be a positive number: {part}")
        values.update(range(start, end + 1, step))
        star = star or extra_star
    return values, star


def _duration(text: str) -> float:
    total = 0.0
    rest = text
    if not rest or not re.fullmatch(r"(\d+(\.\d+)?(ns|us|µs|ms|s|m|h))+", rest):
        raise CronError(f'failed to parse duration {text}: time: invalid duration "{text}"')
    for number, _frac, unit in re.findall(r"(\d+(\.\d+)?)(ns|us|µs|ms|s|m|h)", rest):
        total += float(number) * _DURATION_UNITS[unit]
    return total


def parse(spec: str) -> Schedule:
    """``cron.ParseStandard(spec)``; raises ``CronError`` with robfig's message."""
    text = spec.strip()
    if text.startswith("@"):
        if text.startswith("@every "):
            return Schedule(every=_duration(text[len("@every "):].strip()))
        expanded = _DESCRIPTORS.get(text.lower())
        if expanded is None:
            raise CronError(f"unrecognized descriptor: {text}")
        text = expanded
    fields = text.split()
    if len(fields) != 5:
        raise CronError(f"expected exactly 5 fields, found {len(fields)}: [{' '.join(fields)}]")
    parsed = [_field(f, i) for i, f in enumerate(fields)]
    return Schedule(frozenset(parsed[0][0]), frozenset(parsed[1][0]), frozenset(parsed[2][0]),
                    frozenset(parsed[3][0]), frozenset(parsed[4][0]), parsed[2][1], parsed[4][1])


def schedule_error(spec: str) -> str | None:
    """robfig's error for ``spec``, or None when it parses."""
    try:
        parse(spec)
    except CronError as e:
        return str(e)
    return None


def zone(name: str | None) -> tzinfo:
    """``time.LoadLocation``: "" and "UTC" are UTC, "Local" is the controller's zone (UTC here)."""
    if not name or name in ("UTC", "Local"):
        return UTC
    return ZoneInfo(name)


def time_zone_error(name: str) -> str | None:
    """``validateTimeZone``: a non-empty IANA name the tz database knows, never ``Local``."""
    if not name:
        return "timeZone must be nil or non-empty string"
    for part in name.split("/"):
        if part in (".", "..") or part.startswith("-") or not re.fullmatch(r"[A-Za-z\.\-_0-9+]{1,14}", part):
            return f"unknown time zone {name}"
    if name.lower() == "local":
        return "timeZone must be an explicit time zone as defined in https://www.iana.org/time-zones"
    if name == "UTC":
        return None
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return f"unknown time zone {name}"
    return None
