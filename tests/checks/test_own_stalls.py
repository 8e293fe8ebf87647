"""Failures of our own side are never evidence: requests failing while the prober or the embedded cluster
stalled make a zero-downtime verdict inconclusive (with the stalls named), and one outage is one window."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import pytest
import requests
from kubernetes import client

from pytest_azchaos.checks import CheckInconclusive, require
from pytest_azchaos.checks.downtime import zero_downtime
from pytest_azchaos.kube.cluster import Cluster
from pytest_azchaos.traffic import Prober, ProbeTarget
from pytest_azchaos.traffic.recording import Stall

from ..embedded.waiting import wait_for
from .records import failed, recording


def timeouts_between(start: float, end: float) -> Callable[[int, float], dict[str, object]]:
    def shape(seq: int, due: float) -> dict[str, object]:
        return {**failed("timeout", "TimeoutError: "), "latency": 0.7} if start <= due < end else {}
    return shape


def test_failures_inside_an_own_stall_make_the_verdict_inconclusive() -> None:
    rec = recording(50, shape=timeouts_between(2.0, 2.5))
    rec.add_stall(Stall(1.9, 3.1, 1.2, "the prober's event loop"))
    result = zero_downtime(rec)
    assert result.verdict == "inconclusive" and not result.passed
    assert result.inconclusive == ("5 of the 5 failed requests coincide with stalls of our own side (the prober's "
                                   "event loop ran 1.20s late at t=1.900s..3.100s); without them 0 failed, within "
                                   "the allowed 0")
    assert "own-side stall: the prober's event loop ran 1.20s late at t=1.900s..3.100s" in result.evidence
    with pytest.raises(CheckInconclusive, match="AZ-DRAIN INCONCLUSIVE: 5 of the 5 failed"):
        require(result)


def test_failures_outside_any_stall_still_fail() -> None:
    rec = recording(50, shape=timeouts_between(2.0, 2.5))
    rec.add_stall(Stall(4.0, 4.5, 0.5, "the prober's event loop"))
    result = zero_downtime(rec)
    assert result.verdict == "failed"
    assert result.figures["failed_in_own_stalls"] == 0


def test_short_hiccups_do_not_excuse_failures() -> None:
    rec = recording(50, shape=timeouts_between(2.0, 2.5))
    rec.add_stall(Stall(1.9, 3.1, 0.15, "the prober's event loop"))
    assert zero_downtime(rec).verdict == "failed"


def test_overlapping_timeouts_read_as_one_failure_window() -> None:
    """Timeouts interleaved with successes (each failure lasts 2 s) are one outage, not one window each."""
    def shape(seq: int, due: float) -> dict[str, object]:
        if 2.0 <= due < 3.0 and seq % 2:
            return {**failed("timeout", "TimeoutError: "), "latency": 2.0}
        return {}

    windows = recording(50, shape=shape).failure_windows()
    assert len(windows) == 1
    assert windows[0].count == 5 and windows[0].start == pytest.approx(2.1) and windows[0].end == pytest.approx(4.9)


def test_a_blocked_prober_loop_is_recorded_as_a_stall() -> None:
    prober = Prober(ProbeTarget(["127.0.0.1"], 9), rate=20, timeout=0.2).start()
    time.sleep(0.3)
    assert prober._loop is not None
    prober._loop.call_soon_threadsafe(time.sleep, 0.6)  # the loop holds still, as under CPU starvation
    time.sleep(1.0)
    rec = prober.stop()
    stalls = [s for s in rec.stalls if s.source == "the prober's event loop"]
    assert stalls and max(s.lag for s in stalls) == pytest.approx(0.6, abs=0.15), rec.stalls


def test_a_prober_loop_starved_a_little_on_every_tick_is_one_stall_with_the_time_it_lost() -> None:
    """CPU starvation makes every tick a little late (0.08 s here), never 0.2 s at once: the run is one stall."""
    prober = Prober(ProbeTarget(["127.0.0.1"], 9), rate=20, timeout=0.2).start()
    time.sleep(0.3)
    loop = prober._loop
    assert loop is not None
    end = time.monotonic() + 1.2

    def busy() -> None:
        time.sleep(0.08)
        if time.monotonic() < end:
            loop.call_soon(busy)

    loop.call_soon_threadsafe(busy)
    time.sleep(1.6)
    rec = prober.stop()
    stalls = [s for s in rec.stalls if s.source == "the prober's event loop"]
    assert stalls and max(s.lag for s in stalls) >= 0.5, rec.stalls


def test_requests_failing_while_the_embedded_cluster_stalls_are_inconclusive(
        plugin_cluster: Cluster, core: client.CoreV1Api, apps: client.AppsV1Api, namespace: str,
        api_url: str) -> None:
    """The cluster's event loop is held on purpose: requests through its NLB time out, the cluster reports
    the stall at /azchaos/v1/stalls, and the verdict is inconclusive instead of a downtime failure."""
    from .conftest import lb_app

    addresses = lb_app(core, apps, namespace, "steady", 3)
    wait_for(lambda: all(_answers(a) for a in addresses), bool, timeout=20, what="every LB address answers")
    prober = Prober(ProbeTarget(addresses, 8080), rate=50, timeout=0.5,
                    stall_source=plugin_cluster.reported_stalls).start()
    time.sleep(0.5)
    assert requests.put(f"{api_url}/azchaos/v1/stalls", json={"seconds": 1.5}, timeout=5).status_code == 200
    time.sleep(2.0)
    rec = prober.stop()
    result = zero_downtime(rec, core=core, namespace=namespace)
    assert result.figures["failed_requests"] > 0, result.message()
    assert result.verdict == "inconclusive", result.message()
    assert "the cluster's emulator event loop ran 1." in result.inconclusive


def _answers(address: str) -> bool:
    try:
        return requests.get(f"http://{address}:8080/", timeout=0.5).status_code < 500
    except requests.RequestException:
        return False


def test_a_cluster_that_serves_no_stall_report_answers_none(tmp_path: Path) -> None:
    """Any real cluster: /azchaos/v1/stalls is a 404 there, so stalls are unknown (None), not "none"."""
    import http.server
    import threading

    import yaml

    class NotFound(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = b'{"kind":"Status","apiVersion":"v1","status":"Failure","reason":"NotFound","code":404}'
            self.send_response(404)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), NotFound)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    kubeconfig = tmp_path / "kubeconfig"
    kubeconfig.write_text(yaml.safe_dump({
        "apiVersion": "v1", "kind": "Config", "current-context": "real",
        "clusters": [{"name": "real", "cluster": {"server": f"http://127.0.0.1:{server.server_port}"}}],
        "users": [{"name": "real", "user": {"token": "t"}}],
        "contexts": [{"name": "real", "context": {"cluster": "real", "user": "real"}}]}))
    cluster = Cluster(kubeconfig)
    try:
        assert cluster.reported_stalls(0, time.time()) is None
    finally:
        cluster.close()
        server.shutdown()
        server.server_close()
