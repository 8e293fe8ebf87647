"""What the AWS Load Balancer Controller (or EKS Auto Mode) builds for one Service, computed from the Service.

Sources (``eks-flavours-facts.md`` §1, ``k8s-aws-facts.md`` §E2-E3; ``lbc@225f445`` is
kubernetes-sigs/aws-load-balancer-controller):

- which Services: ``spec.loadBalancerClass: service.k8s.aws/nlb``, or no class with
  ``aws-load-balancer-type: external`` (+ ``-nlb-target-type``) or the legacy ``nlb-ip``
  (``pkg/service/service_utils.go`` ``IsServiceSupported``); Auto Mode: class ``eks.amazonaws.com/nlb``;
- scheme: ``aws-load-balancer-scheme``, else (LBC only) the legacy ``aws-load-balancer-internal``, else
  **internal** ("Since the v2.2.0 release, the LBC provisions an internal NLB by default", ``nlb.md``);
  Auto Mode does not support ``aws-load-balancer-internal`` (nor ``-type``, ``-proxy-protocol``,
  ``-cross-zone-load-balancing-enabled``): they are ignored (``eksug:latest/ug/automode/auto-configure-nlb.adoc``);
- target type: ``aws-load-balancer-nlb-target-type`` ``ip|instance``, ``nlb-ip`` -> ip, else ``instance``;
- health check (``pkg/service/model_builder.go:147-164``): TCP ``traffic-port`` interval 10 s, timeout 10 s,
  3/3; instance + ``externalTrafficPolicy: Local``: HTTP ``/healthz`` on ``healthCheckNodePort``, 10 s / 6 s,
  2/2; each overridable by the ``aws-load-balancer-healthcheck-*`` annotations;
- target-group attributes (``aws-load-balancer-target-group-attributes``, ``k=v,k=v``):
  ``preserve_client_ip.enabled`` true for instance, false for ip (``model_build_target_group.go:396-413``);
  ``proxy_protocol_v2.enabled`` (also ``aws-load-balancer-proxy-protocol: "*"``, LBC only);
  ``deregistration_delay.timeout_seconds`` 300; ``deregistration_delay.connection_termination.enabled`` false;
  ``target_health_state.unhealthy.connection_termination.enabled`` true (NLB target-group health docs);
- cross-zone off unless ``load_balancing.cross_zone.enabled=true`` in ``aws-load-balancer-attributes`` (or,
  LBC only, the legacy cross-zone annotation);
- names: load balancer and target groups ``k8s-<namespace[:8]>-<name[:8]>-<10 hex>``; the NLB's DNS name
  ``<lb name>-<16 hex>.elb.<region>.amazonaws.com``.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from typing import Any

Obj = dict[str, Any]
LBC_CLASS = "service.k8s.aws/nlb"
AUTO_MODE_CLASS = "eks.amazonaws.com/nlb"
PREFIX = "service.beta.kubernetes.io/"
LB_TYPE = PREFIX + "aws-load-balancer-type"
TARGET_TYPE = PREFIX + "aws-load-balancer-nlb-target-type"
SCHEME = PREFIX + "aws-load-balancer-scheme"
INTERNAL = PREFIX + "aws-load-balancer-internal"
TG_ATTRIBUTES = PREFIX + "aws-load-balancer-target-group-attributes"
LB_ATTRIBUTES = PREFIX + "aws-load-balancer-attributes"
PROXY_PROTOCOL = PREFIX + "aws-load-balancer-proxy-protocol"
CROSS_ZONE = PREFIX + "aws-load-balancer-cross-zone-load-balancing-enabled"
HEALTHCHECK = PREFIX + "aws-load-balancer-healthcheck-"
#: Namespace label that turns the LBC's pod readiness gates on (``docs/deploy/pod_readiness_gate.md``).
READINESS_GATE_INJECT = "elbv2.k8s.aws/pod-readiness-gate-inject"
#: Prefix of the readiness gate's condition type: ``target-health.elbv2.k8s.aws/<target group binding>``.
CONDITION_PREFIX = "target-health.elbv2.k8s.aws/"

PRESERVE = "preserve_client_ip.enabled"
PROXY_V2 = "proxy_protocol_v2.enabled"
DEREGISTRATION_DELAY = "deregistration_delay.timeout_seconds"
DEREGISTRATION_TERMINATION = "deregistration_delay.connection_termination.enabled"
UNHEALTHY_TERMINATION = "target_health_state.unhealthy.connection_termination.enabled"


@dataclass(frozen=True)
class HealthCheck:
    """A target group's health check, in AWS units (seconds, counts)."""

    protocol: str  # TCP | HTTP
    port: str  # "traffic-port" or a port number
    path: str | None
    interval: int
    timeout: int
    healthy: int
    unhealthy: int


