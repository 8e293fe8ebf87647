"""Keep Karpenter out of a lost zone: each NodePool gets ``topology.kubernetes.io/zone NotIn [zone]`` and a
disruption budget ``nodes: "0"`` (facts §2: a cordoned zone is invisible to Karpenter, which would launch
replacements straight back into it; the budget stops drift and consolidation from making things worse).

Each NodePool's ``spec`` is recorded in the ledger BEFORE it is patched, and put back exactly (a JSON patch
replacing ``/spec`` with the recorded one) by ``undo`` and by ``azchaos restore`` after a kill -9.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

KIND = "karpenter.nodepool-fence"
ZONE = "topology.kubernetes.io/zone"
GROUP, VERSION, PLURAL = "karpenter.sh", "v1", "nodepools"


def fenced_spec(spec: dict[str, Any], zone: str) -> dict[str, Any]:
    """``spec`` with the zone excluded and disruption frozen."""
    new = json.loads(json.dumps(spec))
    reqs = new.setdefault("template", {}).setdefault("spec", {}).setdefault("requirements", [])
    reqs.append({"key": ZONE, "operator": "NotIn", "values": [zone]})
    new.setdefault("disruption", {})["budgets"] = [{"nodes": "0"}]
    return new


def _custom(api_client: Any) -> Any:
    from kubernetes import client

    return client.CustomObjectsApi(api_client)


def _put_spec(api_client: Any, name: str, spec: dict[str, Any]) -> None:
    _custom(api_client).patch_cluster_custom_object(GROUP, VERSION, PLURAL, name,
                                                    [{"op": "replace", "path": "/spec", "value": spec}],
                                                    _content_type="application/json-patch+json")


@dataclass
class NodePoolFence:
    """The NodePools this run fenced, their specs as they were, and the ledger entries."""

    api_client: Any
    ledger: Any
    zone: str
    entries: dict[str, str] = field(default_factory=dict)  # NodePool -> ledger entry id
    before: dict[str, dict[str, Any]] = field(default_factory=dict)

    def describe(self) -> str:
        return (f"Karpenter kept out of {self.zone}: NodePool(s) {', '.join(sorted(self.before))} got "
                f"{ZONE} NotIn [{self.zone}] and budget nodes \"0\" (restored exactly on undo)")

    def undo(self) -> list[str]:
        notes = []
        for name, spec in self.before.items():
            notes.append(restore_nodepool(self.api_client, name, spec))
            self.ledger.done(self.entries[name], notes[-1])
        return notes


def fence_nodepools(api_client: Any, ledger: Any, zone: str, pools: list[dict[str, Any]]) -> NodePoolFence:
    """Record each NodePool's spec, then patch it. A pool that already excludes nothing new is still frozen."""
    fence = NodePoolFence(api_client, ledger, zone)
    for pool in pools:
        name = pool["metadata"]["name"]
        spec = pool["spec"]
        fence.entries[name] = ledger.record(KIND, {"nodepool": name, "spec": spec}, f"nodepool/{name}")
        fence.before[name] = spec
        _put_spec(api_client, name, fenced_spec(spec, zone))
    return fence


def restore_nodepool(api_client: Any, name: str, spec: dict[str, Any]) -> str:
    """Put the recorded spec back (idempotent; a NodePool deleted meanwhile is left deleted)."""
    from kubernetes.client.exceptions import ApiException

    try:
        _put_spec(api_client, name, spec)
    except ApiException as e:
        if e.status == 404:
            return f"NodePool {name} is gone; nothing to restore"
        raise
    return f"restored NodePool {name} spec"


def _ledger_handler(undo: dict[str, Any], cluster: Any) -> Any:
    from ..chaos.ledger import UndoOutcome

    action = restore_nodepool(cluster.api, undo["nodepool"], undo["spec"])
    return UndoOutcome(KIND, f"nodepool/{undo['nodepool']}", True, action, "")


def register_with_ledger() -> None:
    from ..chaos.ledger import register_undo

    register_undo(KIND, _ledger_handler)


register_with_ledger()


def karpenter_instance_ids(nodes: Any, zone: str) -> list[str]:
    """Instance ids of the Karpenter nodes (``karpenter.sh/nodepool``) in ``zone``: stopped, they are replaced."""
    from ..aws.inventory import parse_provider_id
    from ..aws.kube_objects import get

    out = []
    for node in nodes:
        labels = get(node, "metadata", "labels") or {}
        parsed = parse_provider_id(get(node, "spec", "providerID"))
        if labels.get("karpenter.sh/nodepool") and parsed and parsed[0] == zone:
            out.append(parsed[1])
    return sorted(out)


def launched_in_zone(nodes: Any, zone: str, existing: Any = ()) -> list[str]:
    """Karpenter nodes in ``zone`` not among ``existing`` (the node names before the fault): replacements launched
    into a lost zone, which a fault without zone exclusion lets Karpenter do (facts §2), named for the message."""
    known = set(existing)
    out = []
    for node in nodes:
        labels = get_labels(node)
        if labels.get("karpenter.sh/nodepool") and labels.get(ZONE) == zone and _name(node) not in known:
            out.append(f"{_name(node)} (NodePool {labels['karpenter.sh/nodepool']}, created {_created(node)})")
    return sorted(out)


def get_labels(node: Any) -> dict[str, str]:
    from ..aws.kube_objects import get

    return dict(get(node, "metadata", "labels") or {})


def _name(node: Any) -> str:
    from ..aws.kube_objects import get

    return str(get(node, "metadata", "name"))


def _created(node: Any) -> str:
    from ..aws.kube_objects import get

    value = get(node, "metadata", "creationTimestamp")
    return value if isinstance(value, str) else value.strftime("%Y-%m-%dT%H:%M:%SZ") if value else ""
