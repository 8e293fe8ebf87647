"""Deploy a sample app and wait until it serves: one flow for the fixtures and the chaostoolkit actions."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..kube.cluster import Cluster
from ..kube.wait import Progress
from .app import App, AppError
from .echo import MANAGED, EchoSpec, echo_manifests, fitted
from .images import PullSecret, SampleImages
from .stateful import StatefulSpec, stateful_manifests

if TYPE_CHECKING:
    from ..timing import Profile


def deploy_echo(cluster: Cluster, namespace: str, spec: EchoSpec, profile: Profile, *,
                labels: dict[str, str] | None = None, progress: Progress | None = None,
                images: SampleImages | None = None) -> App:
    """Create the echo app fitted to ``profile`` (with ``images``: its image and pull secrets), wait until its pods
    are Ready and every load-balancer address answers; ``AppError`` says which step did not happen in the profile's
    time, with the pods and the namespace's Warning events (an image that cannot be pulled, a refused pod ...)."""
    spec = fitted(spec, profile)
    ensure_pull_secrets(cluster, namespace, images, labels)
    manifests = echo_manifests(spec, labels, images)
    if spec.lb is not None and spec.lb.target_type == "ip":
        _before_pods_for_ip_targets(cluster, namespace, manifests, profile, progress)
    app = App.deploy(cluster, namespace, manifests)
    app.spec = spec
    ready = app.wait_ready(profile.app_ready_timeout, progress)
    if not ready.ok:
        raise AppError(f"the echo app did not become ready: {ready.describe()}; pods: "
                       + (", ".join(f"{p.metadata.name}={p.status.phase}" for p in app.pods()) or "none")
                       + _warnings(cluster, namespace))
    app.addresses = app.lb_addresses(profile.lb_ready_timeout, progress)
    reachable = app.wait_reachable(app.addresses, profile.lb_ready_timeout, progress=progress)
    if not reachable.ok:
        raise AppError(_unreachable_internal(app) or
                       f"the echo app is not reachable through its load balancer: {reachable.describe()}")
    return app


def _before_pods_for_ip_targets(cluster: Cluster, namespace: str, manifests: list[dict[str, Any]],
                                profile: Profile, progress: Progress | None) -> None:
    """ip targets: label the namespace for the LBC's readiness gates and create the Service (waiting for its
    TargetGroupBinding) before any pod, because the gate is injected only at pod creation (``lb.readiness``)."""
    from ..lb.readiness import label_namespace, wait_target_group_binding
    from .app import _create

    label_namespace(cluster.core, namespace)
    service = next(m for m in manifests if m["kind"] == "Service")
    _create(cluster, namespace, service)
    reason = wait_target_group_binding(cluster, namespace, service["metadata"]["name"], profile.lb_ready_timeout)
    note = getattr(progress, "note", None)  # the terminal reporter's; a bare Progress has none
    if reason and note is not None:
        note(f"ip targets: pods are created before their target group exists, so they may get no readiness gate: "
             f"{reason}")


def _unreachable_internal(app: App) -> str:
    """Why the app's load balancer cannot be reached from here, when it is internal and every connection times out
    (``lb.reach``); ``""`` when that is not the reason."""
    from ..lb.reach import connect_probes, internal_unreachable
    from ..lb.resolve import LbResolver

    if not app.service:
        return ""
    service = app.cluster.core.read_namespaced_service(app.service, app.namespace)
    probes = connect_probes(app.addresses, app.port, LbResolver.for_kubeconfig(app.cluster.kubeconfig,
                                                                               app.cluster.context))
    return internal_unreachable(service, probes, _aws_scheme(app))


def _aws_scheme(app: App) -> str | None:
    """The load balancer's ``Scheme`` as AWS reports it, or None when AWS cannot be asked (no access, not found)."""
    try:
        from ..aws import AwsContext
        from ..aws.lb_config import lb_config

        hostname = next((a for a in app.addresses if not a.replace(".", "").isdigit()), None)
        assert app.service is not None
        return lb_config(AwsContext.for_kubeconfig(app.cluster.kubeconfig), app.namespace, app.service,
                         hostname).scheme
    except Exception:  # no AWS access or no such load balancer: the Kubernetes side decides alone
        return None


