"""EndpointSlices and legacy Endpoints for Services with a selector, as kube-controller-manager builds them.

``EndpointSliceController`` (``pkg/controller/endpointslice``): slices ``<service>-<rand5>`` labelled
``kubernetes.io/service-name`` and ``endpointslice.kubernetes.io/managed-by:
endpointslice-controller.k8s.io``, owned by the Service; one endpoint per pod with an IP, conditions
``ready`` (Ready and not terminating, or publishNotReadyAddresses), ``serving`` (Ready), ``terminating``
(deletionTimestamp set), ``nodeName``, ``zone`` from the node's ``topology.kubernetes.io/zone``, and
``targetRef``; ports resolved per pod from numbered or named ``targetPort``. A Service whose pods have
no IP yet gets one placeholder slice with ``endpoints: null, ports: null``; existing endpoints keep
their place in their slice, new ones are appended (at most 100 per slice).

``EndpointsController`` (``pkg/controller/endpoint``): the ``Endpoints`` object named after the
Service, labelled ``endpoints.kubernetes.io/managed-by: endpoint-controller``, ``subsets`` with
``addresses`` (Ready) and ``notReadyAddresses``; terminating pods are left out unless the Service
publishes not-ready addresses; no subsets at all when no pod has an IP.

Both set ``endpoints.kubernetes.io/last-change-trigger-time`` from the earliest pod Ready transition
(or Service creation) that changed since the previous sync, and drop it when nothing did.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Hashable
from typing import Any

from ..apiserver.errors import ApiError, quiet
from ..apiserver.resources import REGISTRY
from ..apiserver.selectors import set_selector_matches
from ..apiserver.store import Event, Store
from . import topology_hints
from .base import Controller
from .events import EventRecorder

Obj = dict[str, Any]

SLICES = REGISTRY.lookup("discovery.k8s.io", "v1", "endpointslices")
ENDPOINTS = REGISTRY.lookup("", "v1", "endpoints")
assert SLICES is not None and ENDPOINTS is not None
SLICE_KEY = SLICES.key

SERVICE_NAME_LABEL = "kubernetes.io/service-name"
SLICE_MANAGED_BY = "endpointslice.kubernetes.io/managed-by"
SLICE_CONTROLLER = "endpointslice-controller.k8s.io"
ENDPOINTS_MANAGED_BY = "endpoints.kubernetes.io/managed-by"
ENDPOINTS_CONTROLLER = "endpoint-controller"
HEADLESS_LABEL = "service.kubernetes.io/headless"
TRIGGER_TIME = "endpoints.kubernetes.io/last-change-trigger-time"
MAX_ENDPOINTS_PER_SLICE = 100


# ---------------------------------------------------------------------- shared helpers


def selector_of(service: Obj) -> dict[str, str] | None:
    spec = service.get("spec") or {}
    if spec.get("type") == "ExternalName":
        return None
    return spec.get("selector") or None


def selected_pods(store: Store, service: Obj) -> list[Obj]:
    selector = selector_of(service)
    if not selector:
        return []
    ns = service["metadata"]["namespace"]
    pods = [p for p in store.scan("pods", ns) if set_selector_matches(selector, p["metadata"].get("labels"))]
    return sorted(pods, key=lambda p: p["metadata"]["name"])


def pod_ready(pod: Obj) -> bool:
    return any(c.get("type") == "Ready" and c.get("status") == "True"
               for c in (pod.get("status") or {}).get("conditions") or ())


def pod_ipv4(pod: Obj) -> str:
    status = pod.get("status") or {}
    for entry in status.get("podIPs") or ():
        ip = entry.get("ip") or ""
        if "." in ip:
            return ip
    ip = status.get("podIP") or ""
    return ip if "." in ip else ""


def should_be_in_endpoints(pod: Obj, include_terminating: bool) -> bool:
    """``ShouldPodBeInEndpoints``: not terminal, has an IP, terminating only when asked."""
    if (pod.get("status") or {}).get("phase") in ("Succeeded", "Failed"):
        return False
    if not pod_ipv4(pod):
        return False
    return include_terminating or not pod["metadata"].get("deletionTimestamp")


def find_port(pod: Obj, service_port: Obj) -> int | None:
    """``podutil.FindPort``: a number as is; a name looked up in the pod's container ports."""
    target = service_port.get("targetPort", service_port.get("port"))
    if isinstance(target, int):
        return target
    if isinstance(target, str) and target.isdigit():
        return int(target)
    protocol = service_port.get("protocol") or "TCP"
    spec = pod.get("spec") or {}
    containers = list(spec.get("containers") or ())
    containers += [c for c in spec.get("initContainers") or () if c.get("restartPolicy") == "Always"]
    for c in containers:
        for p in c.get("ports") or ():
            if p.get("name") == target and (p.get("protocol") or "TCP") == protocol:
                return int(p["containerPort"])
    return None


