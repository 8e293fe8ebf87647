"""The JSON-object helpers of the embedded cluster: RFC 3339 times and deep copies."""

from __future__ import annotations

import json
import re

from pytest_azchaos.embedded.objects import deep_copy, format_time, micro_now, now_rfc3339, parse_time


def test_format_time_is_utc_whole_seconds_with_z() -> None:
    assert format_time(1704067200.9) == "2024-01-01T00:00:00Z"


def test_now_rfc3339_adds_the_delta() -> None:
    now = parse_time(now_rfc3339())
    later = parse_time(now_rfc3339(90))
    assert now is not None and later is not None
    assert 89 <= later - now <= 91


def test_micro_now_has_six_fraction_digits() -> None:
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z", micro_now())


def test_parse_time_reads_seconds_micro_and_offsets() -> None:
    assert parse_time("2024-01-01T00:00:00Z") == 1704067200.0
    assert parse_time("2024-01-01T00:00:00.250000Z") == 1704067200.25
    assert parse_time("2024-01-01T02:00:00+02:00") == 1704067200.0


def test_parse_time_answers_none_for_empty_or_malformed_text() -> None:
    assert parse_time(None) is None
    assert parse_time("") is None
    assert parse_time("yesterday") is None


def test_format_and_parse_round_trip() -> None:
    assert format_time(parse_time("2030-06-15T08:30:45Z") or 0) == "2030-06-15T08:30:45Z"


def test_deep_copy_shares_nothing_mutable() -> None:
    obj = {"metadata": {"labels": {"app": "web"}}, "spec": {"containers": [{"name": "c", "ports": [1, 2]}]}}
    copied = deep_copy(obj)
    assert copied == obj
    copied["metadata"]["labels"]["app"] = "db"
    copied["spec"]["containers"][0]["ports"].append(3)
    assert obj == {"metadata": {"labels": {"app": "web"}}, "spec": {"containers": [{"name": "c", "ports": [1, 2]}]}}


def test_deep_copy_turns_tuples_into_lists_like_a_json_round_trip() -> None:
    value = {"tolerations": ({"key": "a"},), "n": None, "ok": True, "x": 1.5}
    assert deep_copy(value) == json.loads(json.dumps(value))
