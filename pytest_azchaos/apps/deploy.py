"""Deploy a sample app and wait until it serves: one flow for the fixtures and the chaostoolkit actions."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..kube.cluster import Cluster
from ..kube.wait import Progress
from .app import App, AppError
from .echo import EchoSpec, echo_manifests, fitted
from .stateful import StatefulSpec, stateful_manifests

if TYPE_CHECKING:
    from ..timing import Profile


def deploy_echo(cluster: Cluster, namespace: str, spec: EchoSpec, profile: Profile, *,
                labels: dict[str, str] | None = None, progress: Progress | None = None) -> App:
    """Create the echo app fitted to ``profile``, wait until its pods are Ready and every load-balancer
    address answers; ``AppError`` says which step did not happen in the profile's time, with the pods."""
    spec = fitted(spec, profile)
    app = App.deploy(cluster, namespace, echo_manifests(spec, labels))
    app.spec = spec
    ready = app.wait_ready(profile.app_ready_timeout, progress)
    if not ready.ok:
        raise AppError(f"the echo app did not become ready: {ready.describe()}; pods: "
                       + (", ".join(f"{p.metadata.name}={p.status.phase}" for p in app.pods()) or "none")
                       + _warnings(cluster, namespace))
    app.addresses = app.lb_addresses(profile.lb_ready_timeout, progress)
    reachable = app.wait_reachable(app.addresses, profile.lb_ready_timeout, progress=progress)
    if not reachable.ok:
        raise AppError(f"the echo app is not reachable through its load balancer: {reachable.describe()}")
    return app


def deploy_stateful(cluster: Cluster, namespace: str, spec: StatefulSpec, profile: Profile, *,
                    labels: dict[str, str] | None = None, wait: bool = True,
                    progress: Progress | None = None) -> App:
    """Create the stateful app (one EBS volume per pod) and, with ``wait``, wait until its pods are Ready."""
    app = App.deploy(cluster, namespace, stateful_manifests(spec, labels), kind="StatefulSet")
    app.spec = spec
    if wait:
        ready = app.wait_ready(profile.stateful_ready_timeout, progress)
        if not ready.ok:
            raise AppError(f"the stateful app did not become ready: {ready.describe()}" + _warnings(cluster, namespace))
    return app


def _warnings(cluster: Cluster, namespace: str) -> str:
    """The namespace's Warning events (FailedCreate with Pod Security's refusal, FailedScheduling ...): why
    pods never came, which otherwise only the controllers' events say."""
    from ..checks.evidence import describe_events, events_for

    try:
        lines = describe_events([e for e in events_for(cluster.core, namespace) if e.type == "Warning"], limit=5)
    except Exception as e:  # the message is about the app; an unreadable event list is said, not raised
        return f"; (events unreadable: {e})"
    return "; " + "; ".join(lines) if lines else ""
