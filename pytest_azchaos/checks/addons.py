"""AZ-ADDONS: the add-ons everything else depends on must not sit in one zone (a preflight, also a check).

Read from the API only, nothing changed (``eks-flavours-facts.md`` §1.1, §6):

- CoreDNS (the pods of Service ``kube-system/kube-dns``, else ``k8s-app=kube-dns``): the replicas actually spread
  (not all in one zone; not sharing a zone while another has none), else a failure; fewer replicas than zones is
  a warning, reported in the summary without failing (the EKS add-on runs 2 with a ``ScheduleAnyway`` zone spread:
  on 3 zones one zone has none, and after a reschedule both can share the zone that is lost);
- the AWS Load Balancer Controller, the EBS CSI controller and Karpenter (Deployments by their charts' names, in
  any namespace): installed ones must have running pods in more than one zone (the LBC's Service webhook is
  ``failurePolicy: Fail``: with its pods gone no LoadBalancer Service can be created);
- every webhook with ``failurePolicy: Fail`` (the v1 default) served by an in-cluster Service: its ready
  backends (EndpointSlices → pods → nodes → zones) must not all be in one zone, and it must have some;
- NodeLocal DNSCache (DaemonSet ``node-local-dns``) detected and reported (no serve-stale upstream: lookups to
  dead CoreDNS endpoints time out until the endpoints are removed);
- where the cluster shows its control plane (nodes labelled ``node-role.kubernetes.io/control-plane``, etcd pods
  in ``kube-system``): no single zone may hold enough members that losing it breaks quorum (2 + 1 over two
  zones: losing the zone of 2 leaves 1 of 3, below the quorum of 2).

Every finding names the workload, its zones and the fix. A read that fails (other than "not served here": 404)
makes the result inconclusive: not knowing is never a pass.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from ..kube.topology import ZoneMap, is_ready
from .evidence import selector_matches
from .result import CheckResult

CHECK_ID = "AZ-ADDONS"
DNS_NAMESPACE = "kube-system"
DNS_SERVICE = "kube-dns"
DNS_LABEL = "k8s-app=kube-dns"
NODELOCAL_DNS = "node-local-dns"
CONTROL_PLANE_LABELS = ("node-role.kubernetes.io/control-plane", "node-role.kubernetes.io/master")
ETCD_LABEL = "component=etcd"

SPREAD_FIX = ("run at least 2 replicas with a zone spread (topologySpreadConstraints on topology.kubernetes.io/zone, "
              "whenUnsatisfiable: DoNotSchedule) or a zone podAntiAffinity")
#: Deployment name -> (what it is, how to fix its placement with its own chart/add-on settings).
CRITICAL: dict[str, tuple[str, str]] = {
    "aws-load-balancer-controller": (
        "the AWS Load Balancer Controller (its Service webhook is failurePolicy: Fail)",
        "helm upgrade aws-load-balancer-controller with replicaCount >= 2 and topologySpreadConstraints on "
        "topology.kubernetes.io/zone (the chart's defaults only prefer other hosts)"),
    "ebs-csi-controller": (
        "the EBS CSI controller (volumes attach, detach and provision through it)",
        "set the aws-ebs-csi-driver add-on's controller.replicaCount >= 2 and controller.topologySpreadConstraints "
        "on topology.kubernetes.io/zone"),
    "karpenter": (
        "Karpenter (replacement capacity after the zone loss comes from it)",
        "helm upgrade karpenter with replicas >= 2 and topologySpreadConstraints on topology.kubernetes.io/zone "
        "(the chart sets whenUnsatisfiable: DoNotSchedule) and nodes for it in more than one zone"),
}
COREDNS_FIX = ("scale CoreDNS to at least one replica per zone (EKS add-on configuration {\"replicaCount\": N}) and "
               "make its zone spread DoNotSchedule (add-on configuration topologySpreadConstraints)")


class _Unreadable(Exception):
    """A read of ours failed (not a 404): the observation says nothing."""


@dataclass(frozen=True)
class Placement:
    """Where one workload's live pods run: pod -> zone (None: not scheduled, or a node without a zone label)."""

    kind: str
    namespace: str
    name: str
    pods: dict[str, str | None]
    ready: dict[str, bool] = field(default_factory=dict)
    desired: int | None = None

    @property
    def ref(self) -> str:
        return f"{self.kind} {self.namespace}/{self.name}"

    def zones(self) -> Counter[str]:
        return Counter(z for z in self.pods.values() if z)

    def describe(self) -> str:
        """``Deployment kube-system/coredns: 2 pod(s) in eu-west-1a: 2`` (and the unscheduled ones)."""
        per = self.zones()
        where = ", ".join(f"{z}: {n}" for z, n in sorted(per.items())) or "no zone"
        loose = len(self.pods) - sum(per.values())
        extra = f", {loose} unscheduled" if loose else ""
        desired = f" of {self.desired} desired" if self.desired is not None else ""
        return f"{self.ref}: {len(self.pods)} pod(s){desired} in {where}{extra}"


