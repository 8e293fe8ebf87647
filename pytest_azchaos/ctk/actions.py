"""chaostoolkit actions: our faults, with chaoslib's calling convention (keyword arguments, then
``configuration`` and ``secrets``). Each returns plain JSON data for the journal.

Every fault records its undo in the run's ledger before acting (as in the pytest fixtures);
``undo_faults`` replays this run's ledger, so put it in the experiment's ``rollbacks``.
A refused fault (context not allowed, a second zone, too few healthy zones left) raises
``chaoslib.exceptions.ActivityFailed`` with the reason, and nothing is touched.
"""

from __future__ import annotations

from dataclasses import replace
from types import SimpleNamespace
from typing import Any

from chaoslib.exceptions import ActivityFailed

from ..wellknown import MANAGED_BY, MANAGED_BY_LABEL, RUN_ID_LABEL
from .context import Configuration, Secrets, logger, resolve_zone, run_state

__all__ = ["cordon_zone", "delete_app", "deploy_echo_app", "drain_zone", "kill_pods", "start_traffic",
           "stop_traffic", "uncordon_zone", "undo_faults", "zone_outage", "zone_partition"]


def _refusals() -> tuple[type[BaseException], ...]:
    from ..chaos.facade import ChaosRefused
    from ..chaos.target import ChaosInputError
    from ..kube.cluster import ClusterConfigError

    return ChaosRefused, ChaosInputError, ClusterConfigError


def _fault(call: Any) -> Any:
    try:
        return call()
    except _refusals() as e:
        raise ActivityFailed(str(e)) from None


def cordon_zone(zone: str, configuration: Configuration = None, secrets: Secrets = None) -> dict[str, Any]:
    """Cordon every schedulable node of ``zone`` (``auto``: the first zone in name order); nodes cordoned
    before are left alone."""
    state = run_state(configuration, secrets)
    zone = resolve_zone(state, zone)
    report = _fault(lambda: state.chaos.cordon_zone(zone))
    if not report.ok:
        raise ActivityFailed(report.describe())
    return {"zone": zone, "run_id": state.run_id, "cordoned": report.cordoned,
            "already_cordoned": report.already_cordoned, "summary": report.describe()}


def drain_zone(zone: str, timeout: float | None = None, configuration: Configuration = None,
               secrets: Secrets = None) -> dict[str, Any]:
    """Cordon ``zone`` and evict all its pods in parallel; PDB refusals (429) are retried until ``timeout``
    (default 60 s on the fast profile, 900 s on the realistic one). Fails if a pod is still not evicted."""
    state = run_state(configuration, secrets)
    zone = resolve_zone(state, zone)
    report = _fault(lambda: state.chaos.drain_zone(zone, timeout=float(timeout) if timeout else None))
    result = {"zone": zone, "run_id": state.run_id, "nodes": report.nodes, "evicted": len(report.evicted),
              "pods": len(report.pods), "pdb_refusals": report.refusals, "wall_time_s": round(report.wall_time, 3),
              "summary": report.describe()}
    if not report.ok:
        raise ActivityFailed(report.describe())
    logger.info(report.describe())
    return result


def undo_faults(configuration: Configuration = None, secrets: Secrets = None) -> dict[str, Any]:
    """Undo this run's faults: replay its ledger (uncordon only the nodes this run cordoned, start stopped
    instances, resume suspended groups ...), then release the cluster lock. Idempotent; meant for
    ``rollbacks``."""
    state = run_state(configuration, secrets)
    chaos = state.chaos
    lines = chaos.undo_all()
    chaos.ledger = None
    chaos.zones_taken.clear()
    failed = [line for line in lines if line.startswith("FAIL")]
    if failed:
        raise ActivityFailed("undo failed: " + "; ".join(failed))
    return {"run_id": state.run_id, "undone": lines}


#: The older name of ``undo_faults`` (it always undid every fault, not only cordons); kept for experiment files.
uncordon_zone = undo_faults


def kill_pods(namespace: str, label_selector: str, count: int | None = None, fraction: float | None = None,
              zone: str | None = None, grace_seconds: int = 0, configuration: Configuration = None,
              secrets: Secrets = None) -> dict[str, Any]:
    """Delete pods matching ``label_selector`` in ``namespace`` abruptly: all, ``count``, ``fraction``, or
    those in ``zone``."""
    state = run_state(configuration, secrets)
    app = SimpleNamespace(namespace=namespace, label_selector=label_selector)
    report = _fault(lambda: state.chaos.kill_pods(app, count=count, fraction=fraction, zone=zone,
                                                 grace_seconds=grace_seconds))
    if not report.ok:
        raise ActivityFailed(report.describe())
    return {"namespace": namespace, "killed": report.names, "summary": report.describe()}


