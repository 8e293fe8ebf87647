"""The control-plane golden transcripts (scheduling/, controllers/, nodes/) replayed on a golden-shaped cluster.

One test per transcript; cases listed in ``KNOWN_MISMATCHES`` are strict xfails with their reason.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from pytest_azchaos.embedded.process import ClusterHandle, stop_cluster
from tests.embedded.golden_cluster import KNOWN_MISMATCHES, ZONE_D_CASES, all_cases, replay, start_golden_cluster


def _params() -> list[object]:
    out = []
    for case in all_cases():
        reason = KNOWN_MISMATCHES.get(case.id)
        marks = [pytest.mark.xfail(strict=True, reason=reason)] if reason else []
        out.append(pytest.param(case, id=case.id, marks=marks))
    return out


@pytest.fixture(scope="module")
def golden_cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[ClusterHandle, Path]]:
    kubeconfig = tmp_path_factory.mktemp("golden-cluster") / "kubeconfig"
    handle = start_golden_cluster(kubeconfig)
    try:
        yield handle, kubeconfig
    finally:
        stop_cluster(kubeconfig)


@pytest.fixture(scope="module")
def golden_zone_d_cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[ClusterHandle, Path]]:
    """The golden cluster plus zone-d's four nodes, for the zone-disruption recordings (started only for them)."""
    kubeconfig = tmp_path_factory.mktemp("golden-zone-d") / "kubeconfig"
    handle = start_golden_cluster(kubeconfig, zone_d=True)
    try:
        yield handle, kubeconfig
    finally:
        stop_cluster(kubeconfig)


@pytest.mark.parametrize("case", _params())
def test_transcript_replays_with_the_same_messages_and_outcomes(case, request) -> None:
    handle, kubeconfig = request.getfixturevalue(
        "golden_zone_d_cluster" if case.id in ZONE_D_CASES else "golden_cluster")
    # A known mismatch need not wait the whole read deadline to show its difference.
    result = replay(case, handle.url, kubeconfig, read_timeout=2.0 if case.id in KNOWN_MISMATCHES else 12.0)
    assert result.matched, f"{case.id} ({case.what}):\n  " + "\n  ".join(result.mismatches)
