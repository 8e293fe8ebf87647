"""The sample echo app: agnhost netexec behind a ``type: LoadBalancer`` Service, optionally with a PDB.

Well configured by default (6 replicas, zone spread with ``nodeTaintsPolicy: Honor`` plus a soft
per-node spread, readiness on
``/readyz``, a preStop sleep longer than the load balancer takes to stop sending to a draining node,
``--delay-shutdown`` longer than endpoint propagation, a PDB); every knob exists so the
misconfigured variants that prove each check can fail are one argument away.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any, Literal

from ..lb.flavours import LbFlavour, service_fields
from ..wellknown import MANAGED_BY, MANAGED_BY_LABEL, ZONE_LABEL
from .images import DEFAULT_AGNHOST, SampleImages
from .security import restricted_container_security, restricted_pod_security

AGNHOST = DEFAULT_AGNHOST  # upstream's; what a run uses is its SampleImages (--azchaos-image ...)
MANAGED = {MANAGED_BY_LABEL: MANAGED_BY}
HOSTNAME_LABEL = "kubernetes.io/hostname"
# The Service (and so the load balancer) listens here: an unprivileged port, because binding one below 1024
# needs root (CAP_NET_BIND_SERVICE) on Linux, and the embedded cluster runs as an ordinary user on laptops.
SERVICE_PORT = 8080

Spread = Literal["zone", "zone-ignore-taints", "none", "one-zone"]


@dataclass(frozen=True)
class EchoSpec:
    """Knobs of the echo app; the defaults are the well-configured app."""

    name: str = "echo"
    replicas: int = 6
    traffic_policy: Literal["Cluster", "Local"] = "Cluster"
    spread: Spread = "zone"
    pinned_zone: str | None = None  # for spread="one-zone"
    pdb_max_unavailable: int | str | None = 1  # None: no PDB
    delay_shutdown: int = 5  # seconds netexec keeps serving after SIGTERM (0: exit at once)
    # preStop sleep before SIGTERM: the pod keeps passing readiness while it is terminating, so its
    # endpoint stays "serving" and the load balancer has time to stop sending new flows. None: let the
    # deploying fixture derive it from the load balancer's window for the flavour (lb.window.nominal), on the
    # timing profile's clock.
    prestop_sleep: int | None = None
    # terminationGracePeriodSeconds; None: preStop + delay_shutdown + a margin (at least the API's default 30).
    grace_seconds: int | None = None
    readiness_period: int = 1
    # tolerationSeconds for not-ready/unreachable nodes: how long pods stay on a lost node before eviction.
    # None: the API default (300 s); the deploying fixture sets it from the timing profile.
    node_loss_toleration: int | None = None
    cpu_request: str = "50m"
    memory_request: str = "32Mi"
    cross_zone: bool = False
    # The load balancer asked for (lb.flavours.LbFlavour: legacy | lbc-instance | lbc-ip | auto-mode, and the
    # scheme); None: legacy, internet-facing. The deploying fixture sets the run's (--azchaos-lb, detected).
    lb: LbFlavour | None = None
    # preserve_client_ip.enabled on the target groups (LBC/Auto Mode); None: on for ip targets, AWS's default else.
    preserve_client_ip: bool | None = None
    # deregistration_delay.timeout_seconds on the target groups (LBC/Auto Mode); None: AWS's 300 s.
    deregistration_delay: int | None = None
    # A numeric non-root user, with the rest of what Pod Security `restricted` asks (apps.security); None: the
    # image's own user (root for agnhost), which a `restricted` namespace refuses.
    run_as_user: int | None = 1000
    labels: dict[str, str] = field(default_factory=dict)

    def but(self, **changes: Any) -> EchoSpec:
        return replace(self, **changes)

    @property
    def selector(self) -> dict[str, str]:
        return {"app.kubernetes.io/name": self.name}


def fitted(spec: EchoSpec, profile: Any) -> EchoSpec:
    """``spec`` with what it left open set for the timing ``profile``: a preStop sleep from the load balancer's window
    for the flavour (``lb.window.nominal``: ip targets outlast deregistration, instance targets the health check's
    detection, plus endpoint propagation), a grace period that covers preStop and the shutdown after SIGTERM, and
    the profile's node-loss toleration (short under ``fast``, so pods leave a lost node within the test's time)."""
    from ..lb.window import nominal

    lb = spec.lb or LbFlavour()
    window = nominal(lb.target_type, spec.traffic_policy, profile, spec.deregistration_delay,
                     "legacy" if lb.flavour == "legacy" else "lbc")
    if spec.prestop_sleep is None:
        spec = spec.but(prestop_sleep=window.recommended_prestop)
    if spec.grace_seconds is None:
        prestop = spec.prestop_sleep or 0
        spec = spec.but(grace_seconds=max(30, prestop + spec.delay_shutdown + max(5, -(-prestop // 10))))
    if spec.node_loss_toleration is None and profile.app_node_loss_toleration is not None:
        spec = spec.but(node_loss_toleration=profile.app_node_loss_toleration)
    return spec


def echo_manifests(spec: EchoSpec, run_labels: dict[str, str] | None = None,
                   images: SampleImages | None = None) -> list[dict[str, Any]]:
    """Deployment, Service and (optionally) PodDisruptionBudget, as plain manifests; ``images``: the image and
    pull secrets to use (default: upstream's agnhost, none)."""
    images = images or SampleImages()
    labels = {**MANAGED, **(run_labels or {}), **spec.labels}
    pod_labels = {**spec.selector, **labels}
    args = ["netexec", "--http-port=8080"]
    if spec.delay_shutdown:
        args.append(f"--delay-shutdown={spec.delay_shutdown}")
    pod_spec: dict[str, Any] = {
        "terminationGracePeriodSeconds": spec.grace_seconds if spec.grace_seconds is not None else 30,
        "containers": [{
            "name": "echo",
            "image": images.agnhost,
            "args": args,
            "ports": [{"name": "http", "containerPort": 8080}],
            "readinessProbe": {"httpGet": {"path": "/readyz", "port": 8080},
                               "periodSeconds": spec.readiness_period, "failureThreshold": 1},
            "resources": {"requests": {"cpu": spec.cpu_request, "memory": spec.memory_request}},
        }],
        **images.pod_spec_fields(),
    }
    if spec.run_as_user is not None:
        pod_spec["securityContext"] = restricted_pod_security(spec.run_as_user)
        pod_spec["containers"][0]["securityContext"] = restricted_container_security()
    if spec.node_loss_toleration is not None:
        pod_spec["tolerations"] = [
            {"key": key, "operator": "Exists", "effect": "NoExecute", "tolerationSeconds": spec.node_loss_toleration}
            for key in ("node.kubernetes.io/not-ready", "node.kubernetes.io/unreachable")]
    if spec.prestop_sleep:
        pod_spec["containers"][0]["lifecycle"] = {"preStop": {"sleep": {"seconds": spec.prestop_sleep}}}
    if spec.spread in ("zone", "zone-ignore-taints"):
        constraint: dict[str, Any] = {"maxSkew": 1, "topologyKey": ZONE_LABEL, "whenUnsatisfiable": "DoNotSchedule",
                                      "labelSelector": {"matchLabels": spec.selector}}
        if spec.spread == "zone":
            constraint["nodeTaintsPolicy"] = "Honor"
        # Nodes too, softly: a pod's own constraints replace the scheduler's default hostname spread
        # (PodTopologySpread defaultConstraints apply only to pods without any), and resource scoring alone
        # stacks a zone's pods on the node without CoreDNS/add-on pods. Under externalTrafficPolicy Local a
        # node's load-balancer share is split among its local pods, so two pods on one node serve half as much.
        per_node = {"maxSkew": 1, "topologyKey": HOSTNAME_LABEL, "whenUnsatisfiable": "ScheduleAnyway",
                    "labelSelector": {"matchLabels": spec.selector}}
        pod_spec["topologySpreadConstraints"] = [constraint, per_node]
    elif spec.spread == "one-zone":
        if not spec.pinned_zone:
            raise ValueError("spread='one-zone' needs pinned_zone")
        pod_spec["nodeSelector"] = {ZONE_LABEL: spec.pinned_zone}
    deployment = {
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": spec.name, "labels": labels},
        "spec": {
            "replicas": spec.replicas,
            "selector": {"matchLabels": spec.selector},
            "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": 1, "maxUnavailable": 0}},
            "template": {"metadata": {"labels": pod_labels}, "spec": pod_spec},
        },
    }
    # Class, scheme and target type always stated for the LBC and Auto Mode (never a controller's default).
    lb_class, annotations = service_fields(spec.lb or LbFlavour(), cross_zone=spec.cross_zone,
                                           preserve_client_ip=spec.preserve_client_ip,
                                           deregistration_delay=spec.deregistration_delay)
    service_spec: dict[str, Any] = {
        "type": "LoadBalancer", "selector": spec.selector, "externalTrafficPolicy": spec.traffic_policy,
        "ports": [{"name": "http", "port": SERVICE_PORT, "targetPort": "http", "protocol": "TCP"}]}
    if lb_class:
        service_spec["loadBalancerClass"] = lb_class
    service = {
        "apiVersion": "v1", "kind": "Service",
        "metadata": {"name": spec.name, "labels": labels, "annotations": annotations},
        "spec": service_spec,
    }
    out = [deployment, service]
    if spec.pdb_max_unavailable is not None:
        out.append({"apiVersion": "policy/v1", "kind": "PodDisruptionBudget",
                    "metadata": {"name": spec.name, "labels": labels},
                    "spec": {"maxUnavailable": spec.pdb_max_unavailable,
                             "selector": {"matchLabels": spec.selector}}})
    return out
