"""The shape of an embedded cluster: region, zones, nodes per zone, as EKS would label them."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any

from .network.addresses import AddressPlan

# m5.large on EKS (AL2023): what the kubelet reports.
INSTANCE_TYPES: dict[str, dict[str, dict[str, str]]] = {
    "m5.large": {
        "capacity": {"cpu": "2", "ephemeral-storage": "20959212Ki", "hugepages-1Gi": "0", "hugepages-2Mi": "0",
                     "memory": "7910348Ki", "pods": "29"},
        "allocatable": {"cpu": "1930m", "ephemeral-storage": "18242267924", "hugepages-1Gi": "0",
                        "hugepages-2Mi": "0", "memory": "7220172Ki", "pods": "29"},
    },
    "m5.xlarge": {
        "capacity": {"cpu": "4", "ephemeral-storage": "83873772Ki", "hugepages-1Gi": "0", "hugepages-2Mi": "0",
                     "memory": "15896520Ki", "pods": "58"},
        "allocatable": {"cpu": "3920m", "ephemeral-storage": "76224326324", "hugepages-1Gi": "0",
                        "hugepages-2Mi": "0", "memory": "14879688Ki", "pods": "58"},
    },
}
# The golden transcripts' fake nodes (../shared/golden/README.md): cpu 2, memory 8Gi, pods 110.
GOLDEN_RESOURCES: dict[str, str] = {"cpu": "2", "ephemeral-storage": "100Gi", "memory": "8Gi", "pods": "110"}
KUBELET_VERSION = "v1.36.2-eks-1a2b3c4"


NODE_CONDITIONS = (
    ("MemoryPressure", "False", "KubeletHasSufficientMemory", "kubelet has sufficient memory available"),
    ("DiskPressure", "False", "KubeletHasNoDiskPressure", "kubelet has no disk pressure"),
    ("PIDPressure", "False", "KubeletHasSufficientPID", "kubelet has sufficient PID available"),
    ("Ready", "True", "KubeletReady", "kubelet is posting ready status"),
)


def default_zones(region: str, count: int) -> list[str]:
    return [f"{region}{chr(ord('a') + i)}" for i in range(count)]


@dataclass(frozen=True)
class NodeShape:
    """One explicitly described node (name, zone, labels, resources) instead of an EKS-named one.

    ``labels`` are the node's complete labels (hostname and zone included); ``capacity`` and
    ``allocatable`` its complete resource lists.
    """

    name: str
    zone: str
    labels: dict[str, str] = field(default_factory=dict, hash=False)
    capacity: dict[str, str] = field(default_factory=dict, hash=False)
    allocatable: dict[str, str] = field(default_factory=dict, hash=False)

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "zone": self.zone, "labels": dict(self.labels), "capacity": dict(self.capacity),
                "allocatable": dict(self.allocatable)}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> NodeShape:
        return cls(d["name"], d["zone"], dict(d.get("labels") or {}), dict(d.get("capacity") or {}),
                   dict(d.get("allocatable") or {}))


@dataclass(frozen=True)
class NodeSpec:
    name: str
    zone: str
    address: str
    instance_id: str
    nodegroup: str
    shape: NodeShape | None = None


@dataclass(frozen=True)
class Topology:
    """Region, zones and nodes; ``nodes()`` names them and gives each an address and instance id."""

    region: str = "us-east-1"
    zones: tuple[str, ...] = ("us-east-1a", "us-east-1b", "us-east-1c")
    nodes_per_zone: int = 2
    instance_type: str = "m5.large"
    cluster_name: str = "azchaos"
    extra: dict[str, Any] = field(default_factory=dict, compare=False)
    #: When set, exactly these nodes (in this order) instead of ``nodes_per_zone`` EKS-named ones per zone.
    shapes: tuple[NodeShape, ...] = ()
    #: Each node group's MaxSize per zone (MinSize and DesiredCapacity stay ``nodes_per_zone``). Default
    #: ``nodes_per_zone``, eksctl's min = max = desired: the Cluster Autoscaler runs but can add nothing, so capacity is
    #: as fixed as the catalogue's other checks assume. Room (``--node-group-room``) lets it grow, as clusters that
    #: rely on it are set up (AZ-CAPACITY); MinSize = desired keeps scale-down above the nodes the cluster started
    #: with.
    max_nodes_per_zone: int | None = None

    def __post_init__(self) -> None:
        if self.max_nodes_per_zone is not None and self.max_nodes_per_zone < self.nodes_per_zone:
            raise ValueError(f"max_nodes_per_zone {self.max_nodes_per_zone} is below nodes_per_zone "
                             f"{self.nodes_per_zone}: a node group's MaxSize cannot be below its desired capacity")

    @property
    def headroom_per_zone(self) -> int:
        """Nodes each zone's group may add above its start: ``max_nodes_per_zone - nodes_per_zone`` (default 0)."""
        return 0 if self.max_nodes_per_zone is None else self.max_nodes_per_zone - self.nodes_per_zone

    def group_max_size(self, desired: int, zones: int = 1) -> int:
        """A node group's MaxSize: its desired capacity plus the headroom of each zone it spans (the regional
        layout's one group over every zone: desired + headroom x zones, the per-zone groups' total)."""
        return desired + self.headroom_per_zone * zones

    @classmethod
    def golden(cls) -> Topology:
        """The cluster the golden transcripts were recorded on: node-a1..node-c2 in zone-a/b/c, 2 cpu, 8Gi."""
        shapes = []
        for zone in "abc":
            for i in (1, 2):
                name = f"node-{zone}{i}"
                labels = {"beta.kubernetes.io/arch": "amd64", "beta.kubernetes.io/os": "linux",
                          "kubernetes.io/arch": "amd64", "kubernetes.io/hostname": name, "kubernetes.io/os": "linux",
                          "topology.kubernetes.io/zone": f"zone-{zone}"}
                shapes.append(NodeShape(name, f"zone-{zone}", labels, dict(GOLDEN_RESOURCES), dict(GOLDEN_RESOURCES)))
        return cls(region="", zones=("zone-a", "zone-b", "zone-c"), nodes_per_zone=2, instance_type="",
                   cluster_name="golden", shapes=tuple(shapes))

    @property
    def node_count(self) -> int:
        return len(self.shapes) if self.shapes else len(self.zones) * self.nodes_per_zone

    @classmethod
    def make(cls, zones: int = 3, nodes_per_zone: int = 2, region: str = "us-east-1", **kw: Any) -> Topology:
        return cls(region=region, zones=tuple(default_zones(region, zones)), nodes_per_zone=nodes_per_zone, **kw)

    def nodes(self, plan: AddressPlan) -> list[NodeSpec]:
        out = []
        index = 0
        if self.shapes:
            for index, shape in enumerate(self.shapes):
                digest = hashlib.sha1(f"{self.cluster_name}/{plan.block}/{shape.name}".encode()).hexdigest()
                out.append(NodeSpec(shape.name, shape.zone, plan.node(index), "i-0" + digest[:16],
                                    f"ng-{shape.zone}", shape))
            return out
        regional = self.extra.get("node_groups") == "regional"  # one node group over every zone (cloud/layer.py)
        for zone in self.zones:
            for _ in range(self.nodes_per_zone):
                addr = plan.node(index)
                name = "ip-" + addr.replace(".", "-") + f".{self.region}.compute.internal"
                digest = hashlib.sha1(f"{self.cluster_name}/{plan.block}/{name}".encode()).hexdigest()
                out.append(NodeSpec(name, zone, addr, "i-0" + digest[:16], "ng-regional" if regional else f"ng-{zone}"))
                index += 1
        return out

    def to_dict(self) -> dict[str, Any]:
        d = {"region": self.region, "zones": list(self.zones), "nodes_per_zone": self.nodes_per_zone,
             "instance_type": self.instance_type, "cluster_name": self.cluster_name}
        if self.shapes:
            d["shapes"] = [shape.to_dict() for shape in self.shapes]
        if self.extra.get("provisioner"):  # who adds nodes (embedded/provisioners/)
            d["provisioner"] = self.extra["provisioner"]
        if self.extra.get("node_groups"):  # node-group layout: per-zone | regional (cloud/layer.py)
            d["node_groups"] = self.extra["node_groups"]
        if self.max_nodes_per_zone is not None:
            d["max_nodes_per_zone"] = self.max_nodes_per_zone
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Topology:
        return cls(region=d["region"], zones=tuple(d["zones"]), nodes_per_zone=d["nodes_per_zone"],
                   instance_type=d.get("instance_type", "m5.large"), cluster_name=d.get("cluster_name", "azchaos"),
                   shapes=tuple(NodeShape.from_dict(s) for s in d.get("shapes") or ()),
                   max_nodes_per_zone=d.get("max_nodes_per_zone"),
                   extra={k: d[k] for k in ("provisioner", "node_groups") if d.get(k)})