@dataclass(frozen=True)
class LbModel:
    """One Service's NLB as the controller builds it."""

    controller: str  # "lbc" | "auto-mode"
    namespace: str
    name: str
    lb_name: str
    dns_name: str
    internal: bool
    target_type: str  # instance | ip
    health: HealthCheck
    attributes: tuple[tuple[str, str], ...]
    cross_zone: bool
    target_groups: tuple[tuple[str, str], ...]  # (service port name, target group name)

    def attribute(self, key: str) -> str:
        return dict(self.attributes).get(key, "")

    @property
    def scheme(self) -> str:
        return "internal" if self.internal else "internet-facing"

    @property
    def preserve_client_ip(self) -> bool:
        return self.attribute(PRESERVE) == "true"

    @property
    def proxy_protocol(self) -> bool:
        return self.attribute(PROXY_V2) == "true"

    @property
    def deregistration_delay(self) -> int:
        return int(self.attribute(DEREGISTRATION_DELAY) or 300)

    @property
    def unhealthy_termination(self) -> bool:
        return self.attribute(UNHEALTHY_TERMINATION) != "false"

    def target_group_for(self, port_name: str) -> str | None:
        return dict(self.target_groups).get(port_name)

    def gate_conditions(self) -> list[str]:
        """The readiness gate condition types of this load balancer's target groups."""
        return [CONDITION_PREFIX + tg for _, tg in self.target_groups]


def _clean(s: str) -> str:
    return re.sub(r"[^A-Za-z0-9]", "", s)


def resource_name(namespace: str, name: str, *salt: Any) -> str:
    """``k8s-<namespace[:8]>-<name[:8]>-<10 hex>``: the LBC's names of NLBs and target groups (32 chars at most)."""
    digest = hashlib.sha256("/".join(str(s) for s in (namespace, name, *salt)).encode()).hexdigest()[:10]
    return f"k8s-{_clean(namespace)[:8]}-{_clean(name)[:8]}-{digest}"


def dns_name(lb_name: str, uid: str, region: str) -> str:
    """``<name>-<16 hex>.elb.<region>.amazonaws.com``: an NLB's DNS name (lower case, as AWS gives it)."""
    return f"{lb_name}-{hashlib.sha256(uid.encode()).hexdigest()[:16]}.elb.{region}.amazonaws.com".lower()


def parse_pairs(text: str | None) -> dict[str, str]:
    """``k=v,k=v`` (newlines also separate) as the LBC parses attribute annotations."""
    out: dict[str, str] = {}
    for item in re.split(r"[,\n]", text or ""):
        key, sep, value = item.strip().partition("=")
        if sep and key.strip():
            out[key.strip()] = value.strip()
    return out


