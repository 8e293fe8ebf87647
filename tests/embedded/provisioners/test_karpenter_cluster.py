"""An embedded cluster started with ``provisioner="karpenter"``: Karpenter v1's CRDs served by the API server
and its controller launching, replacing and disrupting nodes, through kubectl, the official client and boto3
against moto over HTTP."""

from __future__ import annotations

import json
import shutil
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from kubernetes import client

from pytest_azchaos.embedded.process import ClusterHandle

from ...clusters import api_client, own_cluster
from ..waiting import wait_for

ZONE = "topology.kubernetes.io/zone"
GROUP, VERSION = "karpenter.sh", "v1"


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ClusterHandle]:
    from pytest_azchaos.embedded.topology import Topology

    with own_cluster(tmp_path_factory.mktemp("karpenter"), topology=Topology.make(zones=3, nodes_per_zone=1),
                     profile="fast", provisioner="karpenter") as handle:
        yield handle


@pytest.fixture(scope="module")
def api(cluster: ClusterHandle) -> Iterator[client.ApiClient]:
    with api_client(cluster) as api:
        yield api


@pytest.fixture(scope="module")
def ec2(cluster: ClusterHandle) -> Any:
    env = cluster.aws_env
    return boto3.session.Session(aws_access_key_id=env["AWS_ACCESS_KEY_ID"],
                                 aws_secret_access_key=env["AWS_SECRET_ACCESS_KEY"],
                                 region_name=env["AWS_DEFAULT_REGION"]).client(
        "ec2", endpoint_url=env["AWS_ENDPOINT_URL"])


@pytest.fixture
def ns(api: client.ApiClient) -> Iterator[str]:
    core = client.CoreV1Api(api)
    name = f"karp-{uuid.uuid4().hex[:6]}"
    core.create_namespace({"metadata": {"name": name}})
    yield name
    core.delete_namespace(name)


@pytest.fixture
def default_pool(api: client.ApiClient) -> Iterator[dict]:
    """The default NodePool, put back as it was after the test."""
    custom = client.CustomObjectsApi(api)
    before = custom.get_cluster_custom_object(GROUP, VERSION, "nodepools", "default")
    yield before
    now = custom.get_cluster_custom_object(GROUP, VERSION, "nodepools", "default")
    custom.patch_cluster_custom_object(GROUP, VERSION, "nodepools", "default",
                                       {"spec": {**before["spec"]}, "metadata": {
                                           "resourceVersion": now["metadata"]["resourceVersion"]}})


def _claims(api: client.ApiClient) -> list[dict]:
    return client.CustomObjectsApi(api).list_cluster_custom_object(GROUP, VERSION, "nodeclaims")["items"]


def _pod(core: client.CoreV1Api, ns: str, name: str, zone: str | None = None) -> None:
    """A pod only a Karpenter node can take (the static node group lacks karpenter.sh/capacity-type)."""
    selector = {"karpenter.sh/capacity-type": "on-demand", **({ZONE: zone} if zone else {})}
    core.create_namespaced_pod(ns, {"metadata": {"name": name}, "spec": {
        "nodeSelector": selector, "terminationGracePeriodSeconds": 0,
        "containers": [{"name": "c", "image": "registry.k8s.io/pause:3.10",
                        "resources": {"requests": {"cpu": "100m"}}}]}})


def _claim_for_node(api: client.ApiClient, node: str) -> dict | None:
    return next((c for c in _claims(api) if (c.get("status") or {}).get("nodeName") == node), None)


def _bound_node(core: client.CoreV1Api, ns: str, name: str, timeout: float = 30.0) -> str:
    pod = wait_for(lambda: core.read_namespaced_pod(name, ns), lambda p: bool(p.spec.node_name), timeout=timeout,
                   what=f"pod {name} bound to a node Karpenter launched")
    return str(pod.spec.node_name)


