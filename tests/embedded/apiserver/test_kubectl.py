"""kubectl (the real binary) against the embedded API server: discovery, OpenAPI-backed apply,
protobuf bodies from the typed clients, server-side Tables, watch, patch, cordon and drain."""

from __future__ import annotations

import json
import re
import subprocess
import time
import uuid
from collections.abc import Callable
from pathlib import Path

import pytest

Kubectl = Callable[..., subprocess.CompletedProcess[str]]

DEPLOYMENT = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  replicas: 1
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      containers:
      - name: app
        image: IMAGE
        ports: [{containerPort: 80}]
        resources: {limits: {cpu: 500m}}
      - name: sidecar
        image: busybox:1.36
"""


@pytest.fixture(scope="session")
def kubectl_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A discovery/OpenAPI cache of our own, so other clusters on the same address cannot leak in."""
    return tmp_path_factory.mktemp("kubectl-cache")


@pytest.fixture
def kubectl(kubectl_path: str, kubeconfig: Path, kubectl_cache: Path, namespace: str) -> Kubectl:
    def run(*args: str, stdin: str | None = None, check: bool = True, timeout: float = 30) -> \
            subprocess.CompletedProcess[str]:
        cmd = [kubectl_path, "--kubeconfig", str(kubeconfig), "--cache-dir", str(kubectl_cache), "-n", namespace,
               *args]
        proc = subprocess.run(cmd, input=stdin, capture_output=True, text=True, timeout=timeout)
        if check and proc.returncode != 0:
            raise AssertionError(f"{' '.join(args)} failed ({proc.returncode}): {proc.stderr}")
        return proc

    return run


def _deployment(image: str) -> str:
    return DEPLOYMENT.replace("IMAGE", image)


def test_api_resources_lists_served_resources(kubectl: Kubectl) -> None:
    out = kubectl("api-resources", "--no-headers").stdout
    names = {line.split()[0] for line in out.splitlines() if line.strip()}
    assert {"pods", "nodes", "deployments", "poddisruptionbudgets", "leases", "endpointslices"} <= names


def test_get_nodes_with_zone_label_column_lists_six_nodes_in_three_zones(kubectl: Kubectl) -> None:
    out = kubectl("get", "nodes", "-L", "topology.kubernetes.io/zone", "--no-headers").stdout
    rows = [line.split() for line in out.splitlines() if line.strip()]
    assert len(rows) == 6
    assert len({row[-1] for row in rows}) == 3
    assert all(row[1].startswith("Ready") for row in rows)


def test_get_nodes_wide_shows_internal_ips(kubectl: Kubectl, core) -> None:
    out = kubectl("get", "nodes", "-o", "wide").stdout
    header = out.splitlines()[0].split()
    assert header[:5] == ["NAME", "STATUS", "ROLES", "AGE", "VERSION"]
    assert "INTERNAL-IP" in header and "CONTAINER-RUNTIME" in header
    node = core.list_node().items[0]
    internal = next(a.address for a in node.status.addresses if a.type == "InternalIP")
    assert internal in out


def test_apply_with_validation_creates_a_deployment(kubectl: Kubectl, apps, namespace: str) -> None:
    proc = kubectl("apply", "-f", "-", stdin=_deployment("nginx:1.25"))
    assert "deployment.apps/web created" in proc.stdout
    dep = apps.read_namespaced_deployment("web", namespace)
    assert "kubectl.kubernetes.io/last-applied-configuration" in dep.metadata.annotations


def test_second_apply_updates_image_and_keeps_other_container(kubectl: Kubectl, apps, namespace: str) -> None:
    kubectl("apply", "-f", "-", stdin=_deployment("nginx:1.25"))
    proc = kubectl("apply", "-f", "-", stdin=_deployment("nginx:1.27"))
    assert "deployment.apps/web configured" in proc.stdout
    assert "warning" not in proc.stderr.lower()  # the patch came from our OpenAPI schema, not a fallback
    containers = apps.read_namespaced_deployment("web", namespace).spec.template.spec.containers
    assert [(c.name, c.image) for c in containers] == [("app", "nginx:1.27"), ("sidecar", "busybox:1.36")]
    assert containers[0].resources.limits == {"cpu": "500m"}