@dataclass(frozen=True)
class Addons:
    """What the check found: problems (each names workload, zones, fix), warnings (the same, not failing) and notes
    (detected, not installed)."""

    problems: tuple[str, ...]
    notes: tuple[str, ...]
    placements: tuple[Placement, ...]
    zones: tuple[str, ...]
    nodelocal_dns: bool
    warnings: tuple[str, ...] = ()  # findings that do not fail the check (fewer CoreDNS replicas than zones)


# ---------------------------------------------------------------------- reading


def _read(call: Callable[[], Any], what: str) -> Any:
    """The result of a read; None when the cluster does not serve it (404); ``_Unreadable`` otherwise."""
    from kubernetes.client import ApiException

    try:
        return call()
    except ApiException as e:
        if e.status == 404:
            return None
        raise _Unreadable(f"reading {what} failed: HTTP {e.status} {e.reason}") from None
    except Exception as e:
        raise _Unreadable(f"reading {what} failed: {type(e).__name__}: {e}") from None


def _live(pods: Iterable[Any]) -> list[Any]:
    return [p for p in pods if p.metadata.deletion_timestamp is None
            and (p.status.phase or "") not in ("Succeeded", "Failed")]


def _placement(kind: str, namespace: str, name: str, pods: Iterable[Any], zones: ZoneMap,
               desired: int | None = None) -> Placement:
    live = sorted(_live(pods), key=lambda p: p.metadata.name)
    return Placement(kind, namespace, name, {p.metadata.name: zones.zone_of(p.spec.node_name) for p in live},
                     {p.metadata.name: is_ready(p) for p in live}, desired)


def _pods_of(core: Any, namespace: str, selector: Any) -> list[Any]:
    pods = _read(lambda: core.list_namespaced_pod(namespace).items, f"pods in {namespace}") or []
    return [p for p in pods if selector_matches(selector, p.metadata.labels)]


def coredns_placement(core: Any, apps: Any, zones: ZoneMap) -> Placement | None:
    """CoreDNS's pods: those the ``kube-dns`` Service selects (else ``k8s-app=kube-dns``); None without any."""
    svc = _read(lambda: core.read_namespaced_service(DNS_SERVICE, DNS_NAMESPACE), "Service kube-system/kube-dns")
    selector = (svc.spec.selector if svc is not None and svc.spec.selector else None)
    if selector:
        pods = _pods_of(core, DNS_NAMESPACE, {"matchLabels": selector})
    else:
        pods = _read(lambda: core.list_namespaced_pod(DNS_NAMESPACE, label_selector=DNS_LABEL).items,
                     "CoreDNS pods") or []
    owner = _deployment_owning(apps, DNS_NAMESPACE, pods)
    if owner is None and not pods:
        return None
    if owner is not None:
        return _placement("Deployment", DNS_NAMESPACE, owner[0], pods, zones, owner[1])
    return _placement("Pods", DNS_NAMESPACE, DNS_LABEL if svc is None else f"Service {DNS_SERVICE}", pods, zones)


