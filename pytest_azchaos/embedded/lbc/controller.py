"""The AWS Load Balancer Controller (``lbc``) or EKS Auto Mode's load balancing (``auto-mode``) of the cluster.

- Reconciles the Services it owns (:func:`.model.controller_of`) into an :class:`~.model.LbModel` that
  the data plane turns into an NLB (``network/nlb.py``, ``network/nlb_ip.py``) and the cloud layer
  mirrors into moto. The LBC reconciles only while one of its pods runs (images/aws_lbc.py): with both
  replicas gone (a lost zone), new Services get no load balancer and targets are neither registered nor
  deregistered (``eks-flavours-facts.md`` §1.5). Auto Mode's controller runs in the control plane: always up.
- Its webhooks (LBC only; registered in :class:`.webhooks.WebhookServers` by each running replica):
  ``/mutate-v1-service`` stamps ``loadBalancerClass: service.k8s.aws/nlb`` on every new LoadBalancer Service
  without a class, whatever its annotations (``webhooks/core/service_mutator.go`` ``MutateCreate``);
  ``/mutate-v1-pod`` adds a readiness gate ``target-health.elbv2.k8s.aws/<target group>`` per ip target group
  whose Service selects the new pod, only when that Service's target group exists already
  (``docs/deploy/pod_readiness_gate.md``).
- Readiness gates: each gated pod's condition follows its target's health (True once healthy, False with the
  ELB reason before), as the LBC's target-group-binding reconciler writes it.
- Auto Mode: ``eks.amazonaws.com/nlb`` is "automatically set as the cluster default" on new LoadBalancer
  Services without a class (``auto-configure-nlb.adoc``); there is no webhook object or pod to lose.
- The LBC puts its finalizer ``service.k8s.aws/resources`` on each Service it reconciles and removes it once the
  load balancer is gone (``pkg/service/service_controller.go``): while no replica runs, a deleted Service (and its
  namespace) stays Terminating.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Hashable
from typing import Any

from ..apiserver.errors import ApiError
from ..apiserver.resources import REGISTRY, ResourceType
from ..apiserver.selectors import set_selector_matches
from ..apiserver.store import Event, Store, now_rfc3339
from ..controllers.base import Controller
from .model import AUTO_MODE_CLASS, CONDITION_PREFIX, LBC_CLASS, LbModel, build_model, controller_of

log = logging.getLogger(__name__)
Obj = dict[str, Any]
PODS = REGISTRY.lookup("", "v1", "pods")
assert PODS is not None
# Target state -> (reason, message) of a readiness gate condition that is not True (DescribeTargetHealth's words).
GATE_REASONS = {
    "initial": ("Elb.InitialHealthChecking", "Initial health checks in progress"),
    "registering": ("Elb.RegistrationInProgress", "Target registration is in progress"),
    "unhealthy": ("Target.FailedHealthChecks", "Health checks failed"),
    "draining": ("Target.DeregistrationInProgress", "Target deregistration is in progress"),
    "unused": ("Target.NotRegistered", "Target is not registered to the target group"),
}
SERVICES = REGISTRY.lookup("", "v1", "services")
assert SERVICES is not None
FINALIZER = "service.k8s.aws/resources"


class LbcController(Controller):
    """Models of the Services it owns; webhooks; readiness gates."""

    name = "aws-load-balancer-controller"

    def __init__(self, store: Store, flavour: str, region: str, notify: Callable[[str, str], None],
                 gate_period: float = 0.5):
        super().__init__(store)
        self.flavour = flavour  # lbc | auto-mode
        self.region = region or "us-east-1"
        self.notify = notify  # the data plane: this Service's model changed
        self.gate_period = gate_period
        self.models: dict[tuple[str, str], LbModel] = {}
        self.replicas: set[str] = set()  # pod addresses of running controller containers
        self.servers: Any = None  # WebhookServers, set by the cluster (lbc)
        # (namespace, name) -> {target address: state}: the data plane's ip targets' health, for the gates.
        self.target_states: Callable[[str, str], dict[str, str]] = lambda ns, name: {}
        self._gates: asyncio.Task[None] | None = None

    # ------------------------------------------------------------------ liveness

    @property
    def up(self) -> bool:
        """Whether the controller reconciles now (Auto Mode: always; LBC: while one replica runs)."""
        return self.flavour == "auto-mode" or bool(self.replicas)

    def container_started(self, address: str) -> None:
        from ..images.aws_lbc import WEBHOOK_PORT

        was_up = self.up
        self.replicas.add(address)
        if self.servers is not None:
            self.servers.bind(address, WEBHOOK_PORT, self.handle_webhook)
        self.resync()
        if not was_up:  # back after a time with no replica: (de)register what changed meanwhile
            for namespace, name in list(self.models):
                self.notify(namespace, name)

    def container_stopped(self, address: str) -> None:
        from ..images.aws_lbc import WEBHOOK_PORT

        self.replicas.discard(address)
        if self.servers is not None:
            self.servers.unbind(address, WEBHOOK_PORT)

    def resync(self) -> None:
        for svc in self.store.scan("services"):
            self.enqueue((svc["metadata"]["namespace"], svc["metadata"]["name"]))

    # ------------------------------------------------------------------ reconcile

    def on_event(self, ev: Event) -> None:
        if ev.key == "services":
            self.enqueue((ev.namespace, ev.obj["metadata"]["name"]))

    def sync(self, key: Hashable) -> None:
        assert isinstance(key, tuple)
        if not self.up:
            return  # nobody reconciles: what exists stays as it is
        namespace, name = key
        svc = self.store.peek("services", namespace, name)
        owner = controller_of(svc, self.flavour) if svc is not None and not svc["metadata"].get(
            "deletionTimestamp") else None
        old = self.models.get(key)
        if owner is None:
            if old is not None:
                del self.models[key]
                self.notify(namespace, name)
            if svc is not None and FINALIZER in (svc["metadata"].get("finalizers") or []):
                self._finalizer(namespace, name, add=False)  # the load balancer is gone: let the Service go
            return
        assert svc is not None
        if self.flavour == "lbc" and FINALIZER not in (svc["metadata"].get("finalizers") or []):
            self._finalizer(namespace, name, add=True)
        model = build_model(svc, owner, self.region)
        if model != old:
            self.models[key] = model
            self.notify(namespace, name)

    def _finalizer(self, namespace: str, name: str, add: bool) -> None:
        def mutate(svc: Obj) -> Obj:
            finalizers = [f for f in svc["metadata"].get("finalizers") or [] if f != FINALIZER]
            if add:
                finalizers.append(FINALIZER)
            if finalizers:
                svc["metadata"]["finalizers"] = finalizers
            else:
                svc["metadata"].pop("finalizers", None)
            return svc

        try:
            self.store.guaranteed_update(SERVICES, namespace, name, mutate)
        except ApiError as e:
            if e.code not in (404, 409):
                raise

    def model(self, namespace: str, name: str) -> LbModel | None:
        return self.models.get((namespace, name))

    # ------------------------------------------------------------------ webhooks

    def handle_webhook(self, path: str, request: Obj) -> Obj:
        obj = request.get("object") or {}
        if path == "/mutate-v1-service":
            return {"allowed": True, "patch": self.mutate_service(obj)}
        if path == "/mutate-v1-pod":
            return {"allowed": True, "patch": self.mutate_pod(request.get("namespace", ""), obj)}
        return {"allowed": False, "status": {"code": 404, "message": f"no webhook at {path}"}}

    @staticmethod
    def mutate_service(svc: Obj, cls: str = LBC_CLASS) -> list[Obj]:
        spec = svc.get("spec") or {}
        if spec.get("type") != "LoadBalancer" or spec.get("loadBalancerClass"):
            return []
        return [{"op": "add", "path": "/spec/loadBalancerClass", "value": cls}]

    def mutate_pod(self, namespace: str, pod: Obj) -> list[Obj]:
        labels = (pod.get("metadata") or {}).get("labels") or {}
        have = {g.get("conditionType") for g in (pod.get("spec") or {}).get("readinessGates") or []}
        gates = []
        for (ns, name), model in sorted(self.models.items()):
            if ns != namespace or model.target_type != "ip":
                continue
            svc = self.store.peek("services", ns, name)
            selector = ((svc or {}).get("spec") or {}).get("selector")
            if not selector or not set_selector_matches(selector, labels):
                continue
            gates += [c for c in model.gate_conditions() if c not in have]
        if not gates:
            return []
        ops: list[Obj] = []
        if not (pod.get("spec") or {}).get("readinessGates"):
            ops.append({"op": "add", "path": "/spec/readinessGates", "value": []})
        ops += [{"op": "add", "path": "/spec/readinessGates/-", "value": {"conditionType": c}} for c in gates]
        return ops

    def admit_auto_mode(self, rtype: ResourceType, namespace: str, obj: Obj) -> None:
        """Auto Mode's default class on new LoadBalancer Services (an admission hook, no webhook object)."""
        if rtype.kind == "Service" and rtype.group == "":
            for op in self.mutate_service(obj, AUTO_MODE_CLASS):
                obj.setdefault("spec", {})["loadBalancerClass"] = op["value"]

    # ------------------------------------------------------------------ readiness gates

    def start(self) -> None:
        if self._gates is None:
            self._gates = asyncio.get_running_loop().create_task(self._gate_loop())

    async def stop(self) -> None:
        if self._gates is not None:
            self._gates.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._gates
            self._gates = None

    async def _gate_loop(self) -> None:
        while True:
            await asyncio.sleep(self.gate_period)
            try:
                if self.up:
                    self.update_gates()
            except Exception as e:  # recorded, surfaced by the cluster's health check
                log.exception("readiness gates")
                self.errors.append(e)

    def update_gates(self) -> None:
        """Set each gated pod's condition from its target's health."""
        for (ns, name), model in list(self.models.items()):
            if model.target_type != "ip":
                continue
            conditions = set(model.gate_conditions())
            states = self.target_states(ns, name)
            for pod in self.store.scan("pods", ns):
                gates = {g.get("conditionType") for g in (pod.get("spec") or {}).get("readinessGates") or []}
                mine = sorted(gates & conditions)
                ip = (pod.get("status") or {}).get("podIP")
                if not mine or not ip or pod["metadata"].get("deletionTimestamp"):
                    continue
                state = states.get(ip, "unused")
                current = {c["type"]: c for c in (pod.get("status") or {}).get("conditions") or []}
                want = "True" if state == "healthy" else "False"
                if all(current.get(c, {}).get("status") == want for c in mine):
                    continue
                self._set_conditions(ns, pod["metadata"]["name"], pod["metadata"].get("uid"), mine, want, state)

    def _set_conditions(self, ns: str, name: str, uid: str | None, types: list[str], status: str, state: str) -> None:
        def mutate(pod: Obj) -> Obj:
            if pod["metadata"].get("uid") != uid:
                return pod
            conds = pod.setdefault("status", {}).setdefault("conditions", [])
            for ctype in types:
                cond: Obj = {"type": ctype, "status": status, "lastProbeTime": None,
                             "lastTransitionTime": now_rfc3339()}
                if status != "True":
                    cond["reason"], cond["message"] = GATE_REASONS.get(state, GATE_REASONS["unused"])
                for i, c in enumerate(conds):
                    if c.get("type") == ctype:
                        if c.get("status") == status:
                            cond["lastTransitionTime"] = c.get("lastTransitionTime")
                        conds[i] = cond
                        break
                else:
                    conds.append(cond)
            return pod

        try:
            self.store.guaranteed_update(PODS, ns, name, mutate, subresource="status")
        except ApiError as e:
            if e.code not in (404, 409):
                raise


def is_gate(condition_type: str) -> bool:
    return condition_type.startswith(CONDITION_PREFIX)