def test_kubectl_gets_nodepools_and_nodeclaims_and_applies_a_nodepool(cluster: ClusterHandle,
                                                                       tmp_path: Path) -> None:
    if shutil.which("kubectl") is None:
        pytest.skip("kubectl is not installed")
    k = ["kubectl", "--kubeconfig", str(cluster.kubeconfig)]
    out = subprocess.run([*k, "get", "nodepools,nodeclaims,ec2nodeclasses"], capture_output=True, text=True,
                         timeout=30)
    assert out.returncode == 0, out.stderr
    assert "nodepool.karpenter.sh/default" in out.stdout and "NODECLASS" in out.stdout, out.stdout
    assert "ec2nodeclass.karpenter.k8s.aws/default" in out.stdout, out.stdout
    manifest = tmp_path / "pool.yaml"
    manifest.write_text(json.dumps({
        "apiVersion": "karpenter.sh/v1", "kind": "NodePool", "metadata": {"name": "applied"},
        "spec": {"limits": {"cpu": "0"}, "disruption": {"consolidateAfter": "30s"}, "template": {"spec": {
            "nodeClassRef": {"group": "karpenter.k8s.aws", "kind": "EC2NodeClass", "name": "default"},
            "requirements": [{"key": ZONE, "operator": "In", "values": ["us-east-1a"]}]}}}}))
    applied = subprocess.run([*k, "apply", "-f", str(manifest)], capture_output=True, text=True, timeout=30)
    assert applied.returncode == 0 and "nodepool.karpenter.sh/applied created" in applied.stdout, applied
    got = json.loads(subprocess.run([*k, "get", "nodepool", "applied", "-o", "json"], capture_output=True,
                                    text=True, timeout=30).stdout)
    assert got["spec"]["disruption"]["budgets"] == [{"nodes": "10%"}], got["spec"]  # the CRD's default
    assert got["spec"]["disruption"]["consolidationPolicy"] == "WhenEmptyOrUnderutilized", got["spec"]
    bad = manifest.read_text().replace('"In"', '"Within"')
    manifest.write_text(bad.replace('"applied"', '"bad"'))
    refused = subprocess.run([*k, "apply", "-f", str(manifest)], capture_output=True, text=True, timeout=30)
    assert refused.returncode != 0 and "Unsupported value" in refused.stderr, refused
    subprocess.run([*k, "delete", "nodepool", "applied"], capture_output=True, timeout=30)


def test_karpenter_launches_a_node_for_a_pending_pod_in_an_allowed_zone(api: client.ApiClient, ns: str,
                                                                         ec2: Any) -> None:
    core = client.CoreV1Api(api)
    _pod(core, ns, "wants-b", zone="us-east-1b")
    node_name = _bound_node(core, ns, "wants-b")
    node = core.read_node(node_name)
    labels = node.metadata.labels
    assert labels[ZONE] == "us-east-1b" and labels["karpenter.sh/nodepool"] == "default", labels
    assert labels["node.kubernetes.io/instance-type"] in ("m5.large", "m5.xlarge"), labels
    assert "eks.amazonaws.com/nodegroup" not in labels, labels
    claim = _claim_for_node(api, node_name)
    assert claim is not None, _claims(api)
    conds = {c["type"]: c["status"] for c in claim["status"]["conditions"]}
    assert all(conds.get(t) == "True" for t in ("Launched", "Registered", "Initialized")), conds
    iid = node.spec.provider_id.rsplit("/", 1)[1]
    inst = ec2.describe_instances(InstanceIds=[iid])["Reservations"][0]["Instances"][0]
    assert inst["Placement"]["AvailabilityZone"] == "us-east-1b" and inst["State"]["Name"] == "running", inst
    tags = {t["Key"]: t["Value"] for t in inst.get("Tags") or []}
    assert tags.get("karpenter.sh/nodeclaim") == claim["metadata"]["name"], tags


def test_a_stopped_instance_is_replaced_not_restarted(api: client.ApiClient, ns: str, ec2: Any) -> None:
    core = client.CoreV1Api(api)
    _pod(core, ns, "victim", zone="us-east-1c")
    node_name = _bound_node(core, ns, "victim")
    claim = _claim_for_node(api, node_name)
    assert claim is not None
    iid = core.read_node(node_name).spec.provider_id.rsplit("/", 1)[1]
    ec2.stop_instances(InstanceIds=[iid])
    wait_for(lambda: [c["metadata"]["name"] for c in _claims(api)],
             lambda names: claim["metadata"]["name"] not in names, timeout=30, what="the NodeClaim deleted")
    state = wait_for(lambda: ec2.describe_instances(InstanceIds=[iid])["Reservations"][0]["Instances"][0]["State"],
                     lambda s: s["Name"] in ("shutting-down", "terminated"), timeout=30,
                     what=f"instance {iid} terminated")
    assert state["Name"] in ("shutting-down", "terminated")
    wait_for(lambda: [n.metadata.name for n in core.list_node().items], lambda names: node_name not in names,
             timeout=30, what=f"node {node_name} deleted")


