"""The load-balancer flavours the plugin knows, with the upstream names that select each one.

Names and defaults follow the facts file (eks-flavours-facts.md §1.1): the legacy in-tree controller takes a
class-less ``type: LoadBalancer`` Service with ``aws-load-balancer-type: nlb`` (internet-facing unless
``aws-load-balancer-internal``); the AWS Load Balancer Controller (LBC) takes ``spec.loadBalancerClass:
service.k8s.aws/nlb`` (internal by default, instance targets by default); EKS Auto Mode takes
``eks.amazonaws.com/nlb`` and does not support ``aws-load-balancer-type``/``-internal`` (scheme annotation
instead, attributes through ``aws-load-balancer-attributes``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Flavour = Literal["legacy", "lbc-instance", "lbc-ip", "auto-mode"]
Choice = Literal["auto", "legacy", "lbc-instance", "lbc-ip", "auto-mode"]
Scheme = Literal["internet-facing", "internal"]

CHOICES: tuple[str, ...] = ("auto", "legacy", "lbc-instance", "lbc-ip", "auto-mode")
FLAVOURS: tuple[str, ...] = CHOICES[1:]
SCHEMES: tuple[str, ...] = ("internet-facing", "internal")

PREFIX = "service.beta.kubernetes.io/"
TYPE_ANNOTATION = PREFIX + "aws-load-balancer-type"
INTERNAL_ANNOTATION = PREFIX + "aws-load-balancer-internal"
SCHEME_ANNOTATION = PREFIX + "aws-load-balancer-scheme"
TARGET_TYPE_ANNOTATION = PREFIX + "aws-load-balancer-nlb-target-type"
TG_ATTRIBUTES_ANNOTATION = PREFIX + "aws-load-balancer-target-group-attributes"
LB_ATTRIBUTES_ANNOTATION = PREFIX + "aws-load-balancer-attributes"
CROSS_ZONE_ANNOTATION = PREFIX + "aws-load-balancer-cross-zone-load-balancing-enabled"
PROXY_PROTOCOL_ANNOTATION = PREFIX + "aws-load-balancer-proxy-protocol"

#: The class the LBC reconciles (its --load-balancer-class default) and its service mutator stamps.
LBC_CLASS = "service.k8s.aws/nlb"
#: The class EKS Auto Mode reconciles, set as the cluster default.
AUTO_MODE_CLASS = "eks.amazonaws.com/nlb"
#: The namespace label that makes the LBC's pod mutator inject readiness gates (ip targets only).
READINESS_GATE_LABEL = "elbv2.k8s.aws/pod-readiness-gate-inject"
#: Prefix of the readiness-gate condition the LBC injects: ``target-health.elbv2.k8s.aws/<target group binding>``.
READINESS_GATE_PREFIX = "target-health.elbv2.k8s.aws"
#: The target-group attribute that makes ip targets see the client's address (default false for ip targets).
PRESERVE_CLIENT_IP = "preserve_client_ip.enabled"


@dataclass(frozen=True)
class LbFlavour:
    """A flavour as the sample Service asks for it: controller and target type, and the scheme."""

    flavour: Flavour = "legacy"
    scheme: Scheme = "internet-facing"

    @property
    def target_type(self) -> Literal["instance", "ip"]:
        return "ip" if self.flavour == "lbc-ip" else "instance"

    @property
    def load_balancer_class(self) -> str | None:
        if self.flavour.startswith("lbc-"):
            return LBC_CLASS
        return AUTO_MODE_CLASS if self.flavour == "auto-mode" else None

    def describe(self) -> str:
        return f"{self.flavour} ({self.target_type} targets, {self.scheme})"


def service_fields(lb: LbFlavour, *, cross_zone: bool = False, preserve_client_ip: bool | None = None,
                   deregistration_delay: int | None = None) -> tuple[str | None, dict[str, str]]:
    """``(spec.loadBalancerClass, annotations)`` that ask ``lb``'s controller for exactly this NLB: the class,
    scheme and target type always stated (never a controller's default). ``preserve_client_ip`` None: on for ip
    targets (so pods see the client); ``deregistration_delay``: the target groups' delay, None for AWS's 300 s."""
    if lb.flavour == "legacy":
        annotations = {TYPE_ANNOTATION: "nlb"}
        if lb.scheme == "internal":
            annotations[INTERNAL_ANNOTATION] = "true"
        if cross_zone:
            annotations[CROSS_ZONE_ANNOTATION] = "true"
        return None, annotations
    annotations = {SCHEME_ANNOTATION: lb.scheme, TARGET_TYPE_ANNOTATION: lb.target_type}
    tg: list[str] = []
    preserve = (lb.target_type == "ip") if preserve_client_ip is None else preserve_client_ip
    if lb.target_type == "ip" or preserve_client_ip is not None:
        tg.append(f"{PRESERVE_CLIENT_IP}={'true' if preserve else 'false'}")
    if deregistration_delay is not None:
        tg.append(f"deregistration_delay.timeout_seconds={deregistration_delay}")
    if tg:
        annotations[TG_ATTRIBUTES_ANNOTATION] = ",".join(tg)
    if cross_zone:
        annotations[LB_ATTRIBUTES_ANNOTATION] = "load_balancing.cross_zone.enabled=true"
    return lb.load_balancer_class, annotations


def parse_attributes(text: str | None) -> dict[str, str]:
    """``k=v,k=v`` (or one per line, as Auto Mode's docs write them) as a dict."""
    out: dict[str, str] = {}
    for part in (text or "").replace("\n", ",").split(","):
        key, sep, value = part.strip().partition("=")
        if sep and key.strip():
            out[key.strip()] = value.strip()
    return out


def service_scheme(annotations: dict[str, str], load_balancer_class: str | None) -> Scheme:
    """The scheme a Service asks for, as its controller reads it: the scheme annotation (LBC, Auto Mode), else for
    the LBC/Auto Mode classes their default ``internal``; class-less (legacy) ``aws-load-balancer-internal``
    non-empty and not "false", else internet-facing (cloud-provider-aws)."""
    if load_balancer_class in (LBC_CLASS, AUTO_MODE_CLASS):
        value = annotations.get(SCHEME_ANNOTATION, "internal")
        return "internet-facing" if value == "internet-facing" else "internal"
    internal = annotations.get(INTERNAL_ANNOTATION, "")
    return "internal" if internal and internal.lower() != "false" else "internet-facing"