def _deployment_owning(apps: Any, namespace: str, pods: list[Any]) -> tuple[str, int | None] | None:
    """The Deployment whose selector takes ``pods`` (by its ``coredns`` name first), with its desired replicas."""
    deployments = _read(lambda: apps.list_namespaced_deployment(namespace).items, f"Deployments in {namespace}") or []
    for d in sorted(deployments, key=lambda d: d.metadata.name != "coredns"):
        if pods and any(selector_matches(d.spec.selector, p.metadata.labels) for p in pods):
            return d.metadata.name, d.spec.replicas
        if not pods and d.metadata.name == "coredns":
            return d.metadata.name, d.spec.replicas
    return None


def critical_placements(core: Any, apps: Any, zones: ZoneMap) -> list[Placement]:
    """The critical add-ons' Deployments found in any namespace (by name), with their pods."""
    deployments = _read(lambda: apps.list_deployment_for_all_namespaces().items, "Deployments") or []
    out = []
    for d in sorted(deployments, key=lambda d: (d.metadata.namespace, d.metadata.name)):
        if d.metadata.name in CRITICAL:
            pods = _pods_of(core, d.metadata.namespace, d.spec.selector)
            out.append(_placement("Deployment", d.metadata.namespace, d.metadata.name, pods, zones, d.spec.replicas))
    return out


@dataclass(frozen=True)
class Webhook:
    """One fail-closed webhook and the Service behind it (None: a URL outside the cluster)."""

    configuration: str  # MutatingWebhookConfiguration/NAME
    name: str
    service: tuple[str, str] | None


def fail_closed_webhooks(api_client: Any) -> list[Webhook]:
    """Every webhook whose ``failurePolicy`` is ``Fail`` (the v1 default when unset)."""
    from kubernetes import client

    admission = client.AdmissionregistrationV1Api(api_client)
    out = []
    listings = (("MutatingWebhookConfiguration", admission.list_mutating_webhook_configuration),
                ("ValidatingWebhookConfiguration", admission.list_validating_webhook_configuration))
    for kind, call in listings:
        listed = _read(call, f"{kind}s")
        for config in (listed.items if listed is not None else []):
            for hook in config.webhooks or []:
                if (hook.failure_policy or "Fail") != "Fail":
                    continue
                ref = hook.client_config.service if hook.client_config else None
                out.append(Webhook(f"{kind}/{config.metadata.name}", hook.name,
                                   (ref.namespace, ref.name) if ref is not None else None))
    return out


def service_backends(core: Any, api_client: Any, namespace: str, name: str, zones: ZoneMap) -> Placement:
    """The pods behind a Service's ready endpoints (EndpointSlices, by their targetRefs)."""
    from kubernetes import client

    discovery = client.DiscoveryV1Api(api_client)
    slices = _read(lambda: discovery.list_namespaced_endpoint_slice(
        namespace, label_selector=f"kubernetes.io/service-name={name}").items,
        f"EndpointSlices of Service {namespace}/{name}") or []
    names = {e.target_ref.name for s in slices for e in s.endpoints or []
             if e.target_ref is not None and e.target_ref.kind == "Pod"
             and (e.conditions is None or e.conditions.ready is not False)}
    pods = [p for p in _read(lambda: core.list_namespaced_pod(namespace).items, f"pods in {namespace}") or []
            if p.metadata.name in names]
    return _placement("Service", namespace, name, pods, zones)


# ---------------------------------------------------------------------- judging