def test_a_pod_the_nodepool_cannot_serve_gets_karpenters_event_naming_the_requirement(
        api: client.ApiClient, ns: str, default_pool: dict) -> None:
    custom = client.CustomObjectsApi(api)
    reqs = [r for r in default_pool["spec"]["template"]["spec"]["requirements"] if r["key"] != ZONE]
    reqs.append({"key": ZONE, "operator": "In", "values": ["us-east-1a"]})
    custom.patch_cluster_custom_object(GROUP, VERSION, "nodepools", "default",
                                       {"spec": {"template": {"spec": {"requirements": reqs}}}})
    core = client.CoreV1Api(api)
    _pod(core, ns, "wants-c", zone="us-east-1c")

    def karpenter_events() -> list[str]:
        return [e.message for e in core.list_namespaced_event(ns).items
                if e.source.component == "karpenter" and e.involved_object.name == "wants-c"]

    messages = wait_for(karpenter_events, bool, timeout=30, what="Karpenter's FailedScheduling event")
    head = 'Failed to schedule pod, incompatible with nodepool "default", daemonset overhead='
    assert messages[0].startswith(head), messages
    assert ("incompatible requirements, key topology.kubernetes.io/zone, topology.kubernetes.io/zone In [us-east-1c] "
            "not in topology.kubernetes.io/zone In [us-east-1a]") in messages[0], messages
    assert not core.read_namespaced_pod("wants-c", ns).spec.node_name


def test_a_requirement_change_drifts_and_replaces_the_nodes_outside_it(api: client.ApiClient, ns: str,
                                                                       default_pool: dict) -> None:
    core = client.CoreV1Api(api)
    _pod(core, ns, "drifter")
    node_name = _bound_node(core, ns, "drifter")
    zone = core.read_node(node_name).metadata.labels[ZONE]
    claim = _claim_for_node(api, node_name)
    assert claim is not None
    reqs = [*default_pool["spec"]["template"]["spec"]["requirements"], {"key": ZONE, "operator": "NotIn",
                                                                         "values": [zone]}]
    client.CustomObjectsApi(api).patch_cluster_custom_object(
        GROUP, VERSION, "nodepools", "default", {"spec": {"template": {"spec": {"requirements": reqs}}}})
    wait_for(lambda: [c["metadata"]["name"] for c in _claims(api)],
             lambda names: claim["metadata"]["name"] not in names, timeout=30, what="the drifted NodeClaim replaced")


def test_budget_zero_freezes_consolidation_and_empty_nodes_go_without_it(api: client.ApiClient, ns: str,
                                                                        default_pool: dict) -> None:
    custom = client.CustomObjectsApi(api)
    custom.patch_cluster_custom_object(GROUP, VERSION, "nodepools", "default", {"spec": {"disruption": {
        "consolidateAfter": "1s", "budgets": [{"nodes": "0"}]}}})
    core = client.CoreV1Api(api)
    _pod(core, ns, "brief")
    node_name = _bound_node(core, ns, "brief")
    core.delete_namespaced_pod("brief", ns, grace_period_seconds=0)
    with pytest.raises(AssertionError):  # frozen: the empty node stays
        wait_for(lambda: _claim_for_node(api, node_name), lambda c: c is None, timeout=4, what="consolidation")
    custom.patch_cluster_custom_object(GROUP, VERSION, "nodepools", "default", {"spec": {"disruption": {
        "budgets": [{"nodes": "10%"}]}}})
    wait_for(lambda: _claim_for_node(api, node_name), lambda c: c is None, timeout=30,
             what=f"empty node {node_name} consolidated")


