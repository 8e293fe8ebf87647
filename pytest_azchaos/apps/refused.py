"""Why the API server refused to create one of the app's objects when a fail-closed admission webhook did it.

A webhook with ``failurePolicy: Fail`` whose backends are gone (the AWS Load Balancer Controller's
``mservice.elbv2.k8s.aws`` after the zone holding both its replicas is lost) makes the API server answer every
create it matches with 500 ``Internal error occurred: failed calling webhook "<name>": failed to call webhook:
Post "https://<svc>.<ns>.svc:443/...": no endpoints available for service "<svc>"``. Said as is, that reads as
an API fault of ours; it is a finding about the cluster: which webhook, which controller serves it, where its
pods are (or why they are not running), and the fix. Everything read here is best effort: the API's own words
are kept whatever else cannot be read.
"""

from __future__ import annotations

import json
import re
from typing import Any

from ..kube.cluster import Cluster
from ..kube.topology import ZoneMap, is_ready
from ..wellknown import ZONE_LABEL

WEBHOOK_FAILURE = re.compile(r'failed calling webhook "([^"]+)"')


def api_message(error: Any) -> str:
    """The ``message`` of an ApiException's Status body (else its reason)."""
    try:
        return str(json.loads(error.body or "{}").get("message") or error.reason or error)
    except (TypeError, ValueError):
        return str(getattr(error, "body", None) or getattr(error, "reason", None) or error)


def webhook_refusal(cluster: Cluster, namespace: str, manifest: dict[str, Any], error: Any) -> str | None:
    """The message for a create of ``manifest`` refused because a webhook could not be called (500 "failed calling
    webhook"), naming the webhook, its configuration and Service, the controller behind it with its pods' zones,
    and the fix; None for any other error."""
    if getattr(error, "status", None) != 500:
        return None
    message = api_message(error)
    found = WEBHOOK_FAILURE.search(message)
    if found is None:
        return None
    name = found.group(1)
    what = f"{manifest.get('kind', 'object')} {namespace}/{manifest.get('metadata', {}).get('name', '?')}"
    head = (f"creating {what} was refused by the API server: its admission webhook {name} could not be called "
            f"(API: {message})")
    try:
        return head + _behind(cluster, name)
    except Exception as e:  # the API's words stand; what we could not read is said, not raised
        return head + f"; (the webhook's backends could not be read: {type(e).__name__}: {e})"


def _behind(cluster: Cluster, name: str) -> str:
    from ..checks.addons import CRITICAL, SPREAD_FIX, fail_closed_webhooks

    hook = next((h for h in fail_closed_webhooks(cluster.api) if h.name == name), None)
    if hook is None or hook.service is None:
        return f"; fix: make the webhook {name}'s server reachable from the API server, then retry"
    ns, svc_name = hook.service
    text = (f"; {hook.configuration} has failurePolicy Fail, so while Service {ns}/{svc_name} has no ready backend "
            f"the API server refuses everything the webhook matches")
    svc = cluster.core.read_namespaced_service(svc_name, ns)
    selector = dict(svc.spec.selector or {})
    deployment = next((d for d in cluster.apps.list_namespaced_deployment(ns).items if selector and all(
        (d.spec.template.metadata.labels or {}).get(k) == v for k, v in selector.items())), None)
    zones = ZoneMap.read(cluster.core)
    pods = [p for p in cluster.core.list_namespaced_pod(ns).items if selector and p.metadata.deletion_timestamp is None
            and all((p.metadata.labels or {}).get(k) == v for k, v in selector.items())]
    where = ", ".join(_pod(p, zones) for p in sorted(pods, key=lambda p: p.metadata.name)) or "no pods"
    if deployment is None:
        return text + f" (its pods: {where}); fix: {SPREAD_FIX} for the webhook's server, then retry"
    ref = f"Deployment {ns}/{deployment.metadata.name}"
    ready = f"{deployment.status.ready_replicas or 0}/{deployment.spec.replicas} ready"
    pinned = (deployment.spec.template.spec.node_selector or {}).get(ZONE_LABEL)
    if pinned:
        cordoned = [n.name for n in zones.nodes_in(pinned) if n.unschedulable or not n.ready]
        state = (f"; every node there ({len(cordoned)}) unschedulable or not Ready" if cordoned
                 and len(cordoned) == len(zones.nodes_in(pinned)) else "")
        ref += f", pinned to zone {pinned} by its nodeSelector{state}"
    fix = CRITICAL[deployment.metadata.name][1] if deployment.metadata.name in CRITICAL else (
        SPREAD_FIX + f" for {ref.split(',')[0]}")
    return (text + f": it is served by {ref} ({ready}; pods: {where}). While its pods cannot run no such object "
            f"can be created; fix: {fix}, so losing one zone leaves a replica; then retry")


def _pod(pod: Any, zones: ZoneMap) -> str:
    """``name in zone (phase)`` or ``name Pending, unscheduled``."""
    node = pod.spec.node_name
    zone = zones.zone_of(node) if node else None
    phase = pod.status.phase or "Unknown"
    if not node:
        return f"{pod.metadata.name} {phase}, unscheduled"
    return f"{pod.metadata.name} in {zone or 'no zone'} ({phase}{', Ready' if is_ready(pod) else ''})"