def zone_outage(zone: str, suspend_processes: list[str] | None = None, configuration: Configuration = None,
                secrets: Secrets = None) -> dict[str, Any]:
    """Stop the zone's EC2 instances and suspend its Auto Scaling groups' ``suspend_processes`` (default
    ``Launch``, ``Terminate``, ``AZRebalance``, ``HealthCheck``, ``ReplaceUnhealthy``); undo with ``undo_faults``,
    which resumes exactly what this run suspended. Leaving ``HealthCheck``/``ReplaceUnhealthy`` active lets a group
    terminate the stopped instances (its EC2 health check fails an instance that is not running; with ``Launch``
    suspended nothing replaces them until the undo): the output's ``left_active`` names them, and the zone comes
    back with new instances, not the same ones (``checks.outage_capacity`` fails naming each). An unknown process
    name fails naming the valid ones, nothing touched. AWS access: the standard AWS settings (``AWS_PROFILE``, an
    OIDC role ...), or the embedded cluster's."""
    from ..aws import AwsConfigError, AwsContext

    state = run_state(configuration, secrets)
    zone = resolve_zone(state, zone)
    try:
        aws = AwsContext.for_kubeconfig(state.cluster.kubeconfig)
    except AwsConfigError as e:
        raise ActivityFailed(f"no usable AWS access for this cluster: {e}") from None
    outage = _fault(lambda: state.chaos.zone_outage(zone, aws, suspend_processes=suspend_processes))
    return {"zone": zone, "run_id": state.run_id, "stopped": list(outage.stopped),
            "suspended": {g: list(p) for g, p in outage.suspended.items()}, "left_active": outage.active,
            "summary": outage.describe()}


def zone_partition(zone: str, include_load_balancer: bool = False, configuration: Configuration = None,
                   secrets: Secrets = None) -> dict[str, Any]:
    """Cut the zone's subnets off with a deny-all network ACL (and its load balancers' subnets there when
    ``include_load_balancer``); undo with ``undo_faults``. AWS access as for ``zone_outage``."""
    from ..aws import AwsConfigError, AwsContext

    state = run_state(configuration, secrets)
    zone = resolve_zone(state, zone)
    try:
        aws = AwsContext.for_kubeconfig(state.cluster.kubeconfig)
    except AwsConfigError as e:
        raise ActivityFailed(f"no usable AWS access for this cluster: {e}") from None
    partition = _fault(lambda: state.chaos.zone_partition(zone, include_load_balancer, aws=aws))
    return {"zone": zone, "run_id": state.run_id, "network_acl": partition.acl_id, "summary": partition.describe()}


def start_traffic(namespace: str, service: str, name: str = "default", rate: float | None = None,
                  port: int | None = None, timeout: float = 2.0, address_timeout: float | None = None,
                  configuration: Configuration = None, secrets: Secrets = None) -> dict[str, Any]:
    """Start an open-loop prober against ``service``'s load-balancer address on ``port`` (default: the
    Service's first port), kept under ``name`` so ``stop_traffic`` and the probes find it."""
    from ..apps import App
    from ..apps.app import AppError
    from ..traffic import Prober, ProbeTarget

    state = run_state(configuration, secrets)
    if name in state.probers:
        raise ActivityFailed(f"traffic {name!r} is already running in run {state.run_id}; stop it first or "
                             "pick another name")
    app = App(state.cluster, namespace, service, {}, service=service)
    try:
        addresses = app.lb_addresses(float(address_timeout) if address_timeout is not None
                                     else state.chaos.profile.lb_ready_timeout)
    except AppError as e:
        raise ActivityFailed(str(e)) from None
    try:
        port = app.port if port is None else int(port)
    except AppError as e:
        raise ActivityFailed(str(e)) from None
    # An NLB hostname resolves through the DNS server the cluster's kubeconfig declares (as the plugin's traffic).
    from pathlib import Path

    from ..kube.kubeconfig import declared_resolver

    resolver = declared_resolver(Path(state.cluster.kubeconfig), getattr(state.cluster, "context", None))
    prober = Prober(ProbeTarget(addresses, port, resolver=resolver), rate=float(rate or state.settings.rate),
                    timeout=timeout).start()
    state.probers[name] = prober
    state.apps[name] = (namespace, service)
    return {"name": name, "addresses": addresses, "rate": prober.rate}


def stop_traffic(name: str = "default", configuration: Configuration = None,
                 secrets: Secrets = None) -> dict[str, Any]:
    """Stop the prober ``name``; its recording stays for ``probes.zero_downtime``."""
    state = run_state(configuration, secrets)
    prober = state.probers.pop(name, None)
    if prober is None:
        if name in state.recordings:
            return _summary(name, state.recordings[name])
        raise ActivityFailed(f"no traffic named {name!r} in run {state.run_id} (start_traffic first)")
    recording = prober.stop()
    state.recordings[name] = recording
    return _summary(name, recording)


