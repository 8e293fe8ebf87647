"""Which load-balancer controller will take the sample Service, read from the cluster's own API objects.

Upstream's markers, in the order they decide (eks-flavours-facts.md §1.1):

- **AWS Load Balancer Controller with its service mutator**: a MutatingWebhookConfiguration whose webhook
  ``mservice.elbv2.k8s.aws`` (path ``/mutate-v1-service``, the chart's ``enableServiceMutatorWebhook``, on by
  default since v2.5.0) stamps ``loadBalancerClass: service.k8s.aws/nlb`` (the controller's
  ``--load-balancer-class``) on every new class-less LoadBalancer Service: the LBC takes it.
- **EKS Auto Mode**: the API group ``eks.amazonaws.com`` serving ``nodeclasses`` (Auto Mode installs the
  NodeClass CRD), or nodes labelled ``eks.amazonaws.com/compute-type: auto``; ``eks.amazonaws.com/nlb`` is the
  cluster's default class.
- otherwise the **legacy** in-tree controller (cloud-provider-aws) takes a class-less Service.

An LBC without the service mutator (other ``*.elbv2.k8s.aws`` webhooks, or its Deployment) is still reported:
it takes Services that name its class. A list the API refuses (403) is said, never read as "absent".
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

from .flavours import AUTO_MODE_CLASS, FLAVOURS, LBC_CLASS, LbFlavour, Scheme

SERVICE_MUTATOR = "mservice.elbv2.k8s.aws"
SERVICE_MUTATOR_PATH = "/mutate-v1-service"
LBC_DEPLOYMENT = ("kube-system", "aws-load-balancer-controller")
AUTO_MODE_GROUP = "eks.amazonaws.com"
AUTO_MODE_NODE_LABEL = "eks.amazonaws.com/compute-type"
WEBHOOKS_PATH = "/apis/admissionregistration.k8s.io/v1/mutatingwebhookconfigurations"


class ApiReader(Protocol):
    def get_json(self, path: str, query: dict[str, str] | None = None, timeout: float = 5.0) -> tuple[int, Any]: ...


class LbChoiceError(ValueError):
    """The chosen flavour cannot work on this cluster; the message names what was found and the fix."""


@dataclass(frozen=True)
class Detection:
    """What the cluster runs: ``controller`` (``lbc`` | ``auto-mode`` | ``legacy``) for a class-less LoadBalancer
    Service, whether an LBC exists at all, the class its webhook stamps, and the evidence read."""

    controller: str
    lbc_present: bool = False
    auto_mode: bool = False
    stamped_class: str | None = None  # what a class-less Service gets at creation (None: nothing)
    webhook: str | None = None  # "<configuration>/<webhook>" of the service mutator
    failure_policy: str | None = None
    lbc_ready: str | None = None  # "<ready>/<desired>" of the LBC Deployment, when found
    evidence: tuple[str, ...] = field(default_factory=tuple)
    unknown: tuple[str, ...] = field(default_factory=tuple)  # what could not be read (403 ...)

    def describe(self) -> str:
        head = {"lbc": f"AWS Load Balancer Controller (its webhook {self.webhook} stamps {self.stamped_class})",
                "auto-mode": f"EKS Auto Mode (default class {AUTO_MODE_CLASS})",
                "legacy": "the legacy in-tree controller (cloud-provider-aws)"}[self.controller]
        text = f"a class-less LoadBalancer Service goes to {head}"
        if self.evidence:
            text += "; found: " + "; ".join(self.evidence)
        if self.unknown:
            text += "; could not read: " + "; ".join(self.unknown)
        return text


def detect(api: ApiReader) -> Detection:
    """Read the cluster's webhooks, API groups and nodes (read-only) and say which controller takes the Service."""
    evidence: list[str] = []
    unknown: list[str] = []
    webhook = policy = stamped = None
    lbc = False
    status, doc = api.get_json(WEBHOOKS_PATH)
    if status == 200 and isinstance(doc, dict):
        for config in doc.get("items") or []:
            name = (config.get("metadata") or {}).get("name", "?")
            for hook in config.get("webhooks") or []:
                hook_name = str(hook.get("name") or "")
                path = ((hook.get("clientConfig") or {}).get("service") or {}).get("path")
                if hook_name.endswith(".elbv2.k8s.aws"):
                    lbc = True
                if hook_name == SERVICE_MUTATOR or (path == SERVICE_MUTATOR_PATH and _mutates_service_create(hook)):
                    webhook, policy = f"{name}/{hook_name}", hook.get("failurePolicy") or "Fail"
                    evidence.append(f"MutatingWebhookConfiguration {name} webhook {hook_name} "
                                    f"(failurePolicy {policy})")
    elif status in (401, 403):
        unknown.append(f"mutatingwebhookconfigurations ({status}: grant list on "
                       "admissionregistration.k8s.io mutatingwebhookconfigurations)")
    elif status != 404:
        unknown.append(f"mutatingwebhookconfigurations (HTTP {status})")
    ready = None
    status, dep = api.get_json(f"/apis/apps/v1/namespaces/{LBC_DEPLOYMENT[0]}/deployments/{LBC_DEPLOYMENT[1]}")
    if status == 200 and isinstance(dep, dict):
        lbc = True
        ready = f"{(dep.get('status') or {}).get('readyReplicas') or 0}/{(dep.get('spec') or {}).get('replicas', 1)}"
        evidence.append(f"Deployment {'/'.join(LBC_DEPLOYMENT)} ({ready} ready)")
        stamped = _class_flag(dep)
    elif status in (401, 403):
        unknown.append(f"deployment {'/'.join(LBC_DEPLOYMENT)} ({status})")
    if webhook is not None:
        stamped = stamped or LBC_CLASS
    auto = _auto_mode(api, evidence, unknown)
    controller = "lbc" if webhook else "auto-mode" if auto else "legacy"
    return Detection(controller, lbc, auto, stamped if webhook else (AUTO_MODE_CLASS if auto else None), webhook,
                     policy, ready, tuple(evidence), tuple(unknown))


