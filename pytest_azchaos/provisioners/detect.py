"""Detect a cluster's node provisioner from what the cluster shows (facts §2).

- **auto-mode**: nodes labelled ``eks.amazonaws.com/compute-type=auto``, or NodePools whose ``nodeClassRef`` is
  EKS Auto Mode's ``eks.amazonaws.com`` NodeClass;
- **karpenter**: the ``nodepools.karpenter.sh`` type is served and has NodePools;
- **node-groups**: nodes of EKS managed node groups (``eks.amazonaws.com/nodegroup``) or instances in Auto Scaling
  groups (their tags, from the caller: this module reads only the Kubernetes API); ``autoscaler`` names the Cluster
  Autoscaler when one runs (a ``kube-system`` Deployment labelled ``app.kubernetes.io/name=aws-cluster-autoscaler``,
  the Helm chart's label, or named ``cluster-autoscaler``): without it nothing adds nodes for Pending pods.
A cluster may run Karpenter beside a node group (Karpenter's own pods usually run on one): Karpenter wins.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

log = logging.getLogger(__name__)
AUTO_LABEL = "eks.amazonaws.com/compute-type"
NODEGROUP_LABEL = "eks.amazonaws.com/nodegroup"
NODEPOOL_LABEL = "karpenter.sh/nodepool"
CA_NAMESPACE = "kube-system"
CA_LABEL = "app.kubernetes.io/name=aws-cluster-autoscaler"
CA_NAME = "cluster-autoscaler"


@dataclass(frozen=True)
class Provisioner:
    """What adds the nodes: ``kind`` and the evidence it was read from."""

    kind: str  # karpenter | auto-mode | node-groups | unknown
    nodepools: tuple[str, ...] = ()
    node_groups: tuple[str, ...] = ()
    evidence: str = ""
    #: The Cluster Autoscaler's Deployment (``kube-system/NAME``), '' when none runs.
    autoscaler: str = ""

    def describe(self) -> str:
        scaler = f"; Cluster Autoscaler {self.autoscaler}" if self.autoscaler else ""
        return f"node provisioner: {self.kind} ({self.evidence}{scaler})"

    def adds_capacity(self) -> str:
        """'' when something adds nodes for Pending pods (Karpenter, Auto Mode, node groups with the Cluster
        Autoscaler); else why not (AZ-CAPACITY is then not applicable)."""
        if self.kind in ("karpenter", "auto-mode") or (self.kind == "node-groups" and self.autoscaler):
            return ""
        if self.kind == "node-groups":
            return (f"node groups without the Cluster Autoscaler ({self.evidence}; no {CA_NAMESPACE} Deployment "
                    f"labelled {CA_LABEL} or named {CA_NAME}): nothing adds nodes for Pending pods")
        return f"no node provisioner found ({self.evidence}): nothing adds nodes for Pending pods"


def _labels(node: Any) -> dict[str, str]:
    meta = node.get("metadata") if isinstance(node, dict) else getattr(node, "metadata", None)
    labels = meta.get("labels") if isinstance(meta, dict) else getattr(meta, "labels", None)
    return dict(labels or {})


def _node_class_group(pool: dict[str, Any]) -> str:
    template = ((pool.get("spec") or {}).get("template") or {}).get("spec") or {}
    return str((template.get("nodeClassRef") or {}).get("group") or "")


def list_nodepools(api_client: Any) -> list[dict[str, Any]] | None:
    """The NodePools, or None when ``karpenter.sh/v1`` NodePools are not served (no Karpenter CRDs)."""
    from kubernetes import client
    from kubernetes.client.exceptions import ApiException

    try:
        out: Any = client.CustomObjectsApi(api_client).list_cluster_custom_object("karpenter.sh", "v1", "nodepools")
    except ApiException as e:
        if e.status in (403, 404):  # not served, or not granted (then Karpenter, if any, stays undetected: logged)
            if e.status == 403:
                log.warning("cannot list karpenter.sh NodePools (403): grant list/patch on nodepools.karpenter.sh "
                            "so zone_outage can keep Karpenter out of the lost zone")
            return None
        raise
    return list(out.get("items") or [])


def find_cluster_autoscaler(api_client: Any) -> str:
    """``kube-system/NAME`` of the Cluster Autoscaler's Deployment (by the chart's label, else by name), or ''."""
    from kubernetes import client
    from kubernetes.client.exceptions import ApiException

    apps = client.AppsV1Api(api_client)
    found: list[Any]
    try:
        found = list(apps.list_namespaced_deployment(CA_NAMESPACE, label_selector=CA_LABEL).items)
        if not found:
            found = [d for d in apps.list_namespaced_deployment(CA_NAMESPACE).items
                     if getattr(d.metadata, "name", "") == CA_NAME]
    except ApiException as e:
        if e.status != 403:
            raise
        log.warning("cannot list Deployments in %s (403): grant list on deployments so the Cluster Autoscaler "
                    "can be detected", CA_NAMESPACE)
        return ""
    return f"{CA_NAMESPACE}/{found[0].metadata.name}" if found else ""


def classify(nodes: Iterable[Any], nodepools: list[dict[str, Any]] | None,
             asg_names: Iterable[str] = (), autoscaler: str = "") -> Provisioner:
    """The provisioner these nodes, NodePools (None: type not served), node ASGs and Cluster Autoscaler show."""
    labels: list[dict[str, str]] = [_labels(n) for n in nodes]
    auto_nodes = sum(1 for lab in labels if lab.get(AUTO_LABEL) == "auto")
    pools = nodepools or []
    names = tuple(sorted(p["metadata"]["name"] for p in pools))
    auto_pools = [p["metadata"]["name"] for p in pools if _node_class_group(p) == "eks.amazonaws.com"]
    groups = tuple(sorted({lab[NODEGROUP_LABEL] for lab in labels if lab.get(NODEGROUP_LABEL)} | set(asg_names)))
    if auto_nodes or auto_pools:
        return Provisioner("auto-mode", names, groups, f"{auto_nodes} node(s) labelled {AUTO_LABEL}=auto; "
                           f"NodePools of the eks.amazonaws.com NodeClass: {', '.join(auto_pools) or 'none'}")
    if pools:
        karp = sum(1 for lab in labels if lab.get(NODEPOOL_LABEL))
        static = f"; beside node group(s) {', '.join(groups)}" if groups else ""
        return Provisioner("karpenter", names, groups, f"NodePools {', '.join(names)}; {karp} Karpenter node(s)"
                           + static)
    if groups:
        return Provisioner("node-groups", (), groups, f"node groups / Auto Scaling groups {', '.join(groups)}"
                           + ("; Karpenter CRDs installed but no NodePool" if nodepools is not None else ""),
                           autoscaler)
    return Provisioner("unknown", (), (), "no NodePool, no Auto Mode node, no node group label or ASG")


def detect(api_client: Any, nodes: Iterable[Any] | None = None, asg_names: Iterable[str] = ()) -> Provisioner:
    """Read the cluster (nodes unless given, NodePools, the Cluster Autoscaler's Deployment) and classify it."""
    from kubernetes import client

    if nodes is None:
        nodes = client.CoreV1Api(api_client).list_node().items
    return classify(list(nodes), list_nodepools(api_client), asg_names, find_cluster_autoscaler(api_client))
