"""The cluster state the oracle reasons over: nodes, pods, PDBs and volumes as plain API JSON (dicts).

Objects are kept as the API serves them (camelCase dicts), so the oracle reads a real cluster through the
kubernetes client (``read.read_state``) and its unit tests feed it literal manifests with no translation layer.
Small helpers here answer the questions the filters ask: a pod's requests, tolerations, controller; a node's
zone, allocatable, taints; label selectors and node selector terms as upstream evaluates them.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Literal

from ..wellknown import LEGACY_ZONE_LABEL, PV_ZONE_KEYS, ZONE_LABEL

Obj = dict[str, Any]
FaultKind = Literal["drain", "power-off", "partition", "zonal-shift"]
FAULT_KINDS: tuple[str, ...] = ("drain", "power-off", "partition", "zonal-shift")
#: Names the rest of the plugin uses for the same faults.
FAULT_ALIASES = {"zone_outage": "power-off", "outage": "power-off", "drain_zone": "drain",
                 "zone_partition": "partition", "zonal_shift": "zonal-shift", "shift": "zonal-shift"}

UNSCHEDULABLE_TAINT = "node.kubernetes.io/unschedulable"
NOT_READY_TAINT = "node.kubernetes.io/not-ready"
UNREACHABLE_TAINT = "node.kubernetes.io/unreachable"
OUT_OF_SERVICE_TAINT = "node.kubernetes.io/out-of-service"


def fault_kind(name: str) -> FaultKind:
    """``name`` (or one of its aliases) as a fault kind; ValueError naming the choices otherwise."""
    kind = FAULT_ALIASES.get(name, name)
    if kind not in FAULT_KINDS:
        raise ValueError(f"unknown fault flavour {name!r}: use one of {', '.join(FAULT_KINDS)}")
    return kind  # type: ignore[return-value]


@dataclass(frozen=True)
class Fault:
    """A fault flavour on a zone; ``nodes`` narrows it to some of the zone's nodes (None: all of them)."""

    kind: FaultKind
    zone: str
    nodes: tuple[str, ...] | None = None

    @classmethod
    def of(cls, kind: str, zone: str, nodes: Iterable[str] | None = None) -> Fault:
        return cls(fault_kind(kind), zone, tuple(nodes) if nodes is not None else None)

    def describe(self) -> str:
        where = f"{len(self.nodes)} node(s) of {self.zone}" if self.nodes is not None else self.zone
        return f"{self.kind} of {where}"


# ---------------------------------------------------------------------------------------------- selectors


def matches_selector(selector: Obj | None, labels: dict[str, str]) -> bool:
    """``metav1.LabelSelectorAsSelector``: a nil selector matches nothing, an empty one everything."""
    if selector is None:
        return False
    for k, v in (selector.get("matchLabels") or {}).items():
        if labels.get(k) != v:
            return False
    for expr in selector.get("matchExpressions") or ():
        key, op, values = expr.get("key"), expr.get("operator"), expr.get("values") or []
        if op == "In" and labels.get(key) not in values:
            return False
        if op == "NotIn" and key in labels and labels[key] in values:
            return False
        if op == "Exists" and key not in labels:
            return False
        if op == "DoesNotExist" and key in labels:
            return False
    return True


def _requirement(expr: Obj, value: str | None) -> bool:
    op, values = expr.get("operator"), expr.get("values") or []
    if op == "In":
        return value is not None and value in values
    if op == "NotIn":
        return value is None or value not in values
    if op == "Exists":
        return value is not None
    if op == "DoesNotExist":
        return value is None
    if op in ("Gt", "Lt") and value is not None and values:
        try:
            a, b = int(value), int(values[0])
        except ValueError:
            return False
        return a > b if op == "Gt" else a < b
    return False


def matches_node_selector_terms(terms: list[Obj] | None, node: Obj) -> bool:
    """A NodeSelector's terms (ORed; each term's expressions ANDed); an empty list matches nothing."""
    labels = labels_of(node)
    name = node["metadata"]["name"]
    for term in terms or ():
        exprs, fields = term.get("matchExpressions") or [], term.get("matchFields") or []
        if not exprs and not fields:
            continue
        if all(_requirement(e, labels.get(e.get("key"))) for e in exprs) and \
                all(_requirement(f, name if f.get("key") == "metadata.name" else None) for f in fields):
            return True
    return False


# ---------------------------------------------------------------------------------------------- nodes


def labels_of(obj: Obj) -> dict[str, str]:
    return dict((obj.get("metadata") or {}).get("labels") or {})


def name_of(obj: Obj) -> str:
    return str(obj["metadata"]["name"])


def zone_of_node(node: Obj) -> str | None:
    labels = labels_of(node)
    return labels.get(ZONE_LABEL) or labels.get(LEGACY_ZONE_LABEL)


def taints_of(node: Obj) -> list[Obj]:
    return list((node.get("spec") or {}).get("taints") or [])


def node_ready(node: Obj) -> bool:
    return any(c.get("type") == "Ready" and c.get("status") == "True"
               for c in (node.get("status") or {}).get("conditions") or ())


def quantity(value: Any) -> Decimal:
    """A resource quantity (``250m``, ``1Gi``, ``29``) as a number (cores, bytes, count)."""
    from kubernetes.utils import parse_quantity

    return Decimal(parse_quantity(value))


def allocatable_of(node: Obj) -> dict[str, Decimal]:
    return {k: quantity(v) for k, v in ((node.get("status") or {}).get("allocatable") or {}).items()}


# ---------------------------------------------------------------------------------------------- pods


def pod_key(pod: Obj) -> str:
    return f"{pod['metadata'].get('namespace', '')}/{pod['metadata']['name']}"