def coredns_problems(dns: Placement, zones: list[str]) -> tuple[list[str], list[str]]:
    """(problems, warnings) of CoreDNS's placement. Problems: no replica, all in one zone, or replicas sharing a
    zone while another has none (not actually spread). Warning: fewer replicas than zones, spread over distinct
    zones (the EKS add-on's 2 on 3 zones): a zone loss leaves DNS up, but a zone has no DNS server of its own and a
    ``ScheduleAnyway`` spread may put every replica in one zone after the next reschedule."""
    per = dns.zones()
    if not dns.pods:
        return [f"CoreDNS ({dns.describe()}) has no running pods: cluster DNS is down; fix: {COREDNS_FIX}"], []
    if len(per) <= 1:
        zone = next(iter(per), "no zone")
        return [f"CoreDNS ({dns.describe()}) runs only in {zone}: losing {zone} takes cluster DNS with it; "
                f"fix: {COREDNS_FIX}"], []
    if len(per) < min(len(dns.pods), len(zones)):
        empty = [z for z in zones if z not in per]
        return [f"CoreDNS ({dns.describe()}) is not spread: replicas share a zone while {', '.join(empty)} has "
                f"none; fix: {COREDNS_FIX}"], []
    if len(dns.pods) < len(zones):
        empty = [z for z in zones if z not in per]
        return [], [f"CoreDNS ({dns.describe()}) runs {len(dns.pods)} replica(s) for {len(zones)} zones: "
                    f"{', '.join(empty)} has no DNS server of its own, and a spread that is only ScheduleAnyway can "
                    f"put every replica in one zone after the next reschedule; fix: {COREDNS_FIX}"]
    return [], []


def one_zone_problem(placement: Placement, what: str, fix: str) -> str | None:
    """A finding when ``placement`` has no pods, or all its scheduled pods in one zone."""
    per = placement.zones()
    if not placement.pods:
        return f"{what} ({placement.describe()}) has no running pods; fix: start it, then {fix}"
    if len(per) <= 1:
        zone = next(iter(per), "no zone")
        return (f"{what} ({placement.describe()}) runs only in {zone}: losing {zone} takes it down; fix: {fix}")
    return None


def quorum_problems(kind: str, members: dict[str, str | None]) -> list[str]:
    """Members (name -> zone) of a quorum: a zone whose loss leaves fewer than a majority is a finding."""
    if len(members) < 2:
        return []
    total = len(members)
    quorum = total // 2 + 1
    per = Counter(z or "no zone" for z in members.values())
    layout = " + ".join(f"{n} in {z}" for z, n in sorted(per.items()))
    out = []
    for zone, n in sorted(per.items()):
        if total - n < quorum:
            out.append(f"{kind}: {layout}: losing {zone} leaves {total - n} of {total}, below the quorum of {quorum}; "
                       f"fix: spread the {total} members so no zone holds {total - quorum + 1} or more "
                       f"(e.g. {' + '.join(['1'] * min(total, 3))} over three zones)")
    return out


def control_plane_members(core: Any, zones: ZoneMap) -> tuple[dict[str, str | None], dict[str, str | None]]:
    """(control-plane nodes -> zone, etcd pods -> zone), empty where the cluster does not show them (EKS)."""
    nodes = _read(lambda: core.list_node().items, "nodes") or []
    control = {n.metadata.name: zones.zone_of(n.metadata.name) for n in nodes
               if any(k in (n.metadata.labels or {}) for k in CONTROL_PLANE_LABELS)}
    etcd = _read(lambda: core.list_namespaced_pod(DNS_NAMESPACE, label_selector=ETCD_LABEL).items, "etcd pods") or []
    members = {p.metadata.name: zones.zone_of(p.spec.node_name) for p in _live(etcd)}
    return control, members


def nodelocal_dns(apps: Any) -> list[Any]:
    """DaemonSets named ``node-local-dns`` (any namespace)."""
    daemonsets = _read(lambda: apps.list_daemon_set_for_all_namespaces().items, "DaemonSets") or []
    return [d for d in daemonsets if d.metadata.name == NODELOCAL_DNS]