def should_set_hostname(pod: Obj, service: Obj) -> bool:
    spec = pod.get("spec") or {}
    return bool(spec.get("hostname")) and spec.get("subdomain") == service["metadata"]["name"] \
        and pod["metadata"].get("namespace") == service["metadata"].get("namespace")


def target_ref(pod: Obj) -> Obj:
    meta = pod["metadata"]
    return {"kind": "Pod", "namespace": meta.get("namespace", ""), "name": meta["name"], "uid": meta.get("uid", "")}


SAME_ZONE = ("PreferClose", "PreferSameZone")  # PreferClose: the deprecated alias (KEP-3015)


def traffic_distribution_hints(service: Obj, endpoint: Obj) -> Obj | None:
    """The hints ``trafficdist`` gives one endpoint (v1.36): a ready endpoint with a zone is hinted for its own zone
    under PreferClose/PreferSameZone, and also for its own node under PreferSameNode, whatever the other zones
    hold (kube-proxy's fallback covers a zone without endpoints). Not-ready and terminating endpoints get none.
    The legacy ``topology-mode: Auto`` annotation takes precedence (``topology_hints``)."""
    if topology_hints.auto_mode(service):
        return None
    mode = (service.get("spec") or {}).get("trafficDistribution")
    if mode not in (*SAME_ZONE, "PreferSameNode") or not (endpoint.get("conditions") or {}).get("ready"):
        return None
    hints: Obj = {}
    if endpoint.get("zone"):
        hints["forZones"] = [{"name": endpoint["zone"]}]
    if mode == "PreferSameNode" and endpoint.get("nodeName"):
        hints["forNodes"] = [{"name": endpoint["nodeName"]}]
    return hints or None


class TriggerTimeTracker:
    """``endpointutil.TriggerTimeTracker``: the earliest trigger that changed since the last sync."""

    def __init__(self) -> None:
        self.states: dict[tuple[str, str], tuple[dict[str, str], str]] = {}

    def compute(self, service: Obj, pods: list[Obj]) -> str:
        meta = service["metadata"]
        key = (meta.get("namespace", ""), meta["name"])
        old_pods, old_svc = self.states.get(key, ({}, ""))
        new_pods: dict[str, str] = {}
        changed: list[str] = []
        for pod in pods:
            ready = next((c for c in (pod.get("status") or {}).get("conditions") or ()
                          if c.get("type") == "Ready"), None)
            t = (ready or {}).get("lastTransitionTime") or ""
            if t:
                new_pods[pod["metadata"]["name"]] = t
                if t > old_pods.get(pod["metadata"]["name"], ""):
                    changed.append(t)
        svc_t = meta.get("creationTimestamp") or ""
        if svc_t > old_svc:
            changed.append(svc_t)
        self.states[key] = (new_pods, svc_t)
        return min(changed) if changed else ""

    def forget(self, namespace: str, name: str) -> None:
        self.states.pop((namespace, name), None)


