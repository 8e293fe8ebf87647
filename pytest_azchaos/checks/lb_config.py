"""AZ-LBCONF: the load balancer's real configuration, the detection window it implies, and whether the app's
shutdown covers it.

Read through boto3 (``aws.lb_config``: health check protocol, port, interval, timeout, thresholds; deregistration
delay; connection termination; cross-zone; scheme; target type) and the Kubernetes API (the Service, the pods'
readiness gates, the pod template's preStop, ``--delay-shutdown`` and grace period). For each target group
``lb.window`` gives the time a terminating pod must keep serving; the check fails when the app's shutdown is
shorter, naming the preStop sleep and grace period it needs and the downtime that would save. Everything else it
finds worth changing (slow health checks, unhealthy-connection resets, cross-zone off, ip targets without
readiness gates, an internal scheme) is listed as advice with the time it would save, without failing.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from ..aws.lb_config import UNHEALTHY_TERMINATION, LbConfig
from ..lb.service import Shutdown
from ..lb.window import DNS_TTL, TUNED_INTERVAL, TUNED_UNHEALTHY, LbClock, Window, windows
from .result import CheckResult

CHECK_ID = "AZ-LBCONF"


def lb_config_check(config: LbConfig, shutdown: Shutdown, traffic_policy: str, clock: LbClock, *,
                    readiness_gates: Sequence[str] | None = None, controller: str = "legacy",
                    check_id: str = CHECK_ID) -> CheckResult:
    """Judge ``shutdown`` against every target group of ``config``. ``readiness_gates``: the LBC gates found on
    the app's pods (None: not read); ``clock``: AWS seconds to the cluster's (``LbClock.of(profile)``);
    ``controller``: whose load balancer it is (``legacy`` | ``lbc`` | ``auto-mode``, from the Service's class)."""
    found = windows(config, traffic_policy, clock, controller)
    if not found:
        return CheckResult(check_id, False, f"load balancer {config.name} has no target group: nothing routes to the "
                           "app", (config.describe(),), {"target_groups": 0})
    evidence = [f"load balancer {config.describe()}"]
    for tg, w in zip(config.target_groups, found, strict=True):
        evidence.append(tg.describe())
        evidence.append(f"window: {w.why}; a target that stops answering still gets new flows for "
                        f"{w.detection:g}s; a terminating pod must serve {w.required_serving:g}s")
        evidence.extend(w.notes)
    evidence.append(f"app shutdown: {shutdown.describe()}")
    worst = max(found, key=lambda w: w.required_serving)
    short = worst.required_serving - shutdown.serving
    advice = _advice(config, found, readiness_gates)
    figures: dict[str, Any] = {
        "target_type": ",".join(sorted(config.target_types)), "scheme": config.scheme,
        "detection_window_s": round(max(w.detection for w in found), 3),
        "required_serving_s": round(worst.required_serving, 3), "serving_s": round(shutdown.serving, 3),
        "recommended_prestop_s": worst.recommended_prestop,
        "recommended_grace_s": worst.recommended_grace(math.ceil(shutdown.delay_shutdown)),
        "advice": len(advice)}
    evidence += [f"advice: {a}" for a in advice]
    if short <= 0:
        return CheckResult(check_id, True, f"the app serves {shutdown.serving:g}s after termination starts, at least "
                           f"the {worst.required_serving:g}s its load balancer needs ({worst.target_type} targets)",
                           tuple(evidence), figures)
    grace = worst.recommended_grace(math.ceil(shutdown.delay_shutdown))
    prestop = max(worst.recommended_prestop, math.ceil(worst.required_serving - shutdown.delay_shutdown))
    fix = (f"fix: set the preStop sleep to at least {prestop}s (lifecycle.preStop.sleep.seconds: {prestop}) and "
           f"terminationGracePeriodSeconds to at least {max(grace, prestop + math.ceil(shutdown.delay_shutdown) + 5)}; "
           f"this saves up to {short:.1f}s of failed new connections each time a pod terminates (drain, rollout, "
           f"scale-in)")
    differs = worst.aws_required_serving != worst.required_serving
    aws = f" ({worst.aws_required_serving:g}s in AWS's seconds)" if differs else ""
    return CheckResult(check_id, False,
                       f"the app stops serving {shutdown.serving:g}s after termination starts, but its load balancer "
                       f"keeps sending new connections for {worst.required_serving:g}s{aws}: set the preStop sleep to "
                       f"at least {prestop}s", (fix, *evidence), {**figures, "short_by_s": round(short, 3)})


def _advice(config: LbConfig, found: Sequence[Window], gates: Sequence[str] | None) -> list[str]:
    out = []
    for tg, w in zip(config.target_groups, found, strict=True):
        tuned = TUNED_INTERVAL * TUNED_UNHEALTHY
        if w.aws_detection > tuned:
            out.append(f"{tg.name}: health checks every {tg.interval:g}s, unhealthy after {tg.unhealthy_threshold} "
                       f"take {w.aws_detection:g}s to notice a dead target; {TUNED_INTERVAL:g}s x {TUNED_UNHEALTHY} "
                       f"(aws-load-balancer-healthcheck-interval / -unhealthy-threshold) would save "
                       f"{w.aws_detection - tuned:g}s of a zone loss (AWS seconds)")
        if tg.unhealthy_termination:
            out.append(f"{tg.name}: {UNHEALTHY_TERMINATION}=true: connections open to a target marked unhealthy are "
                       "reset (TCP RST); =false with target_health_state.unhealthy.draining_interval_seconds lets "
                       "them finish")
        if tg.target_type == "ip" and gates is not None and not gates:
            out.append(f"{tg.name}: ip targets without pod readiness gates: a rollout can finish while every target "
                       "is still 'initial' (registration takes 90-180 s); label the namespace "
                       "elbv2.k8s.aws/pod-readiness-gate-inject=enabled before creating the pods")
    if config.scheme == "internal" and any(tg.preserve_client_ip for tg in config.target_groups):
        out.append("internal NLB with client IP preservation: a pod calling this Service through the NLB and landing "
                   "on its own node or itself times out (internal NLBs do not support hairpinning); an in-cluster "
                   "runner's traffic needs targets that are not its own pods")
    if not any(tg.cross_zone(config.cross_zone) for tg in config.target_groups):
        out.append(f"cross-zone load balancing is off: a client that resolved a lost zone's address keeps using it "
                   f"for up to the {DNS_TTL:g}s DNS TTL plus the detection window (load_balancing.cross_zone.enabled)")
    if config.scheme == "internal":
        out.append("scheme internal: reachable only from inside the VPC (runners outside it time out)")
    return out


def lb_config_of_app(app: Any, aws: Any, profile: Any, *, check_id: str = CHECK_ID) -> CheckResult:
    """AZ-LBCONF for ``app`` (the sample app or a target): its Service's load balancer through ``aws`` (an
    ``aws.AwsContext``), its workload's pod template and pods through the Kubernetes API, judged on ``profile``'s
    clock. AWS or the API failing makes the result inconclusive (our side), never a verdict."""
    from ..aws.errors import AwsError
    from ..aws.lb_config import lb_config
    from ..lb.readiness import gates
    from ..lb.service import ServiceLb, shutdown_of

    try:
        svc = app.cluster.core.read_namespaced_service(app.service, app.namespace)
        ingress = (svc.status.load_balancer.ingress if svc.status and svc.status.load_balancer else None) or []
        hostname = next((i.hostname for i in ingress if i.hostname), None)
        workload = (app.cluster.apps.read_namespaced_deployment(app.name, app.namespace) if app.kind == "Deployment"
                    else app.cluster.apps.read_namespaced_stateful_set(app.name, app.namespace))
        pods = app.pods()
    except Exception as e:
        return CheckResult(check_id, False, "the app's Service, workload or pods could not be read", (),
                           inconclusive=f"the Kubernetes API failed: {e}")
    try:
        config = lb_config(aws, app.namespace, app.service, hostname)
    except AwsError as e:
        return CheckResult(check_id, False, "the load balancer's configuration could not be read", (str(e),),
                           inconclusive=f"AWS did not describe service {app.namespace}/{app.service}'s load balancer")
    except Exception as e:
        if type(e).__module__.startswith("botocore"):
            return CheckResult(check_id, False, "the load balancer's configuration could not be read", (),
                               inconclusive=f"AWS failed: {e}")
        raise
    found = sorted({g for p in pods for g in gates(p)})
    return lb_config_check(config, shutdown_of(workload.spec.template.spec),
                           svc.spec.external_traffic_policy or "Cluster", LbClock.of(profile),
                           readiness_gates=found, controller=ServiceLb.of(svc).controller, check_id=check_id)
