"""A kubeconfig context declares its cluster's timing profile; the plugin and kubectl both read that file."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
import yaml

from pytest_azchaos.kube.kubeconfig import declared_profile, profile_extension
from pytest_azchaos.settings import SettingsError, build

OPTIONS = dict(context=None, cluster=None, zone=None, seed=None, namespace_prefix=None, allow_contexts=None,
               dry_run=False, error_budget=None, rate=None, report_dir=None, keep_on_failure=False)


def kubeconfig_with(tmp_path: Path, **profiles: str | None) -> Path:
    """A kubeconfig with one context per keyword (the first is current), each declaring its profile or none."""
    contexts = []
    for name, profile in profiles.items():
        context = {"cluster": "c", "user": "u"}
        if profile is not None:
            context["extensions"] = [profile_extension(profile)]
        contexts.append({"name": name, "context": context})
    path = tmp_path / "kubeconfig"
    path.write_text(yaml.safe_dump({"apiVersion": "v1", "kind": "Config", "current-context": contexts[0]["name"],
                                    "clusters": [{"name": "c", "cluster": {"server": "https://127.0.0.1:1"}}],
                                    "users": [{"name": "u", "user": {"token": "t"}}], "contexts": contexts}))
    return path


def test_the_embedded_clusters_kubeconfig_declares_its_profile(kubeconfig: Path) -> None:
    assert declared_profile(kubeconfig) == "fast"


def test_each_context_declares_its_own_profile(tmp_path: Path) -> None:
    path = kubeconfig_with(tmp_path, staging="realistic", lab="fast", prod=None)
    assert [declared_profile(path, c) for c in (None, "lab", "prod")] == ["realistic", "fast", None]


def test_a_declared_profile_is_the_runs_profile_unless_the_option_overrides_it(tmp_path: Path) -> None:
    path = str(kubeconfig_with(tmp_path, lab="fast"))
    assert build(kubeconfig=path, profile=None, **OPTIONS).effective_profile() == "fast"
    assert build(kubeconfig=path, profile="realistic", **OPTIONS).effective_profile() == "realistic"


def test_without_a_declaration_a_cluster_gets_the_realistic_profile(tmp_path: Path) -> None:
    path = str(kubeconfig_with(tmp_path, prod=None))
    assert build(kubeconfig=path, profile=None, **OPTIONS).effective_profile() == "realistic"


def test_an_unknown_declared_profile_stops_the_run_with_the_fix(tmp_path: Path) -> None:
    path = str(kubeconfig_with(tmp_path, lab="slow"))
    with pytest.raises(SettingsError, match=r"declares the timing profile 'slow'.*pass --azchaos-profile"):
        build(kubeconfig=path, profile=None, **OPTIONS)


def test_kubectl_keeps_and_ignores_the_extension(kubectl_path: str, kubeconfig: Path) -> None:
    view = json.loads(subprocess.run([kubectl_path, "--kubeconfig", str(kubeconfig), "config", "view", "-o", "json"],
                                     capture_output=True, text=True, check=True).stdout)
    (context,) = view["contexts"]
    assert context["context"]["extensions"][0]["name"] == "azchaos.io/timing-profile"
    nodes = subprocess.run([kubectl_path, "--kubeconfig", str(kubeconfig), "get", "nodes", "-o", "name"],
                           capture_output=True, text=True, check=True).stdout.split()
    assert len(nodes) == 6