class _ServiceController(Controller):
    """Enqueue a Service when it, or a pod its selector matches (before or after), changes."""

    def on_event(self, ev: Event) -> None:
        if ev.key == "services":
            self.enqueue((ev.namespace, ev.obj["metadata"]["name"]))
        elif ev.key == "pods":
            labels = [ev.obj["metadata"].get("labels")]
            if ev.old is not None:
                labels.append(ev.old["metadata"].get("labels"))
            for svc in self.store.scan("services", ev.namespace):
                selector = selector_of(svc)
                if selector and any(set_selector_matches(selector, lab) for lab in labels):
                    self.enqueue((ev.namespace, svc["metadata"]["name"]))


# ---------------------------------------------------------------------- EndpointSlices


class EndpointSliceController(_ServiceController):
    name = "endpointslice-controller"

    def __init__(self, store: Store):
        super().__init__(store)
        self.triggers = TriggerTimeTracker()
        self.recorder = EventRecorder(store, "endpoint-slice-controller")
        self._hinted: set[tuple[str, str]] = set()  # Services whose Auto hints are on (hintsPopulatedByService)
        #: Zones under an ARC zonal shift (EKS drops their endpoints unless all of a Service's are there).
        self.shifted_zones: frozenset[str] = frozenset()

    def _owned(self, ns: str, name: str) -> list[Obj]:
        return sorted((s for s in self.store.scan(SLICE_KEY, ns)
                       if (s["metadata"].get("labels") or {}).get(SERVICE_NAME_LABEL) == name
                       and (s["metadata"].get("labels") or {}).get(SLICE_MANAGED_BY) == SLICE_CONTROLLER),
                      key=lambda s: (s["metadata"].get("creationTimestamp", ""), s["metadata"]["name"]))

    def sync(self, key: Hashable) -> None:
        assert isinstance(key, tuple)
        ns, name = key
        service = self.store.peek("services", ns, name)
        existing = self._owned(ns, name)
        if service is None or selector_of(service) is None or service["metadata"].get("deletionTimestamp"):
            if service is None:
                self.triggers.forget(ns, name)
            if service is not None and selector_of(service) is None:
                for s in existing:
                    quiet(lambda s=s: self.store.delete(SLICES, ns, s["metadata"]["name"]))
            return
        pods = selected_pods(self.store, service)
        trigger = self.triggers.compute(service, pods)
        desired = self._desired(service, pods)
        self._auto_hints(service, desired)
        self._reconcile(service, existing, desired, trigger)

    def _auto_hints(self, service: Obj, desired: dict[str, tuple[list[Obj], dict[str, Obj]]]) -> None:
        """``topology-mode: Auto``: hints from the zones' CPU shares, and the events saying whether they are on."""
        key = (service["metadata"]["namespace"], service["metadata"]["name"])
        if not topology_hints.auto_mode(service):
            self._hinted.discard(key)
            return
        endpoints = [ep for _, eps in desired.values() for ep in eps.values()]
        reason = topology_hints.assign(endpoints, topology_hints.cpu_ratios(list(self.store.scan("nodes"))))
        if reason:
            self._hinted.discard(key)
            self.recorder.warning(service, "TopologyAwareHintsDisabled", f"{reason}, addressType: IPv4")
        elif key not in self._hinted:
            self._hinted.add(key)
            self.recorder.normal(service, "TopologyAwareHintsEnabled",
                                 f"{topology_hints.HINTS_ENABLED}, addressType: IPv4")

    def _endpoint(self, service: Obj, pod: Obj) -> Obj:
        serving = pod_ready(pod)
        terminating = bool(pod["metadata"].get("deletionTimestamp"))
        ready = bool((service.get("spec") or {}).get("publishNotReadyAddresses")) or (serving and not terminating)
        ep: Obj = {"addresses": [pod_ipv4(pod)],
                   "conditions": {"ready": ready, "serving": serving, "terminating": terminating}}
        if should_set_hostname(pod, service):
            ep["hostname"] = pod["spec"]["hostname"]
        ep["targetRef"] = target_ref(pod)
        node_name = (pod.get("spec") or {}).get("nodeName")
        if node_name:
            ep["nodeName"] = node_name
            node = self.store.peek("nodes", "", node_name)
            zone = ((node or {}).get("metadata", {}).get("labels") or {}).get("topology.kubernetes.io/zone")
            if zone:
                ep["zone"] = zone
        hints = traffic_distribution_hints(service, ep)
        if hints:
            ep["hints"] = hints
        return ep

    def _desired(self, service: Obj, pods: list[Obj]) -> dict[str, tuple[list[Obj], dict[str, Obj]]]:
        """Port set (as JSON) -> (ports, endpoints by pod key)."""
        out: dict[str, tuple[list[Obj], dict[str, Obj]]] = {}
        for pod in pods:
            if not should_be_in_endpoints(pod, include_terminating=True):
                continue
            ports = []
            for sp in (service.get("spec") or {}).get("ports") or ():
                num = find_port(pod, sp)
                if num is None:
                    continue
                port: Obj = {"name": sp.get("name") or "", "protocol": sp.get("protocol") or "TCP", "port": num}
                if sp.get("appProtocol"):
                    port["appProtocol"] = sp["appProtocol"]
                ports.append(port)
            pkey = json.dumps(ports, sort_keys=True)
            group = out.setdefault(pkey, (ports, {}))
            group[1][_ep_key(target_ref(pod))] = self._endpoint(service, pod)
        return self._zonal_shift(out)

    def _zonal_shift(self, out: dict[str, tuple[list[Obj], dict[str, Obj]]]
                     ) -> dict[str, tuple[list[Obj], dict[str, Obj]]]:
        """EKS during a zonal shift: the shifted zones' endpoints leave, unless every endpoint is there (fail safe)."""
        if not self.shifted_zones:
            return out
        eps = [ep for _, group in out.values() for ep in group.values()]
        if all(ep.get("zone") in self.shifted_zones for ep in eps):
            return out
        return {k: (ports, {key: ep for key, ep in group.items() if ep.get("zone") not in self.shifted_zones})
                for k, (ports, group) in out.items()}

    def _reconcile(self, service: Obj, existing: list[Obj], desired: dict[str, tuple[list[Obj], dict[str, Obj]]],
                   trigger: str) -> None:
        ns = service["metadata"]["namespace"]
        labels = self._labels(service)
        pool = list(existing)
        # Slices whose ports match a desired group keep their endpoints, updated in place.
        plans: list[tuple[Obj | None, list[Obj] | None, list[Obj] | None]] = []
        for pkey, (ports, eps) in desired.items():
            remaining = dict(eps)
            mine = [s for s in pool if s.get("endpoints") and json.dumps(s.get("ports") or [], sort_keys=True) == pkey]
            group: list[tuple[Obj | None, list[Obj] | None, list[Obj] | None]] = []
            for s in mine:
                pool.remove(s)
                kept = [remaining.pop(_ep_key(e["targetRef"])) for e in s.get("endpoints") or ()
                        if e.get("targetRef") and _ep_key(e["targetRef"]) in remaining]
                group.append((s, ports, kept))
            for _, _, kept in group:
                while kept is not None and len(kept) < MAX_ENDPOINTS_PER_SLICE and remaining:
                    kept.append(remaining.pop(next(iter(remaining))))
            plans.extend(group)
            rest = list(remaining.values())
            while rest:
                chunk, rest = rest[:MAX_ENDPOINTS_PER_SLICE], rest[MAX_ENDPOINTS_PER_SLICE:]
                plans.append((None, ports, chunk))
        plans = [p for p in plans if p[2]]
        if not plans:
            plans = [(None, None, None)]  # placeholder: endpoints null, ports null
        # Reuse leftover slices (a placeholder, or emptied ones) before creating new ones.
        final: list[tuple[Obj | None, list[Obj] | None, list[Obj] | None]] = []
        for s, ports, eps in plans:
            if s is None and pool:
                s = pool.pop(0)
            final.append((s, ports, eps))
        for s, ports, eps in final:
            if s is None:
                self._create(service, labels, ports, eps, trigger)
            else:
                self._update(s, labels, ports, eps, trigger)
        for s in pool:
            quiet(lambda s=s: self.store.delete(SLICES, ns, s["metadata"]["name"]))

    @staticmethod
    def _labels(service: Obj) -> dict[str, str]:
        labels = {k: v for k, v in (service["metadata"].get("labels") or {}).items()
                  if k not in (SERVICE_NAME_LABEL, SLICE_MANAGED_BY)}
        if (service.get("spec") or {}).get("clusterIP") == "None":
            labels[HEADLESS_LABEL] = ""
        labels[SERVICE_NAME_LABEL] = service["metadata"]["name"]
        labels[SLICE_MANAGED_BY] = SLICE_CONTROLLER
        return dict(sorted(labels.items()))

    def _create(self, service: Obj, labels: dict[str, str], ports: list[Obj] | None, eps: list[Obj] | None,
                trigger: str) -> None:
        meta = service["metadata"]
        body: Obj = {
            "metadata": {
                "generateName": _prefix(meta["name"]),
                "labels": labels,
                "ownerReferences": [{"apiVersion": "v1", "kind": "Service", "name": meta["name"], "uid": meta["uid"],
                                     "controller": True, "blockOwnerDeletion": True}],
            },
            "addressType": "IPv4",
            "endpoints": eps or None,
            "ports": ports if eps else None,
        }
        if trigger:
            body["metadata"]["annotations"] = {TRIGGER_TIME: trigger}
        quiet_create(lambda: self.store.create(SLICES, meta["namespace"], body))

    def _update(self, slice_: Obj, labels: dict[str, str], ports: list[Obj] | None, eps: list[Obj] | None,
                trigger: str) -> None:
        new_eps = eps or None
        new_ports = ports if eps else None
        if slice_.get("endpoints") == new_eps and slice_.get("ports") == new_ports \
                and (slice_["metadata"].get("labels") or {}) == labels:
            return

        def mutate(s: Obj) -> Obj:
            s["metadata"]["labels"] = labels
            ann = dict(s["metadata"].get("annotations") or {})
            if trigger:
                ann[TRIGGER_TIME] = trigger
            else:
                ann.pop(TRIGGER_TIME, None)
            if ann:
                s["metadata"]["annotations"] = ann
            else:
                s["metadata"].pop("annotations", None)
            s["addressType"] = s.get("addressType") or "IPv4"
            s["endpoints"] = new_eps
            s["ports"] = new_ports
            return s

        meta = slice_["metadata"]
        quiet(lambda: self.store.guaranteed_update(SLICES, meta["namespace"], meta["name"], mutate))


