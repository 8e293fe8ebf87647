"""VolumeBinding (PreFilter and Filter) and VolumeZone."""

from __future__ import annotations

from typing import Any

from pytest_azchaos.embedded.scheduler import VolumeBinding, VolumeState, schedule

from .builders import golden_nodes, pod

ZONE = "topology.kubernetes.io/zone"


def claim(name: str, storage_class: str | None = None, volume: str | None = None) -> dict[str, Any]:
    spec: dict[str, Any] = {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "10Gi"}}}
    if storage_class is not None:
        spec["storageClassName"] = storage_class
    if volume:
        spec["volumeName"] = volume
    return {"metadata": {"name": name, "namespace": "default"}, "spec": spec}


def volume(name: str, zone: str | None = None, storage_class: str = "", labels: dict[str, str] | None = None,
           size: str = "10Gi") -> dict[str, Any]:
    spec: dict[str, Any] = {"capacity": {"storage": size}, "accessModes": ["ReadWriteOnce"],
                            "storageClassName": storage_class}
    if zone:
        spec["nodeAffinity"] = {"required": {"nodeSelectorTerms": [
            {"matchExpressions": [{"key": ZONE, "operator": "In", "values": [zone]}]}]}}
    return {"metadata": {"name": name, "labels": labels or {}}, "spec": spec, "status": {"phase": "Available"}}


def wffc(name: str, provisioner: str = "ebs.csi.aws.com", zones: list[str] | None = None) -> dict[str, Any]:
    sc: dict[str, Any] = {"metadata": {"name": name}, "provisioner": provisioner,
                          "volumeBindingMode": "WaitForFirstConsumer"}
    if zones:
        sc["allowedTopologies"] = [{"matchLabelExpressions": [{"key": ZONE, "values": zones}]}]
    return sc


def using(claim_name: str) -> dict[str, Any]:
    return pod("p", volumes=[{"name": "d", "persistentVolumeClaim": {"claimName": claim_name}}])


def test_bound_pv_node_affinity_keeps_the_pod_in_its_zone() -> None:
    state = VolumeState(claims=(claim("data", "", "pv-c"),), volumes=(volume("pv-c", "zone-c"),))
    result = schedule(using("data"), golden_nodes(), [], state)
    assert result.tied == ("node-c1", "node-c2")
    assert result.reasons["node-a1"] == "node(s) didn't match PersistentVolume's node affinity"


def test_missing_claim_is_a_prefilter_rejection() -> None:
    result = schedule(using("nope"), golden_nodes(), [], VolumeState())
    assert result.message == '0/6 nodes are available: persistentvolumeclaim "nope" not found. not found'


def test_unbound_immediate_claim_is_a_prefilter_rejection() -> None:
    state = VolumeState(claims=(claim("data", "gp2"),), classes=({"metadata": {"name": "gp2"}, "provisioner": "x"},))
    result = schedule(using("data"), golden_nodes(), [], state)
    assert result.message == "0/6 nodes are available: pod has unbound immediate PersistentVolumeClaims. not found"


def test_claim_bound_to_a_missing_pv() -> None:
    state = VolumeState(claims=(claim("data", "", "ghost"),))
    result = schedule(using("data"), golden_nodes(), [], state)
    assert "6 node(s) unavailable due to one or more pvc(s) bound to non-existent pv(s)" in result.message


def test_wait_for_first_consumer_honours_allowed_topologies() -> None:
    state = VolumeState(claims=(claim("data", "ebs"),), classes=(wffc("ebs", zones=["zone-b"]),))
    result = schedule(using("data"), golden_nodes(), [], state)
    assert result.tied == ("node-b1", "node-b2")
    assert result.reasons["node-c1"] == "node(s) didn't find available persistent volumes to bind"


def test_wait_for_first_consumer_without_provisioner_needs_a_static_pv() -> None:
    state = VolumeState(claims=(claim("data", "local"),), classes=(wffc("local", "kubernetes.io/no-provisioner"),),
                        volumes=(volume("pv-a", "zone-a", "local"),))
    assert schedule(using("data"), golden_nodes(), [], state).tied == ("node-a1", "node-a2")


def test_static_pv_too_small_does_not_match() -> None:
    state = VolumeState(claims=(claim("data", "local"),), classes=(wffc("local", "kubernetes.io/no-provisioner"),),
                        volumes=(volume("pv-a", "zone-a", "local", size="1Gi"),))
    assert "6 node(s) didn't find available persistent volumes to bind" in schedule(
        using("data"), golden_nodes(), [], state).message


def test_default_storage_class_applies_to_a_claim_without_class() -> None:
    default = wffc("ebs", zones=["zone-c"])
    default["metadata"]["annotations"] = {"storageclass.kubernetes.io/is-default-class": "true"}
    state = VolumeState(claims=(claim("data"),), classes=(default,))
    assert schedule(using("data"), golden_nodes(), [], state).tied == ("node-c1", "node-c2")


def test_volume_zone_reads_pv_zone_labels() -> None:
    state = VolumeState(claims=(claim("data", "", "pv"),), volumes=(volume("pv", labels={ZONE: "zone-a__zone-b"}),))
    result = schedule(using("data"), golden_nodes(), [], state)
    assert result.tied == ("node-a1", "node-a2", "node-b1", "node-b2")
    assert result.reasons["node-c1"] == "node(s) had no available volume zone"


def test_volume_binding_is_a_hook_the_storage_work_can_extend() -> None:
    class NoCapacityInZoneA(VolumeBinding):
        def can_provision(self, claim: Any, info: Any) -> bool:
            return info.labels.get(ZONE) != "zone-a" and super().can_provision(claim, info)

    state = VolumeState(claims=(claim("data", "ebs"),), classes=(wffc("ebs"),))
    result = schedule(using("data"), golden_nodes(), [], state, volume_binding=NoCapacityInZoneA(state))
    assert set(result.reasons) == {"node-a1", "node-a2"}