def controller_of(svc: Obj, flavour: str) -> str | None:
    """Which of our controllers takes ``svc`` (``"lbc"``, ``"auto-mode"``) or None (the in-tree one, or nobody)."""
    spec = svc.get("spec") or {}
    if spec.get("type") != "LoadBalancer":
        return None
    cls = spec.get("loadBalancerClass")
    ann = (svc.get("metadata") or {}).get("annotations") or {}
    if flavour == "lbc":
        if cls == LBC_CLASS:
            return "lbc"
        if cls is None and (ann.get(LB_TYPE) == "nlb-ip" or (ann.get(LB_TYPE) == "external" and ann.get(TARGET_TYPE))):
            return "lbc"
    if flavour == "auto-mode" and cls == AUTO_MODE_CLASS:
        return "auto-mode"
    return None


def build_model(svc: Obj, controller: str, region: str) -> LbModel:
    """The NLB ``controller`` builds for ``svc`` (see the module docstring for each default's source)."""
    meta, spec = svc["metadata"], svc.get("spec") or {}
    ann: dict[str, str] = meta.get("annotations") or {}
    lbc = controller == "lbc"
    scheme = ann.get(SCHEME)
    if scheme in ("internal", "internet-facing"):
        internal = scheme == "internal"
    elif lbc and INTERNAL in ann:
        internal = str(ann[INTERNAL]).lower() not in ("", "false")
    else:
        internal = True
    target_type = ann.get(TARGET_TYPE) if ann.get(TARGET_TYPE) in ("ip", "instance") else (
        "ip" if lbc and ann.get(LB_TYPE) == "nlb-ip" else "instance")
    local = spec.get("externalTrafficPolicy") == "Local"
    if target_type == "instance" and local and spec.get("healthCheckNodePort"):
        hc = {"protocol": "HTTP", "port": str(spec["healthCheckNodePort"]), "path": "/healthz", "interval": 10,
              "timeout": 6, "healthy": 2, "unhealthy": 2}
    else:
        hc = {"protocol": "TCP", "port": "traffic-port", "path": None, "interval": 10, "timeout": 10, "healthy": 3,
              "unhealthy": 3}
    for key, field_name in (("protocol", "protocol"), ("port", "port"), ("path", "path")):
        if ann.get(HEALTHCHECK + key):
            hc[field_name] = ann[HEALTHCHECK + key].upper() if key == "protocol" else ann[HEALTHCHECK + key]
    for key, field_name in (("interval", "interval"), ("timeout", "timeout"), ("healthy-threshold", "healthy"),
                            ("unhealthy-threshold", "unhealthy")):
        if str(ann.get(HEALTHCHECK + key, "")).isdigit():
            hc[field_name] = int(ann[HEALTHCHECK + key])
    if hc["protocol"] == "HTTP" and not hc["path"]:
        hc["path"] = "/"
    given = parse_pairs(ann.get(TG_ATTRIBUTES))
    attrs = {PRESERVE: "true" if target_type == "instance" else "false", PROXY_V2: "false",
             DEREGISTRATION_DELAY: "300", DEREGISTRATION_TERMINATION: "false", UNHEALTHY_TERMINATION: "true"}
    if lbc and ann.get(PROXY_PROTOCOL) == "*":
        attrs[PROXY_V2] = "true"
    attrs.update(given)
    lb_attrs = parse_pairs(ann.get(LB_ATTRIBUTES))
    cross = lb_attrs.get("load_balancing.cross_zone.enabled")
    if cross is None and lbc:
        cross = ann.get(CROSS_ZONE)
    uid = meta.get("uid", "")
    lb_name = resource_name(meta["namespace"], meta["name"], uid)
    groups = tuple((p.get("name") or "", resource_name(meta["namespace"], meta["name"], uid, p.get("port"),
                                                       target_type))
                   for p in spec.get("ports") or [] if (p.get("protocol") or "TCP") == "TCP")
    return LbModel(controller, meta["namespace"], meta["name"], lb_name, dns_name(lb_name, uid, region), internal,
                   target_type, HealthCheck(**hc), tuple(sorted(attrs.items())), str(cross).lower() == "true",
                   groups)