def node_object(spec: NodeSpec, topology: Topology, now: str) -> dict[str, Any]:
    """The Node as an EKS managed node group's kubelet registers it (or as its ``NodeShape`` describes it)."""
    if spec.shape is not None:
        return shaped_node_object(spec, now)
    res = INSTANCE_TYPES[topology.instance_type]
    conditions = NODE_CONDITIONS
    return {
        "apiVersion": "v1",
        "kind": "Node",
        "metadata": {
            "name": spec.name,
            "labels": {
                "beta.kubernetes.io/arch": "amd64",
                "beta.kubernetes.io/instance-type": topology.instance_type,
                "beta.kubernetes.io/os": "linux",
                "eks.amazonaws.com/capacityType": "ON_DEMAND",
                "eks.amazonaws.com/nodegroup": spec.nodegroup,
                "failure-domain.beta.kubernetes.io/region": topology.region,
                "failure-domain.beta.kubernetes.io/zone": spec.zone,
                "kubernetes.io/arch": "amd64",
                "kubernetes.io/hostname": spec.name,
                "kubernetes.io/os": "linux",
                "node.kubernetes.io/instance-type": topology.instance_type,
                "topology.ebs.csi.aws.com/zone": spec.zone,
                "topology.kubernetes.io/region": topology.region,
                "topology.kubernetes.io/zone": spec.zone,
            },
            "annotations": {
                "alpha.kubernetes.io/provided-node-ip": spec.address,
                "node.alpha.kubernetes.io/ttl": "0",
                "volumes.kubernetes.io/controller-managed-attach-detach": "true",
            },
        },
        "spec": {"providerID": f"aws:///{spec.zone}/{spec.instance_id}"},
        "status": {
            "capacity": dict(res["capacity"]),
            "allocatable": dict(res["allocatable"]),
            "conditions": [
                {"type": t, "status": s, "lastHeartbeatTime": now, "lastTransitionTime": now, "reason": r,
                 "message": m}
                for t, s, r, m in conditions
            ],
            "addresses": [
                {"type": "InternalIP", "address": spec.address},
                {"type": "InternalDNS", "address": spec.name},
                {"type": "Hostname", "address": spec.name},
            ],
            "daemonEndpoints": {"kubeletEndpoint": {"Port": 10250}},
            "nodeInfo": {
                "machineID": spec.instance_id.replace("i-0", "ec2") + "0" * 15,
                "systemUUID": "ec2" + spec.instance_id[3:11] + "-0000-0000-0000-000000000000",
                "bootID": spec.instance_id[2:] + "-boot",
                "kernelVersion": "6.1.112-122.189.amzn2023.x86_64",
                "osImage": "Amazon Linux 2023.6.20241010",
                "containerRuntimeVersion": "containerd://1.7.22",
                "kubeletVersion": KUBELET_VERSION,
                "kubeProxyVersion": "",
                "operatingSystem": "linux",
                "architecture": "amd64",
            },
        },
    }