def _mutates_service_create(hook: dict[str, Any]) -> bool:
    for rule in hook.get("rules") or []:
        ops = rule.get("operations") or []
        if "services" in (rule.get("resources") or []) and ("CREATE" in ops or "*" in ops):
            return True
    return False


def _class_flag(deployment: dict[str, Any]) -> str | None:
    """The ``--load-balancer-class`` the LBC runs with (its webhook stamps that), None for the default."""
    containers = (((deployment.get("spec") or {}).get("template") or {}).get("spec") or {}).get("containers") or []
    for c in containers:
        for arg in c.get("args") or []:
            if str(arg).startswith("--load-balancer-class="):
                return str(arg).split("=", 1)[1]
    return None


def _auto_mode(api: ApiReader, evidence: list[str], unknown: list[str]) -> bool:
    found = False
    status, doc = api.get_json(f"/apis/{AUTO_MODE_GROUP}")
    if status == 200 and isinstance(doc, dict):
        version = ((doc.get("preferredVersion") or {}).get("groupVersion")) or f"{AUTO_MODE_GROUP}/v1"
        status, res = api.get_json(f"/apis/{version}")
        names = {r.get("name") for r in (res.get("resources") or [])} if isinstance(res, dict) else set()
        if "nodeclasses" in names:
            found = True
            evidence.append(f"API group {version} serves nodeclasses (EKS Auto Mode)")
    status, nodes = api.get_json("/api/v1/nodes", {"labelSelector": f"{AUTO_MODE_NODE_LABEL}=auto", "limit": "1"})
    if status == 200 and isinstance(nodes, dict) and nodes.get("items"):
        found = True
        evidence.append(f"nodes labelled {AUTO_MODE_NODE_LABEL}=auto")
    elif status in (401, 403):
        unknown.append(f"nodes ({status})")
    return found


def choose(choice: str, scheme: Scheme, detection: Detection) -> LbFlavour:
    """The flavour the sample Service asks for: ``choice`` (``auto``: what ``detection`` says takes a class-less
    Service, the LBC's default instance targets for the LBC); ``LbChoiceError`` naming the fix when the chosen
    controller is not there or another one would take the Service."""
    if choice == "auto":
        flavour = {"lbc": "lbc-instance", "auto-mode": "auto-mode", "legacy": "legacy"}[detection.controller]
        return LbFlavour(flavour, scheme)  # type: ignore[arg-type]
    if choice not in FLAVOURS:
        raise LbChoiceError(f"--azchaos-lb must be auto, {', '.join(FLAVOURS)}, not {choice!r}")
    found = detection.describe()
    if choice == "legacy" and detection.stamped_class:
        raise LbChoiceError(
            f"--azchaos-lb legacy cannot work here: {found}. Every new LoadBalancer Service gets loadBalancerClass "
            f"{detection.stamped_class}, so the legacy controller never takes it; use --azchaos-lb "
            + ("lbc-instance or lbc-ip" if detection.controller == "lbc" else "auto-mode") + " (or auto)")
    if choice.startswith("lbc-") and not detection.lbc_present and not detection.unknown:
        raise LbChoiceError(
            f"--azchaos-lb {choice} needs the AWS Load Balancer Controller, which this cluster does not run: {found}. "
            "Install it (helm chart eks/aws-load-balancer-controller in kube-system) or use --azchaos-lb auto")
    if choice == "auto-mode" and not detection.auto_mode and not detection.unknown:
        raise LbChoiceError(
            f"--azchaos-lb auto-mode needs an EKS Auto Mode cluster, and this one is not: {found}. Use --azchaos-lb "
            "auto")
    return LbFlavour(choice, scheme)  # type: ignore[arg-type]
