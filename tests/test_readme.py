"""The README's plugin example is a real test: it runs against the embedded cluster and passes."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

pytest_plugins = ["pytester"]
README = Path(__file__).resolve().parents[1] / "README.md"


def _example(name: str) -> str:
    text = README.read_text()
    match = re.search(rf"<!-- example: {name} -->\s*```python\n(.*?)```", text, re.S)
    assert match, f"README has no example {name!r}"
    return match.group(1)


def test_readme_drain_example_passes_on_the_embedded_cluster(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_drain=_example("drain"))
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-q")
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(["*AZ-DRAIN*PASS*", "*AZ-RESCHED*PASS*"])
