"""Bad input fails fast with the fix named, and nothing in the cluster changes."""

from __future__ import annotations

from pathlib import Path

import pytest

from pytest_azchaos.embedded.process import start_cluster, stop_cluster
from pytest_azchaos.embedded.topology import Topology
from pytest_azchaos.kube.cluster import Cluster

pytest_plugins = ["pytester"]

CORDON_TEST = """
import pytest
from pytest_azchaos.chaos.facade import ChaosRefused

@pytest.mark.azchaos_destructive
def test_refused(azchaos_chaos, azchaos_cluster, azchaos_zones):
    zone = azchaos_zones.zones()[0]
    with pytest.raises(ChaosRefused) as refused:
        azchaos_chaos.{call}
    print("REFUSED:", refused.value)
    assert not any(n.spec.unschedulable for n in azchaos_cluster.core.list_node().items)
"""


def _unschedulable(kubeconfig: Path) -> list[str]:
    cluster = Cluster(kubeconfig)
    try:
        return [n.metadata.name for n in cluster.core.list_node().items if n.spec.unschedulable]
    finally:
        cluster.close()


def test_a_context_that_is_not_allowed_is_refused_before_anything_is_touched(pytester: pytest.Pytester,
                                                                              kubeconfig: Path) -> None:
    pytester.makepyfile(CORDON_TEST.format(call="drain_zone(zone)"))
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-s", "--azchaos-kubeconfig", str(kubeconfig),
                                           "--azchaos-allow-context", "^staging$")
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(["*REFUSED: context 'azchaos-embedded' is not allowed for chaos: allow it with "
                                 "--azchaos-allow-context '^azchaos-embedded$'*nothing was touched*"])
    assert _unschedulable(kubeconfig) == []


def test_a_cluster_with_two_zones_is_refused_naming_the_zones(pytester: pytest.Pytester, tmp_path: Path) -> None:
    kubeconfig = tmp_path / "two-zones" / "kubeconfig"
    start_cluster(kubeconfig, Topology.make(zones=2, nodes_per_zone=1))
    try:
        pytester.makepyfile(CORDON_TEST.format(call="cordon_zone(zone)"))
        result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-s", "--azchaos-kubeconfig",
                                               str(kubeconfig))
        result.assert_outcomes(passed=1)
        result.stdout.fnmatch_lines(["*REFUSED: taking us-east-1a away would leave 1 healthy zone(s) (us-east-1b); "
                                     "chaos needs at least two other healthy zones*"])
        assert _unschedulable(kubeconfig) == []
    finally:
        stop_cluster(kubeconfig)


def test_an_invalid_kubeconfig_stops_the_run_with_the_fix(pytester: pytest.Pytester, tmp_path: Path) -> None:
    bad = tmp_path / "kubeconfig"
    bad.write_text("this: is: not: a kubeconfig")
    pytester.makepyfile("def test_cluster(azchaos_cluster):\n    pass\n")
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "--azchaos-kubeconfig", str(bad))
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines([f"*cannot use kubeconfig {bad}*"])


def test_an_unreachable_api_fails_fast_naming_the_check_to_run(pytester: pytest.Pytester, tmp_path: Path) -> None:
    config = tmp_path / "kubeconfig"
    config.write_text(
        "apiVersion: v1\nkind: Config\ncurrent-context: gone\nclusters:\n- name: gone\n  cluster: {server: "
        "'http://127.0.0.1:9'}\nusers:\n- name: gone\n  user: {token: x}\ncontexts:\n- name: gone\n  context: "
        "{cluster: gone, user: gone}\n")
    pytester.makepyfile("def test_cluster(azchaos_cluster):\n    pass\n")
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "--azchaos-kubeconfig", str(config))
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*the Kubernetes API at http://127.0.0.1:9 (context 'gone') does not answer*",
                                 f"*kubectl --kubeconfig {config} get nodes*"])
