"""What a shared fault observes: the sample echo app in both traffic policies and the stateful app on zonal
EBS volumes, deployed side by side (their load balancers and volumes become ready in parallel, which under
``realistic`` timings is most of the set-up), or the
user's own workloads (``--azchaos-target``), found and never changed."""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from ..report.evidence import Evidence
from .scenario import Subject

POLICIES = ("Cluster", "Local")
STATEFUL = "stateful"


def sample_subjects(cluster: Any, namespace: str, profile: Any, *, labels: dict[str, str], progress: Any = None,
                    nodeid: str = "gameday", images: Any = None, lb: Any = None,
                    stateful: bool = True) -> list[Subject]:
    """The echo app ``echo-cluster`` and ``echo-local`` in ``namespace``, Ready and reachable, and with
    ``stateful`` the stateful app (one zonal EBS volume per pod) as a ``VolumeSubject``; ``AppError`` (from
    the first that is not ready) says why. ``lb``: the load-balancer flavour (``lb.flavours.LbFlavour``); None: the one
    the cluster gives a new LoadBalancer Service (``lb.detect``), internet-facing."""
    from ..apps import EchoSpec, StatefulSpec
    from ..apps.deploy import deploy_echo, deploy_stateful
    from .volumes import VolumeSubject

    if lb is None:
        from ..lb.detect import choose, detect

        lb = choose("auto", "internet-facing", detect(cluster))

    kwargs = {"images": images} if images is not None else {}

    def deploy(policy: str) -> Subject:
        if policy == STATEFUL:
            spec = StatefulSpec(node_loss_toleration=profile.app_node_loss_toleration)
            app = deploy_stateful(cluster, namespace, spec, profile, labels=labels, progress=progress, **kwargs)
            return VolumeSubject("sample/stateful", app, Evidence(nodeid=f"{nodeid}::sample/stateful"))
        echo = EchoSpec(name=f"echo-{policy.lower()}", traffic_policy=policy, lb=lb)  # type: ignore[arg-type]
        app = deploy_echo(cluster, namespace, echo, profile, labels=labels, progress=progress, **kwargs)
        return Subject(f"sample/{policy}", app, Evidence(nodeid=f"{nodeid}::sample/{policy}"), traffic_policy=policy)

    kinds = (*POLICIES, STATEFUL) if stateful else POLICIES
    with ThreadPoolExecutor(len(kinds), thread_name_prefix="azchaos-deploy") as pool:
        return list(pool.map(deploy, kinds))


@contextlib.contextmanager
def run_namespace(cluster: Any, prefix: str, run_id: str, extra_labels: dict[str, str]) -> Iterator[str]:
    """A namespace of this run for the sample apps, deleted afterwards."""
    from kubernetes import client

    from ..wellknown import MANAGED_BY, MANAGED_BY_LABEL, RUN_ID_LABEL

    name = f"{prefix}-gameday-{uuid.uuid4().hex[:5]}"
    cluster.core.create_namespace(client.V1Namespace(metadata=client.V1ObjectMeta(
        name=name, labels={**extra_labels, MANAGED_BY_LABEL: MANAGED_BY, RUN_ID_LABEL: run_id})))
    try:
        yield name
    finally:
        with contextlib.suppress(client.ApiException):
            cluster.core.delete_namespace(name)


def target_subject(cluster: Any, target: Any, profile: Any, *, progress: Any = None,
                   nodeid: str = "gameday") -> Subject:
    """A ``--azchaos-target`` as a subject: found and reachable, never deployed or changed (``AppError`` says
    why it cannot be used)."""
    from ..apps.target_app import needs, resolve_target, traffic_policy

    app = resolve_target(cluster, target, profile.lb_ready_timeout, progress=progress)
    return Subject(target.id, app, Evidence(nodeid=f"{nodeid}::{target.id}"),
                   traffic_policy=traffic_policy(app) or "Cluster",
                   no_client_address=needs(target, "echo", "AZ-SRCIP"),
                   no_serving_pod=needs(target, "pod-header", "AZ-BALANCE"))
