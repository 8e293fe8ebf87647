"""Every failed or inconclusive check's message ends with the page of its check (issue 19)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from pytest_azchaos.checks.result import CheckResult, set_docs_url

pytest_plugins = ["pytester"]


@pytest.fixture(autouse=True)
def _default_docs_url() -> Iterator[None]:
    yield
    set_docs_url(None)


def test_a_failure_ends_with_the_repository_page_of_its_check() -> None:
    result = CheckResult("AZ-DRAIN", False, "3 of 10 requests failed", ("failure window t=1.0s..1.5s",))
    assert result.message().splitlines()[-1] == "  see docs/checks/AZ-DRAIN.md"


def test_a_docs_url_makes_the_link_point_at_the_built_site() -> None:
    set_docs_url("https://docs.example.com/azchaos/")
    result = CheckResult("AZ-EBS-BIND", False, "1 volume(s) not bound in their pod's node zone")
    assert result.message().endswith("\n  see https://docs.example.com/azchaos/checks/AZ-EBS-BIND/")


def test_an_inconclusive_result_links_its_page_and_a_pass_does_not() -> None:
    failed = CheckResult("AZ-SRCIP[Local]", False, "2 rewritten", inconclusive="the prober stalled")
    assert failed.message().endswith("see docs/checks/AZ-SRCIP.md")
    assert "see " not in CheckResult("AZ-TOPO", True, "zone skew 0").message()


@pytest.mark.parametrize(("args", "page"), [
    ([], "see docs/checks/AZ-DRAIN.md"),
    (["--azchaos-docs-url", "https://docs.example.com/azchaos"], "see https://docs.example.com/azchaos/checks/AZ-DRAIN/"),
])
def test_the_plugin_points_failure_messages_at_the_docs_url_option(pytester: pytest.Pytester, args: list[str],
                                                                    page: str) -> None:
    pytester.makepyfile("""
        from pytest_azchaos.checks.result import CheckResult, require

        def test_fails():
            require(CheckResult("AZ-DRAIN", False, "3 of 10 requests failed"))
    """)
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", *args)
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines([f"*{page}*"])
