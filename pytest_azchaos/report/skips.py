"""The session's skipped tests and why, for the report's overview (read from pytest's terminal reporter,
which sees every test's reports, on the xdist controller too)."""

from __future__ import annotations

from typing import Any


def skipped_tests(config: Any) -> list[dict[str, str]]:
    """``{"test", "reason"}`` per skipped test, in the order pytest reported them."""
    reporter = config.pluginmanager.get_plugin("terminalreporter")
    reports = reporter.stats.get("skipped", []) if reporter is not None else []
    out: list[dict[str, str]] = []
    seen: set[str] = set()
    for report in reports:
        nodeid = getattr(report, "nodeid", "")
        if not nodeid or nodeid in seen:
            continue
        seen.add(nodeid)
        out.append({"test": nodeid, "reason": skip_reason(getattr(report, "longrepr", None))})
    return out


def skip_reason(longrepr: Any) -> str:
    """The reason of a skip report's ``longrepr`` (``(path, line, "Skipped: reason")`` or text)."""
    if isinstance(longrepr, tuple) and len(longrepr) == 3:
        return str(longrepr[2])
    return str(longrepr or "")
