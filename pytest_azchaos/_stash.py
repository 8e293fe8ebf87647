"""Every stash key the plugin keeps on the config and on test items, in one place (private)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from .checks.result import CheckResult
    from .report.evidence import Evidence
    from .settings import Settings

# config: the validated settings of the run
SETTINGS: pytest.StashKey[Settings] = pytest.StashKey()
# config: lines for the session header (what the plugin changed, e.g. xdist distribution)
HEADER_NOTES: pytest.StashKey[list[str]] = pytest.StashKey()
# config: (nodeid, CheckResult) of every check, collected from teardown reports (so it works under xdist)
CHECKS: pytest.StashKey[list[tuple[str, CheckResult]]] = pytest.StashKey()
# config: every test's evidence dict, collected from teardown reports
SESSION_EVIDENCE: pytest.StashKey[list[dict[str, Any]]] = pytest.StashKey()
# item: the checks recorded by the test, as plain data travelling on its teardown report
ITEM_CHECKS: pytest.StashKey[list[dict[str, Any]]] = pytest.StashKey()
# item: the evidence dict written by the test, travelling on its teardown report
ITEM_EVIDENCE: pytest.StashKey[dict[str, Any]] = pytest.StashKey()
# item: the live Evidence object of the test (for pytest-html extras)
TEST_EVIDENCE: pytest.StashKey[Evidence] = pytest.StashKey()
# item: (title, text) sections added to the test's report
SECTIONS: pytest.StashKey[list[tuple[str, str]]] = pytest.StashKey()
# item: set once any phase of the test failed
FAILED: pytest.StashKey[bool] = pytest.StashKey()