def test_apply_of_unknown_field_is_rejected_by_strict_server_validation(kubectl: Kubectl) -> None:
    manifest = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: bad}\ndata: {a: b}\nbogus: 1\n"
    proc = kubectl("apply", "-f", "-", stdin=manifest, check=False)
    assert proc.returncode != 0
    assert 'strict decoding error: unknown field "bogus"' in proc.stderr


def test_create_configmap_generator_decodes_protobuf_body(kubectl: Kubectl, core, namespace: str) -> None:
    kubectl("create", "configmap", "foo", "--from-literal=a=b", "--from-literal=c=d")
    cm = core.read_namespaced_config_map("foo", namespace)
    assert cm.data == {"a": "b", "c": "d"}


def test_create_secret_generator_keeps_bytes(kubectl: Kubectl, core, namespace: str) -> None:
    kubectl("create", "secret", "generic", "s", "--from-literal=password=hunter2")
    secret = core.read_namespaced_secret("s", namespace)
    assert secret.type == "Opaque"
    assert secret.data == {"password": "aHVudGVyMg=="}


def test_create_namespace_generator(kubectl: Kubectl, core) -> None:
    name = "kc-" + uuid.uuid4().hex[:8]
    try:
        kubectl("create", "namespace", name)
        assert core.read_namespace(name).status.phase == "Active"
    finally:
        kubectl("delete", "namespace", name, "--wait=false", check=False)


def test_get_watch_streams_a_configmap_created_by_the_client(kubectl_path: str, kubeconfig: Path,
                                                             kubectl_cache: Path, core, namespace: str) -> None:
    from kubernetes import client

    with subprocess.Popen(
            [kubectl_path, "--kubeconfig", str(kubeconfig), "--cache-dir", str(kubectl_cache), "-n", namespace,
             "get", "configmaps", "-w", "--no-headers", "--watch-only"],
            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True) as proc:
        try:
            time.sleep(1.0)  # let the watch open before the write
            core.create_namespaced_config_map(namespace, client.V1ConfigMap(
                metadata=client.V1ObjectMeta(name="watched"), data={"k": "v", "k2": "v2"}))
            assert proc.stdout is not None
            line = proc.stdout.readline()
        finally:
            proc.terminate()
            proc.wait(timeout=10)
    # Server-side Table columns: NAME DATA AGE (a client-side fallback would print NAME AGE).
    assert line.split()[:2] == ["watched", "2"]


def test_describe_deployment(kubectl: Kubectl) -> None:
    kubectl("apply", "-f", "-", stdin=_deployment("nginx:1.25"))
    out = kubectl("describe", "deployment", "web").stdout
    assert re.search(r"^Selector:\s+app=web$", out, re.M)
    assert re.search(r"^Replicas:\s+1 desired", out, re.M)
    assert re.search(r"^\s+Image:\s+nginx:1.25$", out, re.M)
    assert re.search(r"^\s+sidecar:$", out, re.M)


@pytest.mark.parametrize(("patch_type", "patch"), [
    ("strategic", '{"spec":{"template":{"spec":{"containers":[{"name":"app","image":"nginx:2"}]}}}}'),
    ("merge", '{"metadata":{"labels":{"tier":"front"}},"spec":{"replicas":3}}'),
    ("json", '[{"op":"replace","path":"/spec/replicas","value":4}]'),
])
def test_patch_deployment(kubectl: Kubectl, apps, namespace: str, patch_type: str, patch: str) -> None:
    kubectl("apply", "-f", "-", stdin=_deployment("nginx:1.25"))
    kubectl("patch", "deployment", "web", "--type", patch_type, "-p", patch)
    dep = apps.read_namespaced_deployment("web", namespace)
    if patch_type == "strategic":
        assert [(c.name, c.image) for c in dep.spec.template.spec.containers] == [
            ("app", "nginx:2"), ("sidecar", "busybox:1.36")]
    elif patch_type == "merge":
        assert dep.metadata.labels == {"tier": "front"} and dep.spec.replicas == 3
    else:
        assert dep.spec.replicas == 4


def test_label_and_annotate(kubectl: Kubectl, core, namespace: str) -> None:
    kubectl("create", "configmap", "tagged", "--from-literal=a=b")
    kubectl("label", "configmap", "tagged", "team=chaos")
    kubectl("annotate", "configmap", "tagged", "note=hello")
    kubectl("label", "configmap", "tagged", "team-")
    meta = core.read_namespaced_config_map("tagged", namespace).metadata
    assert not meta.labels
    assert meta.annotations == {"note": "hello"}