def survey(core: Any, zones: ZoneMap | None = None) -> Addons:
    """Read every add-on's placement and judge it (raises ``_Unreadable`` when a read fails)."""
    from kubernetes import client

    api_client = core.api_client
    apps = client.AppsV1Api(api_client)
    zones = zones or ZoneMap.read(core)
    usable = sorted({n.zone for n in zones.nodes if n.zone and n.ready})
    problems: list[str] = []
    notes: list[str] = []
    warnings: list[str] = []
    placements: list[Placement] = []

    dns = coredns_placement(core, apps, zones)
    if dns is None:
        notes.append(f"no cluster DNS found (Service {DNS_NAMESPACE}/{DNS_SERVICE}, pods {DNS_LABEL}): not judged")
    else:
        placements.append(dns)
        dns_problems, dns_warnings = coredns_problems(dns, usable)
        problems += dns_problems
        warnings += dns_warnings

    found = set()
    for placement in critical_placements(core, apps, zones):
        found.add(placement.name)
        placements.append(placement)
        what, fix = CRITICAL[placement.name]
        problem = one_zone_problem(placement, what, fix)
        if problem:
            problems.append(problem)
    notes += [f"{name}: not installed" for name in CRITICAL if name not in found]

    hooks = fail_closed_webhooks(api_client)
    seen: dict[tuple[str, str], Placement] = {}
    for hook in hooks:
        if hook.service is None:
            notes.append(f"webhook {hook.name} ({hook.configuration}, failurePolicy Fail) calls a URL outside the "
                         "cluster: its zones are not visible here")
            continue
        if hook.service not in seen:
            seen[hook.service] = service_backends(core, api_client, *hook.service, zones)
            placements.append(seen[hook.service])
        problem = one_zone_problem(seen[hook.service], f"webhook {hook.name} ({hook.configuration}, failurePolicy "
                                   f"Fail: while it has no backend the API server refuses what it matches)",
                                   SPREAD_FIX + " for the webhook's Deployment")
        if problem:
            problems.append(problem)
    if not hooks:
        notes.append("no webhook with failurePolicy Fail")

    local = nodelocal_dns(apps)
    for d in local:
        ready = d.status.number_ready if d.status else 0
        notes.append(f"NodeLocal DNSCache detected: DaemonSet {d.metadata.namespace}/{d.metadata.name} "
                     f"({ready} ready): pods resolve through it; it has no serve-stale, so lookups forwarded to "
                     "the lost zone's CoreDNS endpoints time out until those endpoints are removed")
    if not local:
        notes.append("NodeLocal DNSCache: not installed (pods query the kube-dns Service directly)")

    control, etcd = control_plane_members(core, zones)
    problems += quorum_problems("control-plane nodes", control)
    problems += quorum_problems("etcd members", etcd)
    if not control and not etcd:
        notes.append("control plane not visible (managed, as on EKS): quorum not judged")
    for kind, members in (("control-plane nodes", control), ("etcd members", etcd)):
        if members:
            per = Counter(z or "no zone" for z in members.values())
            notes.append(f"{kind}: " + ", ".join(f"{z}: {n}" for z, n in sorted(per.items())))
    return Addons(tuple(problems), tuple(notes), tuple(placements), tuple(usable), bool(local), tuple(warnings))


def addons(core: Any, zones: ZoneMap | None = None, *, check_id: str = CHECK_ID) -> CheckResult:
    """AZ-ADDONS: pass when no critical add-on, fail-closed webhook or quorum sits in one zone (see module doc)."""
    try:
        found = survey(core, zones)
    except _Unreadable as e:
        return CheckResult(check_id, False, "the add-ons could not be read", (str(e),), {}, str(e))
    evidence = ([p.describe() for p in found.placements] + [f"warning: {w}" for w in found.warnings]
                + list(found.notes))
    figures: dict[str, Any] = {"problems": len(found.problems), "warnings": len(found.warnings),
                               "workloads": len(found.placements),
                               "zones": list(found.zones), "nodelocal_dns": found.nodelocal_dns,
                               "per_workload": {p.ref: dict(p.zones()) for p in found.placements}}
    if found.problems:
        return CheckResult(check_id, False, "; ".join(found.problems), tuple(evidence), figures)
    warned = f"; {len(found.warnings)} warning(s): {'; '.join(found.warnings)}" if found.warnings else ""
    return CheckResult(check_id, True, f"{len(found.placements)} add-on workload(s) not in one zone "
                       f"({', '.join(found.zones)}){warned}", tuple(evidence), figures)