def shaped_node_object(spec: NodeSpec, now: str) -> dict[str, Any]:
    """A Node with exactly its shape's labels and resources (no cloud provider labels or providerID)."""
    shape = spec.shape
    assert shape is not None
    return {
        "apiVersion": "v1",
        "kind": "Node",
        "metadata": {"name": spec.name, "labels": dict(shape.labels),
                     "annotations": {"node.alpha.kubernetes.io/ttl": "0"}},
        "spec": {},
        "status": {
            "capacity": dict(shape.capacity),
            "allocatable": dict(shape.allocatable),
            "conditions": [
                {"type": t, "status": s, "lastHeartbeatTime": now, "lastTransitionTime": now, "reason": r,
                 "message": m}
                for t, s, r, m in NODE_CONDITIONS
            ],
            "addresses": [{"type": "InternalIP", "address": spec.address},
                          {"type": "Hostname", "address": spec.name}],
            "daemonEndpoints": {"kubeletEndpoint": {"Port": 10250}},
            "nodeInfo": {"machineID": "", "systemUUID": "", "bootID": "", "kernelVersion": "", "osImage": "embedded",
                         "containerRuntimeVersion": "containerd://1.7.22", "kubeletVersion": KUBELET_VERSION,
                         "kubeProxyVersion": "", "operatingSystem": "linux", "architecture": "amd64"},
        },
    }