def test_cordon_and_uncordon_toggle_unschedulable(kubectl: Kubectl, core) -> None:
    node = sorted(n.metadata.name for n in core.list_node().items)[-1]
    try:
        assert f"node/{node} cordoned" in kubectl("cordon", node).stdout
        assert core.read_node(node).spec.unschedulable is True
        row = kubectl("get", "node", node, "--no-headers").stdout.split()
        assert row[1] == "Ready,SchedulingDisabled"
    finally:
        assert f"node/{node} uncordoned" in kubectl("uncordon", node).stdout
    assert not core.read_node(node).spec.unschedulable


def test_scale_deployment(kubectl: Kubectl, apps, namespace: str) -> None:
    kubectl("apply", "-f", "-", stdin=_deployment("nginx:1.25"))
    assert "deployment.apps/web scaled" in kubectl("scale", "deployment", "web", "--replicas=5").stdout
    assert apps.read_namespaced_deployment("web", namespace).spec.replicas == 5


def test_delete_configmap(kubectl: Kubectl, core, namespace: str) -> None:
    from kubernetes import client

    kubectl("create", "configmap", "doomed", "--from-literal=a=b")
    assert 'configmap "doomed" deleted' in kubectl("delete", "configmap", "doomed").stdout
    with pytest.raises(client.ApiException) as e:
        core.read_namespaced_config_map("doomed", namespace)
    assert e.value.status == 404


def test_drain_evicts_a_pending_bound_pod(kubectl: Kubectl, core, namespace: str) -> None:
    from kubernetes import client

    node = sorted(n.metadata.name for n in core.list_node().items)[0]
    label = "drain-" + uuid.uuid4().hex[:6]
    core.create_namespaced_pod(namespace, client.V1Pod(
        metadata=client.V1ObjectMeta(name="victim", labels={"drain": label}),
        spec=client.V1PodSpec(scheduler_name="no-such-scheduler",
                              containers=[client.V1Container(name="c", image="busybox:1.36")])))
    binding = client.V1Binding(metadata=client.V1ObjectMeta(name="victim"),
                               target=client.V1ObjectReference(kind="Node", api_version="v1", name=node))
    core.create_namespaced_binding(namespace, binding, _preload_content=False)
    assert core.read_namespaced_pod("victim", namespace).spec.node_name == node
    try:
        proc = kubectl("drain", node, "--ignore-daemonsets", "--delete-emptydir-data", "--disable-eviction=false",
                       "--force", f"--pod-selector=drain={label}", "--timeout=10s", check=False, timeout=40)
    finally:
        kubectl("uncordon", node)
    assert f"evicting pod {namespace}/victim" in proc.stderr + proc.stdout
    try:
        pod = core.read_namespaced_pod("victim", namespace)
    except client.ApiException as e:
        assert e.status == 404
    else:
        assert pod.metadata.deletion_timestamp is not None
        assert any(c.type == "DisruptionTarget" for c in pod.status.conditions or [])


def test_get_pods_shows_server_side_columns(kubectl: Kubectl, core, namespace: str) -> None:
    from kubernetes import client

    core.create_namespaced_pod(namespace, client.V1Pod(
        metadata=client.V1ObjectMeta(name="lonely"),
        spec=client.V1PodSpec(scheduler_name="no-such-scheduler",
                              containers=[client.V1Container(name="c", image="busybox:1.36")])))
    out = kubectl("get", "pods", "-o", "wide").stdout.splitlines()
    assert out[0].split() == ["NAME", "READY", "STATUS", "RESTARTS", "AGE", "IP", "NODE", "NOMINATED", "NODE",
                              "READINESS", "GATES"]
    row = out[1].split()
    assert row[:4] == ["lonely", "0/1", "Pending", "0"]
    assert row[5:] == ["<none>", "<none>", "<none>", "<none>"]


def test_get_json_output_is_the_stored_object(kubectl: Kubectl) -> None:
    kubectl("create", "configmap", "plain", "--from-literal=a=b")
    obj = json.loads(kubectl("get", "configmap", "plain", "-o", "json").stdout)
    assert obj["kind"] == "ConfigMap" and obj["data"] == {"a": "b"}