def test_karpenter_launches_nothing_in_a_zone_under_zonal_shift_and_resumes_after_the_cancel(
        cluster: ClusterHandle, api: client.ApiClient, ns: str, ec2: Any, default_pool: dict) -> None:
    env = cluster.aws_env
    arc = boto3.session.Session(aws_access_key_id=env["AWS_ACCESS_KEY_ID"],
                                aws_secret_access_key=env["AWS_SECRET_ACCESS_KEY"],
                                region_name=env["AWS_DEFAULT_REGION"]).client(
        "arc-zonal-shift", endpoint_url=env["AWS_ENDPOINT_URL"])
    zone_ids = {z["ZoneName"]: z["ZoneId"] for z in ec2.describe_availability_zones()["AvailabilityZones"]}
    resource = next(r["arn"] for r in arc.list_managed_resources()["items"] if r["arn"].startswith("arn:aws:eks:"))
    reqs = [r for r in default_pool["spec"]["template"]["spec"]["requirements"] if r["key"] != ZONE]
    reqs.append({"key": ZONE, "operator": "In", "values": ["us-east-1a"]})
    client.CustomObjectsApi(api).patch_cluster_custom_object(
        GROUP, VERSION, "nodepools", "default", {"spec": {"template": {"spec": {"requirements": reqs}}}})
    shift = arc.start_zonal_shift(resourceIdentifier=resource, awayFrom=zone_ids["us-east-1a"], expiresIn="5m",
                                  comment="karpenter test")["zonalShiftId"]
    core = client.CoreV1Api(api)
    try:
        _pod(core, ns, "shifted")

        def karpenter_events() -> list[str]:
            return [e.message for e in core.list_namespaced_event(ns).items
                    if e.source.component == "karpenter" and e.involved_object.name == "shifted"]

        messages = wait_for(karpenter_events, bool, timeout=30, what="Karpenter's FailedScheduling event")
        assert f"not in {ZONE} DoesNotExist" in messages[0], messages
        assert not core.read_namespaced_pod("shifted", ns).spec.node_name
    finally:
        arc.cancel_zonal_shift(zonalShiftId=shift)
    node = _bound_node(core, ns, "shifted")
    assert core.read_node(node).metadata.labels[ZONE] == "us-east-1a"


def _karpenter_pods(core: client.CoreV1Api) -> list[Any]:
    return [p for p in core.list_namespaced_pod("kube-system", label_selector="app.kubernetes.io/name=karpenter").items
            if p.metadata.deletion_timestamp is None and p.status.phase == "Running"]


def test_karpenter_runs_as_the_charts_deployment_and_az_addons_sees_its_pods_in_two_zones(
        api: client.ApiClient) -> None:
    from pytest_azchaos.checks.addons import survey

    core, apps = client.CoreV1Api(api), client.AppsV1Api(api)
    deploy = apps.read_namespaced_deployment("karpenter", "kube-system")
    assert deploy.spec.replicas == 2 and deploy.spec.selector.match_labels == {
        "app.kubernetes.io/name": "karpenter", "app.kubernetes.io/instance": "karpenter"}, deploy.spec
    pods = wait_for(lambda: _karpenter_pods(core), lambda ps: len(ps) == 2, timeout=30, what="Karpenter's 2 pods")
    zones = {core.read_node(p.spec.node_name).metadata.labels[ZONE] for p in pods}
    assert len(zones) == 2, zones  # the chart's zone spread
    found = survey(core)
    placement = next((p for p in found.placements if p.name == "karpenter"), None)
    assert placement is not None, found.placements
    assert sorted(placement.zones()) == sorted(zones), placement.describe()
    assert not any("karpenter" in problem for problem in found.problems), found.problems


def test_without_a_running_karpenter_pod_nothing_is_launched_and_it_resumes_when_one_is_back(
        api: client.ApiClient, ns: str) -> None:
    core, apps = client.CoreV1Api(api), client.AppsV1Api(api)
    # Earlier tests' empty nodes go first (consolidateAfter, profile-scaled): none must be left to take the pod.
    wait_for(lambda: _claims(api), lambda claims: not claims, timeout=60, what="earlier NodeClaims consolidated")
    apps.patch_namespaced_deployment_scale("karpenter", "kube-system", {"spec": {"replicas": 0}})
    try:
        wait_for(lambda: _karpenter_pods(core), lambda ps: not ps, timeout=30, what="Karpenter's pods gone")
        claims_before = {c["metadata"]["name"] for c in _claims(api)}
        _pod(core, ns, "waiting")
        with pytest.raises(AssertionError):  # no controller: the pod stays Pending, no NodeClaim appears
            wait_for(lambda: core.read_namespaced_pod("waiting", ns), lambda p: bool(p.spec.node_name), timeout=5,
                     what="a node for the pod")
        assert {c["metadata"]["name"] for c in _claims(api)} == claims_before
        assert core.read_namespaced_pod("waiting", ns).status.conditions[0].reason == "Unschedulable"
    finally:
        apps.patch_namespaced_deployment_scale("karpenter", "kube-system", {"spec": {"replicas": 2}})
    node = _bound_node(core, ns, "waiting", timeout=60)
    assert core.read_node(node).metadata.labels.get("karpenter.sh/nodepool") == "default"