def deploy_stateful(cluster: Cluster, namespace: str, spec: StatefulSpec, profile: Profile, *,
                    labels: dict[str, str] | None = None, wait: bool = True,
                    progress: Progress | None = None, images: SampleImages | None = None) -> App:
    """Create the stateful app (one EBS volume per pod) and, with ``wait``, wait until its pods are Ready."""
    ensure_pull_secrets(cluster, namespace, images, labels)
    app = App.deploy(cluster, namespace, stateful_manifests(spec, labels, images), kind="StatefulSet")
    app.spec = spec
    if wait:
        ready = app.wait_ready(profile.stateful_ready_timeout, progress)
        if not ready.ok:
            raise AppError(f"the stateful app did not become ready: {ready.describe()}" + _warnings(cluster, namespace))
    return app


PULL_SECRET_TYPES = ("kubernetes.io/dockerconfigjson", "kubernetes.io/dockercfg")


def ensure_pull_secrets(cluster: Cluster, namespace: str, images: SampleImages | None,
                        labels: dict[str, str] | None = None) -> None:
    """Make every pull secret of ``images`` present in ``namespace`` before anything is created there: copy each
    ``NAMESPACE/NAME`` from its namespace (labelled as ours, so it goes with the app's namespace), check that each
    bare ``NAME`` is already there. ``AppError`` naming the fix when one is missing or is not a registry secret."""
    for secret in images.pull_secrets if images else ():
        source = secret.source_namespace or namespace
        found = _read_secret(cluster, source, secret.name)
        if found is None:
            raise AppError(_missing_secret(secret, namespace))
        if found.type not in PULL_SECRET_TYPES:
            raise AppError(f"image pull secret {source}/{secret.name} is of type {found.type}, which the kubelet "
                           f"does not read for pulls: create a registry secret ({PULL_SECRET_TYPES[0]}) with "
                           f"`kubectl create secret docker-registry {secret.name} --docker-server=REGISTRY "
                           f"--docker-username=USER --docker-password=PASSWORD -n {source}`")
        if source != namespace:
            _copy_secret(cluster, namespace, found, labels)


def _read_secret(cluster: Cluster, namespace: str, name: str) -> Any:
    from kubernetes.client import ApiException

    try:
        return cluster.core.read_namespaced_secret(name, namespace)
    except ApiException as e:
        if e.status == 404:
            return None
        raise


def _missing_secret(secret: PullSecret, namespace: str) -> str:
    create = (f"`kubectl create secret docker-registry {secret.name} --docker-server=REGISTRY --docker-username=USER "
              f"--docker-password=PASSWORD -n {{ns}}`")
    if secret.source_namespace:
        return (f"image pull secret {secret} not found: namespace {secret.source_namespace} has no Secret "
                f"{secret.name}; create it there with {create.format(ns=secret.source_namespace)}, or fix "
                "--azchaos-image-pull-secret NAMESPACE/NAME")
    return (f"image pull secret {secret.name} not found in namespace {namespace}, where the app is deployed: name "
            f"the namespace to copy it from, --azchaos-image-pull-secret NAMESPACE/{secret.name}, or create it in the "
            f"app's namespace with {create.format(ns=namespace)}")


def _copy_secret(cluster: Cluster, namespace: str, source: Any, labels: dict[str, str] | None) -> None:
    """``source``'s type and data in ``namespace`` under its name; an AlreadyExists is our own earlier attempt."""
    from kubernetes.client import ApiException

    body = {"apiVersion": "v1", "kind": "Secret", "type": source.type, "data": dict(source.data or {}),
            "metadata": {"name": source.metadata.name, "labels": {**MANAGED, **(labels or {})},
                         "annotations": {"azchaos.io/copied-from": f"{source.metadata.namespace}/"
                                                                        f"{source.metadata.name}"}}}
    try:
        cluster.core.create_namespaced_secret(namespace, body)
    except ApiException as e:
        if e.status != 409:
            raise


def _warnings(cluster: Cluster, namespace: str) -> str:
    """The namespace's Warning events (FailedCreate with Pod Security's refusal, FailedScheduling ...): why
    pods never came, which otherwise only the controllers' events say."""
    from ..checks.evidence import events_clause

    return events_clause(cluster.core, namespace, warnings_only=True)
