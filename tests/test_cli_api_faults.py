"""``azchaos local api-faults`` as a user runs it: a real subprocess against a real embedded cluster."""

from __future__ import annotations

import argparse
import json
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from kubernetes import client, config

from pytest_azchaos.cli import build_parser
from pytest_azchaos.embedded.api_faults_client import clear_api_faults, get_api_faults
from pytest_azchaos.embedded.process import ClusterHandle, kubeconfig_document
from pytest_azchaos.embedded.topology import Topology

from .clusters import own_cluster

AZCHAOS = [sys.executable, "-m", "pytest_azchaos.cli"]


def _faults(kubeconfig: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*AZCHAOS, "local", "api-faults", "--kubeconfig", str(kubeconfig), *args],
                          capture_output=True, text=True, timeout=60)


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ClusterHandle]:
    with own_cluster(tmp_path_factory.mktemp("cli-api-faults"), topology=Topology.make(zones=1, nodes_per_zone=1)) \
            as handle:
        yield handle


@pytest.fixture(autouse=True)
def switch_off(cluster: ClusterHandle) -> Iterator[None]:
    clear_api_faults(cluster.kubeconfig)
    yield
    clear_api_faults(cluster.kubeconfig)


@pytest.fixture(scope="module")
def core(cluster: ClusterHandle) -> Iterator[client.CoreV1Api]:
    cfg = client.Configuration()
    config.load_kube_config(config_file=str(cluster.kubeconfig), client_configuration=cfg)
    cfg.retries = 0
    api = client.ApiClient(cfg)
    yield client.CoreV1Api(api)
    api.close()


def _subparser() -> argparse.ArgumentParser:
    local = next(a for a in build_parser()._actions if isinstance(a, argparse._SubParsersAction)).choices["local"]
    lsub = next(a for a in local._actions if isinstance(a, argparse._SubParsersAction))
    return lsub.choices["api-faults"]


def test_every_option_has_help_text() -> None:
    missing = [a.option_strings for a in _subparser()._actions if a.option_strings and not a.help]
    assert missing == []