def _aws(cluster: ClusterHandle, service: str) -> Any:
    env = cluster.aws_env
    return boto3.session.Session(aws_access_key_id=env["AWS_ACCESS_KEY_ID"],
                                 aws_secret_access_key=env["AWS_SECRET_ACCESS_KEY"],
                                 region_name=env["AWS_DEFAULT_REGION"]).client(
        service, endpoint_url=env["AWS_ENDPOINT_URL"])


def _start_ice(fis: Any, zone: str, cluster_name: str) -> str:
    """FIS ``aws:ec2:api-insufficient-instance-capacity-error`` on ``zone`` for Karpenter's controller role."""
    role = f"arn:aws:iam::123456789012:role/KarpenterControllerRole-{cluster_name}"
    template = fis.create_experiment_template(
        clientToken=uuid.uuid4().hex, description="ICE in one zone", roleArn="arn:aws:iam::123456789012:role/fis",
        stopConditions=[{"source": "none"}],
        targets={"Roles": {"resourceType": "aws:iam:role", "resourceArns": [role], "selectionMode": "ALL"}},
        actions={"ice": {"actionId": "aws:ec2:api-insufficient-instance-capacity-error", "targets": {"Roles": "Roles"},
                         "parameters": {"availabilityZoneIdentifiers": zone, "percentage": "100",
                                        "duration": "PT10M"}}})["experimentTemplate"]["id"]
    return str(fis.start_experiment(clientToken=uuid.uuid4().hex, experimentTemplateId=template)["experiment"]["id"])


def test_an_injected_ice_keeps_karpenter_out_of_the_offering_for_the_ttl_then_it_launches_there(
        cluster: ClusterHandle, api: client.ApiClient, ns: str, default_pool: dict) -> None:
    from pytest_azchaos.timing import FAST

    ttl = FAST.karpenter_ice_ttl  # UnavailableOfferingsTTL (3 min), profile-scaled
    core, custom = client.CoreV1Api(api), client.CustomObjectsApi(api)
    wait_for(lambda: _claims(api), lambda claims: not claims, timeout=60, what="earlier NodeClaims consolidated")
    reqs = [r for r in default_pool["spec"]["template"]["spec"]["requirements"]
            if r["key"] not in (ZONE, "node.kubernetes.io/instance-type")]
    reqs += [{"key": ZONE, "operator": "In", "values": ["us-east-1a", "us-east-1b"]},
             {"key": "node.kubernetes.io/instance-type", "operator": "In", "values": ["m5.large"]}]
    custom.patch_cluster_custom_object(GROUP, VERSION, "nodepools", "default",
                                       {"spec": {"template": {"spec": {"requirements": reqs}}}})
    fis = _aws(cluster, "fis")
    node_class = custom.get_cluster_custom_object("karpenter.k8s.aws", "v1", "ec2nodeclasses", "default")
    cluster_name = node_class["spec"]["role"].removeprefix("KarpenterNodeRole-")
    experiment = _start_ice(fis, "us-east-1a", cluster_name)
    try:
        _pod(core, ns, "first")  # either zone: 1a is tried first (fewest nodes) and answers ICE
        first = core.read_node(_bound_node(core, ns, "first"))
        assert first.metadata.labels[ZONE] == "us-east-1b", first.metadata.labels
        ice = [e for e in core.list_event_for_all_namespaces(field_selector="reason=InsufficientCapacityError").items
               if e.source.component == "karpenter"]
        assert ice and "(us-east-1a)" in ice[-1].message and "InsufficientInstanceCapacity" in ice[-1].message, \
            [e.message for e in ice]
    finally:
        fis.stop_experiment(id=experiment)
    # The experiment is over, but the offering stays unavailable until its TTL passes: a pod only 1a can take is
    # refused by Karpenter (no offering), then gets its node there once the TTL has passed.
    _pod(core, ns, "second", zone="us-east-1a")
    refused = wait_for(lambda: [e.message for e in core.list_namespaced_event(ns).items
                                if e.source.component == "karpenter" and e.involved_object.name == "second"
                                and e.reason == "FailedScheduling"], bool, timeout=ttl,
                       what="Karpenter refusing the 1a-only pod while the offering is cached")
    assert "had a required offering" in refused[0], refused
    second = core.read_node(_bound_node(core, ns, "second", timeout=ttl + 30))
    assert second.metadata.labels[ZONE] == "us-east-1a", second.metadata.labels
    waited = (second.metadata.creation_timestamp - ice[-1].last_timestamp).total_seconds()
    assert waited >= ttl - 1.5, f"launched in us-east-1a {waited:.1f}s after the ICE; the TTL is {ttl}s"