def node_of_pod(pod: Obj) -> str | None:
    return (pod.get("spec") or {}).get("nodeName") or None


def terminating(pod: Obj) -> bool:
    return bool(pod["metadata"].get("deletionTimestamp"))


def finished(pod: Obj) -> bool:
    return (pod.get("status") or {}).get("phase") in ("Succeeded", "Failed")


def pod_ready(pod: Obj) -> bool:
    return not terminating(pod) and any(c.get("type") == "Ready" and c.get("status") == "True"
                                        for c in (pod.get("status") or {}).get("conditions") or ())


def controller_of(pod: Obj) -> tuple[str, str]:
    """(kind, name) of the pod's controller; a ReplicaSet counts as its Deployment's; ("", "") for none."""
    for ref in pod["metadata"].get("ownerReferences") or ():
        if ref.get("controller"):
            return str(ref.get("kind", "")), str(ref.get("name", ""))
    return "", ""


def requests_of(pod: Obj) -> dict[str, Decimal]:
    """What the scheduler reserves for the pod: the sum of its containers' requests, at least each init
    container's, plus the pod overhead (``computePodResourceRequest``)."""
    spec = pod.get("spec") or {}
    total: dict[str, Decimal] = {}
    for c in spec.get("containers") or ():
        for k, v in ((c.get("resources") or {}).get("requests") or {}).items():
            total[k] = total.get(k, Decimal(0)) + quantity(v)
    for c in spec.get("initContainers") or ():
        for k, v in ((c.get("resources") or {}).get("requests") or {}).items():
            total[k] = max(total.get(k, Decimal(0)), quantity(v))
    for k, v in (spec.get("overhead") or {}).items():
        total[k] = total.get(k, Decimal(0)) + quantity(v)
    return total


def tolerates(toleration: Obj, taint: Obj) -> bool:
    """``v1.Toleration.ToleratesTaint``."""
    effect = toleration.get("effect")
    if effect and effect != taint.get("effect"):
        return False
    key = toleration.get("key")
    if key and key != taint.get("key"):
        return False
    op = toleration.get("operator") or "Equal"
    if op == "Exists":
        return True
    if op != "Equal":
        return False
    return (toleration.get("value") or "") == (taint.get("value") or "")


def untolerated(pod: Obj, taints: Iterable[Obj], effects: tuple[str, ...] = ("NoSchedule", "NoExecute")) -> list[Obj]:
    tolerations = (pod.get("spec") or {}).get("tolerations") or []
    return [t for t in taints if t.get("effect") in effects and not any(tolerates(x, t) for x in tolerations)]


def toleration_seconds(pod: Obj, taint_key: str) -> float | None:
    """How long the pod stays once ``taint_key:NoExecute`` is on its node: 0 (evicted at once) when untolerated,
    None when tolerated forever, else the smallest matching ``tolerationSeconds`` (upstream's
    ``getMinTolerationTime``; the DefaultTolerationSeconds admission adds 300 s to every pod)."""
    taint = {"key": taint_key, "effect": "NoExecute"}
    matching = [t for t in (pod.get("spec") or {}).get("tolerations") or () if tolerates(t, taint)]
    if not matching:
        return 0.0
    seconds = [t.get("tolerationSeconds") for t in matching]
    if any(s is None for s in seconds):
        bounded = [float(s) for s in seconds if s is not None]
        return min(bounded) if bounded else None
    return float(min(max(0, int(s)) for s in seconds if s is not None))


def claims_of(pod: Obj) -> list[str]:
    return [v["persistentVolumeClaim"]["claimName"] for v in (pod.get("spec") or {}).get("volumes") or ()
            if v.get("persistentVolumeClaim")]


def pv_zones(pv: Obj | None) -> set[str]:
    """The zones a PV's required node affinity names (either well-known key); empty when none."""
    out: set[str] = set()
    required = (((pv or {}).get("spec") or {}).get("nodeAffinity") or {}).get("required") or {}
    for term in required.get("nodeSelectorTerms") or ():
        for expr in term.get("matchExpressions") or ():
            if expr.get("key") in (*PV_ZONE_KEYS, LEGACY_ZONE_LABEL) and expr.get("operator") == "In":
                out.update(expr.get("values") or [])
    return out


# ---------------------------------------------------------------------------------------------- state


@dataclass
class ClusterState:
    """Everything the oracle needs, as read at one moment.

    ``pods``: every pod of the cluster (resources and anti-affinity count them all); ``workload``: the keys
    (``ns/name``) of the workload's pods; ``pdbs``, ``pvcs`` (by ``ns/name``), ``pvs`` (by name).
    """

    nodes: list[Obj]
    pods: list[Obj]
    workload: list[str]
    pdbs: list[Obj] = field(default_factory=list)
    pvcs: dict[str, Obj] = field(default_factory=dict)
    pvs: dict[str, Obj] = field(default_factory=dict)

    def node(self, name: str | None) -> Obj | None:
        return next((n for n in self.nodes if name_of(n) == name), None)

    def zone_of(self, node_name: str | None) -> str | None:
        node = self.node(node_name)
        return zone_of_node(node) if node else None

    def workload_pods(self) -> list[Obj]:
        keys = set(self.workload)
        return [p for p in self.pods if pod_key(p) in keys]

    def pod_pvs(self, pod: Obj) -> list[tuple[str, Obj | None]]:
        """(claim, bound PV or None) for each claim the pod mounts."""
        ns = pod["metadata"].get("namespace", "")
        out = []
        for claim in claims_of(pod):
            pvc = self.pvcs.get(f"{ns}/{claim}")
            pv_name = ((pvc or {}).get("spec") or {}).get("volumeName")
            out.append((claim, self.pvs.get(pv_name) if pv_name else None))
        return out