def test_help_lists_the_faults_and_the_endpoint() -> None:
    result = subprocess.run([*AZCHAOS, "local", "api-faults", "--help"], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0
    for word in ("--error500", "--unavailable503", "--throttle429", "--slow", "--slow-delay", "--drop-watch",
                 "--verbs", "--path", "--seed", "--off", "--show", "/azchaos/v1/api-faults"):
        assert word in result.stdout, word


def test_set_makes_requests_fail_and_prints_the_switch(cluster: ClusterHandle, core: client.CoreV1Api) -> None:
    result = _faults(cluster.kubeconfig, "--error500", "1", "--verbs", "list", "--path", "/namespaces$", "--seed", "5")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == ("API faults: error500 100% of verbs list and path ~ /namespaces$ (seed 5); "
                                     "requests matched: 0, injected: none yet")
    with pytest.raises(client.ApiException) as info:
        core.list_namespace()
    assert info.value.status == 500
    core.read_namespace("default")  # a get is not aimed at
    state = get_api_faults(cluster.kubeconfig)
    assert (state["kinds"], state["verbs"], state["path"], state["seed"]) == (
        {"error500": {"fraction": 1.0, "message": "injected by azchaos api-faults"}}, ["list"], "/namespaces$", 5)


def test_every_kind_and_its_options_reach_the_server(cluster: ClusterHandle) -> None:
    result = _faults(cluster.kubeconfig, "--unavailable503", "0.1", "--throttle429", "0.2", "--retry-after", "3",
                     "--slow", "0.3", "--slow-delay", "0.25", "--drop-watch", "0.4", "--drop-watch-after", "2",
                     "--verbs", "get,list", "watch")
    assert result.returncode == 0, result.stderr
    state = get_api_faults(cluster.kubeconfig)
    assert state["kinds"] == {"unavailable503": {"fraction": 0.1,
                                                 "message": "the server is currently unable to handle the request"},
                              "throttle429": {"fraction": 0.2, "retryAfter": 3},
                              "slow": {"fraction": 0.3, "delay": 0.25},
                              "drop-watch": {"fraction": 0.4, "after": 2.0}}
    assert state["verbs"] == ["get", "list", "watch"]


def test_show_prints_the_counters_and_json(cluster: ClusterHandle, core: client.CoreV1Api) -> None:
    assert _faults(cluster.kubeconfig, "--throttle429", "1", "--seed", "1").returncode == 0
    with pytest.raises(client.ApiException):
        core.list_namespace()
    result = _faults(cluster.kubeconfig, "--show", "--json")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == ("API faults: throttle429 100% (Retry-After: 1) of all API requests (seed 1); "
                        "requests matched: 1, injected: throttle429 1")
    assert json.loads("\n".join(lines[1:]))["injected"]["throttle429"] == 1


def test_no_option_shows_the_switch(cluster: ClusterHandle) -> None:
    result = _faults(cluster.kubeconfig)
    assert (result.returncode, result.stdout.strip()) == (0, "API faults: off")


def test_off_clears_and_says_what_was_on(cluster: ClusterHandle, core: client.CoreV1Api) -> None:
    assert _faults(cluster.kubeconfig, "--error500", "1", "--seed", "2").returncode == 0
    with pytest.raises(client.ApiException):
        core.list_namespace()
    result = _faults(cluster.kubeconfig, "--off")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == ("API faults switched off; they were: error500 100% of all API requests "
                                     "(seed 2); requests matched: 1, injected: error500 1")
    core.list_namespace()
    assert get_api_faults(cluster.kubeconfig)["active"] is False


def test_the_same_seed_from_the_cli_replays_the_same_faults(cluster: ClusterHandle, core: client.CoreV1Api) -> None:
    def run() -> list[int]:
        assert _faults(cluster.kubeconfig, "--error500", "0.5", "--seed", "11").returncode == 0
        out = []
        for _ in range(20):
            try:
                core.read_namespace("default")
                out.append(200)
            except client.ApiException as e:
                out.append(e.status)
        return out

    first = run()
    assert first == run()
    assert set(first) == {200, 500}


@pytest.mark.parametrize(("args", "words"), [
    (["--error500", "1.5"], "argument --error500: '1.5' is not a fraction: give a number from 0 to 1"),
    (["--slow", "-0.1"], "argument --slow: '-0.1' is not a fraction"),
    (["--error500", "0.6", "--throttle429", "0.6"], "add up to 1.2"),
    (["--verbs", "fetch", "--error500", "0.1"], "argument --verbs: 'fetch': use Kubernetes verbs"),
    (["--path", "(", "--error500", "0.1"], "is not a valid regular expression"),
    (["--verbs", "get"], "--verbs only narrow a fault: give one too, e.g. --error500 0.1"),
    (["--slow-delay", "2"], "give --slow FRACTION too"),
    (["--retry-after", "2"], "give --throttle429 FRACTION too"),
    (["--drop-watch-after", "2"], "give --drop-watch FRACTION too"),
    (["--off", "--error500", "0.1"], "--off switches every fault off: drop --error500 or --off"),
    (["--bogus", "0.1"], "unrecognized arguments: --bogus"),
])
def test_bad_input_exits_2_naming_the_fix(cluster: ClusterHandle, args: list[str], words: str) -> None:
    result = _faults(cluster.kubeconfig, *args)
    assert result.returncode == 2
    assert words in result.stderr
    assert get_api_faults(cluster.kubeconfig)["active"] is False


def test_an_unreachable_server_exits_2_naming_the_fix(tmp_path: Path) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    kubeconfig = tmp_path / "kubeconfig"
    kubeconfig.write_text(json.dumps(kubeconfig_document(f"http://127.0.0.1:{port}")))
    result = _faults(kubeconfig, "--error500", "0.1")
    assert result.returncode == 2
    assert f"cannot reach the API server at http://127.0.0.1:{port}" in result.stderr
    assert f"azchaos local up --detach --kubeconfig {kubeconfig}" in result.stderr


def test_a_missing_kubeconfig_exits_2_naming_the_fix(tmp_path: Path) -> None:
    result = _faults(tmp_path / "nope", "--show")
    assert result.returncode == 2
    assert "does not exist: pass --kubeconfig PATH of the kubeconfig `azchaos local up` wrote" in result.stderr


def test_a_real_cluster_is_refused(tmp_path: Path) -> None:
    kubeconfig = tmp_path / "kubeconfig"
    kubeconfig.write_text(json.dumps(kubeconfig_document("https://staging.example.com:443")))
    result = _faults(kubeconfig, "--error500", "0.1")
    assert result.returncode == 2
    assert "is not an embedded azchaos cluster: API faults exist only in the embedded cluster" in result.stderr