def _ep_key(ref: Obj) -> str:
    return f"{ref.get('namespace', '')}/{ref.get('name', '')}/{ref.get('uid', '')}"


def _prefix(service_name: str) -> str:
    """``getEndpointSlicePrefix``: ``<service>-`` unless that makes the name too long."""
    prefix = service_name + "-"
    return prefix if len(prefix) <= 63 - 5 else service_name[: 63 - 5]


# ---------------------------------------------------------------------- legacy Endpoints


class EndpointsController(_ServiceController):
    name = "endpoint-controller"

    def __init__(self, store: Store):
        super().__init__(store)
        self.triggers = TriggerTimeTracker()

    def sync(self, key: Hashable) -> None:
        assert isinstance(key, tuple)
        ns, name = key
        service = self.store.peek("services", ns, name)
        if service is None:
            self.triggers.forget(ns, name)
            current = self.store.peek("endpoints", ns, name)
            if current is not None and (current["metadata"].get("labels") or {}).get(ENDPOINTS_MANAGED_BY) \
                    == ENDPOINTS_CONTROLLER:
                quiet(lambda: self.store.delete(ENDPOINTS, ns, name))
            return
        if selector_of(service) is None:
            return
        pods = selected_pods(self.store, service)
        trigger = self.triggers.compute(service, pods)
        subsets = self._subsets(service, pods)
        current = self.store.peek("endpoints", ns, name)
        svc_labels = dict(service["metadata"].get("labels") or {})
        if current is not None:
            compare = {k: v for k, v in (current["metadata"].get("labels") or {}).items()
                       if k not in (HEADLESS_LABEL, ENDPOINTS_MANAGED_BY)}
            if (current.get("subsets") or []) == subsets and compare == svc_labels:
                return
        labels = dict(svc_labels)
        labels[ENDPOINTS_MANAGED_BY] = ENDPOINTS_CONTROLLER
        if (service.get("spec") or {}).get("clusterIP") == "None":
            labels[HEADLESS_LABEL] = ""
        labels = dict(sorted(labels.items()))

        def fill(ep: Obj) -> Obj:
            ep["metadata"]["labels"] = labels
            ann = dict(ep["metadata"].get("annotations") or {})
            if trigger:
                ann[TRIGGER_TIME] = trigger
            else:
                ann.pop(TRIGGER_TIME, None)
            if ann:
                ep["metadata"]["annotations"] = ann
            else:
                ep["metadata"].pop("annotations", None)
            if subsets:
                ep["subsets"] = subsets
            else:
                ep.pop("subsets", None)
            return ep

        if current is None:
            quiet_create(lambda: self.store.create(ENDPOINTS, ns, fill({"metadata": {"name": name}})))
        else:
            quiet(lambda: self.store.guaranteed_update(ENDPOINTS, ns, name, fill))

    def _subsets(self, service: Obj, pods: list[Obj]) -> list[Obj]:
        spec = service.get("spec") or {}
        tolerate_unready = bool(spec.get("publishNotReadyAddresses"))
        groups: dict[str, tuple[list[Obj], list[Obj], list[Obj]]] = {}
        for pod in pods:
            if not should_be_in_endpoints(pod, include_terminating=tolerate_unready):
                continue
            addr: Obj = {"ip": pod_ipv4(pod)}
            if should_set_hostname(pod, service):
                addr["hostname"] = pod["spec"]["hostname"]
            if (pod.get("spec") or {}).get("nodeName"):
                addr["nodeName"] = pod["spec"]["nodeName"]
            addr["targetRef"] = target_ref(pod)
            ports: list[Obj] = []
            for sp in spec.get("ports") or ():
                num = find_port(pod, sp)
                if num is None:
                    continue
                port: Obj = {}
                if sp.get("name"):
                    port["name"] = sp["name"]
                port["port"] = num
                port["protocol"] = sp.get("protocol") or "TCP"
                if sp.get("appProtocol"):
                    port["appProtocol"] = sp["appProtocol"]
                ports.append(port)
            if spec.get("ports") and not ports:
                continue
            pkey = json.dumps(ports, sort_keys=True)
            group = groups.setdefault(pkey, (ports, [], []))
            if tolerate_unready or pod_ready(pod):
                group[1].append(addr)
            else:
                group[2].append(addr)
        subsets = []
        for pkey in sorted(groups):
            ports, ready, not_ready = groups[pkey]
            subset: Obj = {}
            if ready:
                subset["addresses"] = sorted(ready, key=lambda a: (a["ip"], a["targetRef"]["uid"]))
            if not_ready:
                subset["notReadyAddresses"] = sorted(not_ready, key=lambda a: (a["ip"], a["targetRef"]["uid"]))
            if ports:
                subset["ports"] = ports
            subsets.append(subset)
        return subsets



def quiet_create(write: Callable[[], Any]) -> Any:
    """``quiet`` for creates: a create in a namespace being deleted is expected to fail and is not an error (the
    Service outlives its Endpoints there while a finalizer holds it; ``endpoints_controller.go`` and the
    EndpointSlice reconciler skip ``NamespaceTerminatingCause``)."""
    try:
        return quiet(write)
    except ApiError as e:
        if any(c.reason == "NamespaceTerminating" for c in e.causes):
            return None
        raise
