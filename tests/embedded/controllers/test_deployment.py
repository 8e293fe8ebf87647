"""Deployment controller against the embedded cluster: ReplicaSets, rolling updates, status, kubectl rollout."""

from __future__ import annotations

import subprocess
import time
from typing import Any

from .podsim import is_ready, pods_of, ready_all, set_ready, template, wait_for

LABELS = {"app": "web"}
SELECTOR = "app=web"
SAFE = set("bcdfghjklmnpqrstvwxz2456789")


def _deploy(apps: Any, namespace: str, replicas: int = 3, strategy: dict | None = None) -> Any:
    spec: dict[str, Any] = {"replicas": replicas, "selector": {"matchLabels": LABELS}, "template": template(LABELS)}
    if strategy:
        spec["strategy"] = strategy
    return apps.create_namespaced_deployment(namespace, {"apiVersion": "apps/v1", "kind": "Deployment",
                                                         "metadata": {"name": "web"}, "spec": spec})


def _complete(apps: Any, namespace: str, replicas: int) -> Any:
    d = apps.read_namespaced_deployment("web", namespace)
    s = d.status
    ok = (s.observed_generation == d.metadata.generation and s.updated_replicas == replicas
          and s.replicas == replicas and s.available_replicas == replicas)
    return ok and d


def _ready_live(core: Any, namespace: str) -> int:
    return sum(1 for p in pods_of(core, namespace, SELECTOR) if is_ready(p))


def test_replicaset_named_after_pod_template_hash(apps, core, namespace):
    d = _deploy(apps, namespace)
    rs = wait_for(lambda: apps.list_namespaced_replica_set(namespace).items)[0]
    h = rs.metadata.labels["pod-template-hash"]
    assert rs.metadata.name == f"web-{h}" and 8 <= len(h) <= 10 and set(h) <= SAFE
    assert rs.spec.selector.match_labels == {"app": "web", "pod-template-hash": h}
    assert rs.metadata.annotations == {"deployment.kubernetes.io/desired-replicas": "3",
                                       "deployment.kubernetes.io/max-replicas": "4",
                                       "deployment.kubernetes.io/revision": "1"}
    ref = rs.metadata.owner_references[0]
    assert (ref.kind, ref.uid, ref.controller, ref.block_owner_deletion) == ("Deployment", d.metadata.uid, True, True)
    ev = wait_for(lambda: [e for e in core.list_namespaced_event(namespace).items if e.reason == "ScalingReplicaSet"])
    assert ev[0].message == f"Scaled up replica set {rs.metadata.name} from 0 to 3"
    assert ev[0].source.component == "deployment-controller"


def test_status_and_conditions_before_and_after_pods_are_ready(apps, core, namespace):
    _deploy(apps, namespace)
    # The sync that creates the ReplicaSet says NewReplicaSetCreated; the next one (on the ReplicaSet's status)
    # ReplicaSetUpdated, as upstream. Either may be the first to report 3 unavailable.
    d = wait_for(lambda: (d := apps.read_namespaced_deployment("web", namespace)).status.unavailable_replicas == 3
                 and any(c.reason == "ReplicaSetUpdated" for c in d.status.conditions or ()) and d)
    rs_name = apps.list_namespaced_replica_set(namespace).items[0].metadata.name
    conds = {c.type: (c.status, c.reason, c.message) for c in d.status.conditions}
    assert conds == {"Available": ("False", "MinimumReplicasUnavailable",
                                   "Deployment does not have minimum availability."),
                     "Progressing": ("True", "ReplicaSetUpdated", f'ReplicaSet "{rs_name}" is progressing.')}
    assert d.metadata.annotations["deployment.kubernetes.io/revision"] == "1"
    assert (d.status.replicas, d.status.updated_replicas, d.status.ready_replicas) == (3, 3, None)
    wait_for(lambda: len(pods_of(core, namespace, SELECTOR)) == 3)
    ready_all(core, namespace, SELECTOR)
    d = wait_for(lambda: _complete(apps, namespace, 3))
    conds = {c.type: (c.status, c.reason, c.message) for c in d.status.conditions}
    assert conds == {"Available": ("True", "MinimumReplicasAvailable", "Deployment has minimum availability."),
                     "Progressing": ("True", "NewReplicaSetAvailable",
                                     f'ReplicaSet "{rs_name}" has successfully progressed.')}
    assert (d.status.ready_replicas, d.status.unavailable_replicas, d.status.terminating_replicas) == (3, None, 0)


