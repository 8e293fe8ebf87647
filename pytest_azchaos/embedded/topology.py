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
KUBELET_VERSION = "v1.36.2-eks-1a2b3c4"


def default_zones(region: str, count: int) -> list[str]:
    return [f"{region}{chr(ord('a') + i)}" for i in range(count)]


@dataclass(frozen=True)
class NodeSpec:
    name: str
    zone: str
    address: str
    instance_id: str
    nodegroup: str


@dataclass(frozen=True)
class Topology:
    """Region, zones and nodes; ``nodes()`` names them and gives each an address and instance id."""

    region: str = "us-east-1"
    zones: tuple[str, ...] = ("us-east-1a", "us-east-1b", "us-east-1c")
    nodes_per_zone: int = 2
    instance_type: str = "m5.large"
    cluster_name: str = "azchaos"
    extra: dict[str, Any] = field(default_factory=dict, compare=False)

    @classmethod
    def make(cls, zones: int = 3, nodes_per_zone: int = 2, region: str = "us-east-1", **kw: Any) -> Topology:
        return cls(region=region, zones=tuple(default_zones(region, zones)), nodes_per_zone=nodes_per_zone, **kw)

    def nodes(self, plan: AddressPlan) -> list[NodeSpec]:
        out = []
        index = 0
        for zone in self.zones:
            for _ in range(self.nodes_per_zone):
                addr = plan.node(index)
                name = "ip-" + addr.replace(".", "-") + f".{self.region}.compute.internal"
                digest = hashlib.sha1(f"{self.cluster_name}/{plan.block}/{name}".encode()).hexdigest()
                out.append(NodeSpec(name, zone, addr, "i-0" + digest[:16], f"ng-{zone}"))
                index += 1
        return out

    def to_dict(self) -> dict[str, Any]:
        return {"region": self.region, "zones": list(self.zones), "nodes_per_zone": self.nodes_per_zone,
                "instance_type": self.instance_type, "cluster_name": self.cluster_name}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Topology:
        return cls(region=d["region"], zones=tuple(d["zones"]), nodes_per_zone=d["nodes_per_zone"],
                   instance_type=d.get("instance_type", "m5.large"), cluster_name=d.get("cluster_name", "azchaos"))


def node_object(spec: NodeSpec, topology: Topology, now: str) -> dict[str, Any]:
    """The Node as an EKS managed node group's kubelet registers it."""
    res = INSTANCE_TYPES[topology.instance_type]
    conditions = [
        ("MemoryPressure", "False", "KubeletHasSufficientMemory", "kubelet has sufficient memory available"),
        ("DiskPressure", "False", "KubeletHasNoDiskPressure", "kubelet has no disk pressure"),
        ("PIDPressure", "False", "KubeletHasSufficientPID", "kubelet has sufficient PID available"),
        ("Ready", "True", "KubeletReady", "kubelet is posting ready status"),
    ]
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