def _summary(name: str, recording: Any) -> dict[str, Any]:
    records = recording.snapshot()
    return {"name": name, "requests": len(records), "failed": sum(1 for r in records if not r.ok)}


def deploy_echo_app(namespace: str, replicas: int = 6, traffic_policy: str = "Cluster",
                    pdb_max_unavailable: int | None = 1, ready_timeout: float | None = None,
                    lb: str | None = None, lb_scheme: str | None = None,
                    configuration: Configuration = None, secrets: Secrets = None) -> dict[str, Any]:
    """Deploy the sample echo app (``apps.EchoSpec``: zone-spread Deployment, LoadBalancer Service, PDB) in
    ``namespace`` (created, labelled with the run, if missing), wait until it is Ready and reachable. Its image
    follows the experiment's configuration ``azchaos_image``, ``azchaos_image_repo_list`` (else
    ``$KUBE_TEST_REPO_LIST``) and ``azchaos_image_pull_secrets``, as the plugin's ``--azchaos-image*`` options.
    Its load balancer is ``lb`` (else the configuration's ``azchaos_lb``, which pytest sets to the run's
    ``--azchaos-lb``, else ``auto``: the controller the cluster gives a new LoadBalancer Service, as ``lb.detect``
    finds it, like the game day) with ``lb_scheme`` (else ``azchaos_lb_scheme``, else ``internet-facing``): the
    Service states class, scheme and target type explicitly, never relying on a webhook's or controller's default."""
    from kubernetes import client
    from kubernetes.client import ApiException

    from ..apps import EchoSpec
    from ..apps.app import AppError
    from ..apps.deploy import deploy_echo
    from ..apps.images import ImageConfigError
    from ..apps.images import resolve as resolve_images

    state = run_state(configuration, secrets)
    labels = {MANAGED_BY_LABEL: MANAGED_BY, RUN_ID_LABEL: state.run_id}
    try:
        state.cluster.core.create_namespace(client.V1Namespace(metadata=client.V1ObjectMeta(name=namespace,
                                                                                            labels=labels)))
    except ApiException as e:
        if e.status != 409:
            raise ActivityFailed(f"cannot create namespace {namespace}: {e.status} {e.reason}") from None
    profile = state.chaos.profile
    if ready_timeout is not None:
        profile = replace(profile, app_ready_timeout=float(ready_timeout))
    conf = configuration or {}
    lb = lb or conf.get("azchaos_lb") or "auto"
    lb_scheme = lb_scheme or conf.get("azchaos_lb_scheme") or "internet-facing"
    if lb_scheme not in ("internet-facing", "internal"):
        raise ActivityFailed(f"lb_scheme must be internet-facing or internal, not {lb_scheme!r}")
    try:
        from ..lb.detect import LbChoiceError, choose, detect

        flavour = choose(lb, lb_scheme, detect(state.cluster))  # type: ignore[arg-type]
    except LbChoiceError as e:  # the action's own arguments, not pytest's flags
        raise ActivityFailed(str(e).replace("--azchaos-lb", "lb")) from None
    spec = EchoSpec(replicas=int(replicas), traffic_policy=traffic_policy,  # type: ignore[arg-type]
                    pdb_max_unavailable=pdb_max_unavailable, lb=flavour)
    try:
        images = resolve_images(conf.get("azchaos_image"), conf.get("azchaos_image_repo_list"),
                                list(conf.get("azchaos_image_pull_secrets") or ()))
    except ImageConfigError as e:  # the experiment's own keys, not pytest's flags
        raise ActivityFailed(str(e).replace("--azchaos-image-pull-secret", "azchaos_image_pull_secrets")
                             .replace("--azchaos-image-repo-list", "azchaos_image_repo_list")
                             .replace("--azchaos-image", "azchaos_image")) from None
    try:
        app = deploy_echo(state.cluster, namespace, spec, profile, labels=labels, images=images)
    except AppError as e:
        raise ActivityFailed(str(e)) from None
    addresses = app.addresses
    return {"namespace": namespace, "service": app.service, "label_selector": app.label_selector,
            "replicas": spec.replicas, "addresses": addresses, "lb": flavour.describe()}


def delete_app(namespace: str, configuration: Configuration = None, secrets: Secrets = None) -> dict[str, Any]:
    """Delete the namespace ``deploy_echo_app`` made (only one labelled with this run)."""
    from kubernetes.client import ApiException

    state = run_state(configuration, secrets)
    try:
        ns = state.cluster.core.read_namespace(namespace)
    except ApiException as e:
        if e.status == 404:
            return {"namespace": namespace, "deleted": False}
        raise
    if (ns.metadata.labels or {}).get(RUN_ID_LABEL) != state.run_id:
        raise ActivityFailed(f"namespace {namespace} was not made by run {state.run_id}: left alone")
    state.cluster.core.delete_namespace(namespace)
    return {"namespace": namespace, "deleted": True}