def test_rolling_update_max_unavailable_0_never_drops_below_desired_ready(apps, core, namespace):
    _deploy(apps, namespace, 3, {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": 1, "maxUnavailable": 0}})
    wait_for(lambda: len(pods_of(core, namespace, SELECTOR)) == 3)
    ready_all(core, namespace, SELECTOR)
    wait_for(lambda: _complete(apps, namespace, 3))
    apps.patch_namespaced_deployment("web", namespace, {"spec": {"template": {"metadata": {
        "annotations": {"rev": "2"}}}}})
    deadline = time.monotonic() + 30
    steps = 0
    while not _complete(apps, namespace, 3) or steps == 0:
        assert time.monotonic() < deadline, "rollout did not finish"
        live = pods_of(core, namespace, SELECTOR)
        assert sum(1 for p in live if is_ready(p)) >= 3
        assert len(live) <= 4
        pending = [p for p in live if not is_ready(p)]
        if pending:
            set_ready(core, namespace, pending[0].metadata.name)
            steps += 1
        time.sleep(0.1)
    assert steps == 3
    rss = {rs.metadata.annotations["deployment.kubernetes.io/revision"]: rs.spec.replicas
           for rs in apps.list_namespaced_replica_set(namespace).items}
    assert rss == {"1": 0, "2": 3}
    assert _ready_live(core, namespace) == 3


def test_scale_mid_rollout_is_proportional(apps, core, namespace):
    # The golden case: 3 ready old pods, new pods never ready, then scale to 5.
    _deploy(apps, namespace, 3)
    wait_for(lambda: len(pods_of(core, namespace, SELECTOR)) == 3)
    ready_all(core, namespace, SELECTOR)
    wait_for(lambda: _complete(apps, namespace, 3))
    apps.patch_namespaced_deployment("web", namespace, {"spec": {"template": {"spec": {"containers": [
        {"name": "c", "image": "registry.k8s.io/pause:3.9"}]}}}})
    wait_for(lambda: apps.read_namespaced_deployment("web", namespace).status.updated_replicas == 1)
    apps.patch_namespaced_deployment_scale("web", namespace, {"spec": {"replicas": 5}})

    def sizes() -> Any:
        out = {rs.metadata.annotations["deployment.kubernetes.io/revision"]: rs.spec.replicas
               for rs in apps.list_namespaced_replica_set(namespace).items}
        return out == {"1": 4, "2": 3} and out

    wait_for(sizes)
    msgs = [e.message for e in core.list_namespaced_event(namespace).items if e.reason == "ScalingReplicaSet"]
    assert any(m.endswith("from 3 to 5") for m in msgs) and any(m.endswith("from 5 to 4") for m in msgs)


def test_recreate_scales_old_down_before_creating_new(apps, core, namespace):
    _deploy(apps, namespace, 2, {"type": "Recreate"})
    wait_for(lambda: len(pods_of(core, namespace, SELECTOR)) == 2)
    ready_all(core, namespace, SELECTOR)
    wait_for(lambda: _complete(apps, namespace, 2))
    apps.patch_namespaced_deployment("web", namespace, {"spec": {"template": {"metadata": {
        "annotations": {"rev": "2"}}}}})
    wait_for(lambda: len(apps.list_namespaced_replica_set(namespace).items) == 2)
    pods = wait_for(lambda: (p := pods_of(core, namespace, SELECTOR)) and len(p) == 2 and p)
    new_hash = next(rs.metadata.labels["pod-template-hash"] for rs in apps.list_namespaced_replica_set(namespace).items
                    if rs.metadata.annotations["deployment.kubernetes.io/revision"] == "2")
    assert all(p.metadata.labels["pod-template-hash"] == new_hash for p in pods)


def test_revision_history_limit_deletes_old_replicasets(apps, core, namespace):
    body = _deploy(apps, namespace, 1)
    apps.patch_namespaced_deployment("web", namespace, {"spec": {"revisionHistoryLimit": 1}})
    for rev in range(2, 5):
        wait_for(lambda: len(pods_of(core, namespace, SELECTOR)) >= 1)
        ready_all(core, namespace, SELECTOR)
        wait_for(lambda: _complete(apps, namespace, 1))
        apps.patch_namespaced_deployment("web", namespace, {"spec": {"template": {"metadata": {
            "annotations": {"rev": str(rev)}}}}})
        wait_for(lambda rev=rev: apps.read_namespaced_deployment("web", namespace).metadata.annotations[
            "deployment.kubernetes.io/revision"] == str(rev))
    wait_for(lambda: len(pods_of(core, namespace, SELECTOR)) >= 1)
    ready_all(core, namespace, SELECTOR)
    wait_for(lambda: _complete(apps, namespace, 1))
    revs = wait_for(lambda: (r := sorted(rs.metadata.annotations["deployment.kubernetes.io/revision"]
                                         for rs in apps.list_namespaced_replica_set(namespace).items))
                    and len(r) == 2 and r)
    assert revs == ["3", "4"] and body.metadata.name == "web"


def test_kubectl_rollout_restart_and_status_finish(apps, core, namespace, kubectl_path, kubeconfig):
    _deploy(apps, namespace, 2)
    wait_for(lambda: len(pods_of(core, namespace, SELECTOR)) == 2)
    ready_all(core, namespace, SELECTOR)
    wait_for(lambda: _complete(apps, namespace, 2))
    kubectl = [kubectl_path, "--kubeconfig", str(kubeconfig), "-n", namespace]
    subprocess.run([*kubectl, "rollout", "restart", "deployment/web"], check=True, capture_output=True, timeout=30)
    status = subprocess.Popen([*kubectl, "rollout", "status", "deployment/web", "--timeout=40s"],
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        deadline = time.monotonic() + 40
        while status.poll() is None and time.monotonic() < deadline:
            ready_all(core, namespace, SELECTOR)
            time.sleep(0.2)
        out = status.communicate(timeout=10)[0]
    finally:
        if status.poll() is None:
            status.kill()
    assert status.returncode == 0, out
    assert 'deployment "web" successfully rolled out' in out
    assert len(apps.list_namespaced_replica_set(namespace).items) == 2
