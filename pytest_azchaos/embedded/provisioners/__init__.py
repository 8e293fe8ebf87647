"""Who adds nodes to the embedded cluster: ``node-groups`` (per-zone EKS managed node groups, the default),
``karpenter`` (Karpenter v1's CRDs, a default EC2NodeClass and NodePool, its controller) or ``auto-mode``
(EKS Auto Mode's built-in NodePools ``general-purpose`` and ``system`` of NodeClass ``default``)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..apiserver.crd.controller import install as install_crd
from .crds import auto_mode_nodeclass_crd, ec2nodeclass_crd, nodeclaim_crd, nodepool_crd

if TYPE_CHECKING:
    from ..cluster import EmbeddedCluster
    from .karpenter import KarpenterController

PROVISIONERS = ("node-groups", "karpenter", "auto-mode")
Obj = dict[str, Any]


def default_nodepool(name: str, zones: list[str], node_class: Obj, types: list[str] | None = None) -> Obj:
    """A NodePool as Karpenter's getting-started guide writes it: all zones, on-demand, a few types."""
    reqs = [{"key": "kubernetes.io/arch", "operator": "In", "values": ["amd64"]},
            {"key": "kubernetes.io/os", "operator": "In", "values": ["linux"]},
            {"key": "karpenter.sh/capacity-type", "operator": "In", "values": ["on-demand"]},
            {"key": "topology.kubernetes.io/zone", "operator": "In", "values": list(zones)}]
    if types:
        reqs.append({"key": "node.kubernetes.io/instance-type", "operator": "In", "values": list(types)})
    return {"apiVersion": "karpenter.sh/v1", "kind": "NodePool", "metadata": {"name": name},
            "spec": {"template": {"spec": {"nodeClassRef": node_class, "requirements": reqs,
                                           "expireAfter": "720h"}},
                     "limits": {"cpu": "1000"},
                     "disruption": {"consolidationPolicy": "WhenEmptyOrUnderutilized", "consolidateAfter": "1m",
                                    "budgets": [{"nodes": "10%"}]}}}


def install(cluster: EmbeddedCluster, provisioner: str) -> KarpenterController | None:
    """Install the provisioner's CRDs and defaults; returns its controller (None for node-groups)."""
    if provisioner == "node-groups":
        return None
    from .karpenter import KarpenterController

    store = cluster.store
    for crd in (nodepool_crd(), nodeclaim_crd(), ec2nodeclass_crd()):
        install_crd(store, crd)
    zones = list(cluster.topology.zones)
    pools = store.registry.lookup("karpenter.sh", "v1", "nodepools")
    if provisioner == "karpenter":
        name = cluster.topology.cluster_name
        store.create(store.registry.lookup("karpenter.k8s.aws", "v1", "ec2nodeclasses"), "", {
            "apiVersion": "karpenter.k8s.aws/v1", "kind": "EC2NodeClass", "metadata": {"name": "default"},
            "spec": {"amiSelectorTerms": [{"alias": "al2023@latest"}], "role": f"KarpenterNodeRole-{name}",
                     "subnetSelectorTerms": [{"tags": {"karpenter.sh/discovery": name}}],
                     "securityGroupSelectorTerms": [{"tags": {"karpenter.sh/discovery": name}}]}})
        ref = {"group": "karpenter.k8s.aws", "kind": "EC2NodeClass", "name": "default"}
        store.create(pools, "", default_nodepool("default", zones, ref, ["m5.large", "m5.xlarge"]))
        from .addon import install_karpenter  # its controller acts while one of these pods runs

        install_karpenter(store, name)
        from .fis_ice import hold_experiments  # FIS ICE experiments run for their duration, not moto's one step

        hold_experiments()
    else:  # EKS Auto Mode: built-in NodeClass "default" and NodePools general-purpose and system
        install_crd(store, auto_mode_nodeclass_crd())
        store.create(store.registry.lookup("eks.amazonaws.com", "v1", "nodeclasses"), "", {
            "apiVersion": "eks.amazonaws.com/v1", "kind": "NodeClass",
            "metadata": {"name": "default", "labels": {"app.kubernetes.io/managed-by": "eks"}},
            "spec": {"role": f"AmazonEKSAutoNodeRole-{cluster.topology.cluster_name}",
                     "networkPolicy": "DefaultAllow"}})
        ref = {"group": "eks.amazonaws.com", "kind": "NodeClass", "name": "default"}
        for pool_name in ("general-purpose", "system"):
            pool = default_nodepool(pool_name, zones, ref)
            pool["metadata"]["labels"] = {"app.kubernetes.io/managed-by": "eks"}
            pool["spec"]["disruption"]["consolidateAfter"] = "30s"
            pool["spec"]["template"]["spec"]["expireAfter"] = "336h"
            if pool_name == "system":  # CriticalAddonsOnly taint, as Auto Mode's system pool has
                pool["spec"]["template"]["spec"]["taints"] = [{"key": "CriticalAddonsOnly", "effect": "NoSchedule"}]
            store.create(pools, "", pool)
        cloud = cluster.cloud
        if cloud is not None:  # EC2 stop/start/reboot/terminate on its (managed) instances refused
            from .auto_mode import managed_instance_guard

            cloud.server.app.guards.append(managed_instance_guard(cloud.region, lambda: set(cloud.node_by_instance)))
    return KarpenterController(cluster, provisioner)
