"""The plugin as pytest loads it: option group, ini keys, the session cluster fixture."""

from __future__ import annotations

import pytest

pytest_plugins = ["pytester"]


def test_help_shows_the_azchaos_option_group(pytester: pytest.Pytester) -> None:
    result = pytester.runpytest("--help")
    result.stdout.fnmatch_lines(["*multi-AZ chaos conformance (pytest-azchaos)*", "*--azchaos-kubeconfig=PATH*",
                                 "*--azchaos-context=NAME*", "*azchaos_kubeconfig*"])


def test_cluster_fixture_starts_the_embedded_cluster_without_a_kubeconfig(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        def test_zones(azchaos_cluster):
            assert sorted(azchaos_cluster.nodes_by_zone()) == ["us-east-1a", "us-east-1b", "us-east-1c"]
        """
    )
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=1)


def test_cluster_fixture_reports_a_missing_kubeconfig_with_the_fix(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        def test_nodes(azchaos_cluster):
            azchaos_cluster.nodes_by_zone()
        """
    )
    result = pytester.runpytest_subprocess("--azchaos-kubeconfig", "/nonexistent/kubeconfig")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*kubeconfig /nonexistent/kubeconfig does not exist*--azchaos-kubeconfig*"])
