"""A ``--azchaos-target`` found in the cluster: the user's workload as an ``App``, and where its traffic goes.

Read-only: nothing here creates, changes or deletes anything of the target. The Service is the one named,
else the one ``type: LoadBalancer`` Service whose selector picks the workload's pods (an error names the fix
when there is none or more than one); an Ingress or a URL replaces it as the way in.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal
from urllib.parse import urlsplit

from ..kube.cluster import Cluster
from ..kube.wait import Progress, wait_until
from ..targets import Target
from .app import App, AppError

__all__ = ["TargetApp", "needs", "resolve_target", "traffic_policy"]


@dataclass
class TargetApp(App):
    """The user's workload (``target``) and how to reach it: ``addresses`` and ``probe_port`` of its load
    balancer (Service, Ingress or URL) and the Host header that way in implies (``default_host``)."""

    target: Target | None = None
    probe_port: int = 80
    default_host: str | None = None

    @property
    def port(self) -> int:  # type: ignore[override]
        return self.probe_port

    def lb_addresses(self, timeout: float, progress: Progress | None = None) -> list[str]:
        return list(self.addresses)

    def unmet(self, params: dict[str, Any], variants: bool = False) -> str | None:
        """Why a test asking the sample app for ``params`` cannot run on this target without changing its spec
        (the plugin never does), or None. Only ``traffic_policy`` is a requirement; the sample app's other
        parameters shape it and mean nothing for a target. ``variants``: the test also runs with the other
        policy (indirect parametrization), which the message then points at."""
        want = params.get("traffic_policy")
        if want is None or self.target is None:
            return None
        have = traffic_policy(self)
        if have is None:
            return (f"{self.target.id}: this test needs a Service with externalTrafficPolicy {want} and the target "
                    "is reached without one (ingress= or url=); add service=NAME to judge it")
        if have != want:
            then = (f"the {have} variant of this test runs on it" if variants else
                    f"it runs on targets whose Service has externalTrafficPolicy {want}")
            return (f"{self.target.id}: this test needs externalTrafficPolicy {want} and Service "
                    f"{self.namespace}/{self.service} has {have}; the plugin never changes a target's spec ({then})")
        return None


def traffic_policy(app: App) -> str | None:
    """The app's Service's ``externalTrafficPolicy`` (``Cluster`` when unset), or None without a Service."""
    if not app.service:
        return None
    svc = app.cluster.core.read_namespaced_service(app.service, app.namespace)
    return str(svc.spec.external_traffic_policy or "Cluster")


def needs(target: Target | None, what: Literal["echo", "pod-header"], check_id: str) -> str | None:
    """Why ``check_id`` cannot judge ``target`` (a skip reason naming the setting that would enable it), or
    None: the sample app (agnhost) answers both the client address and the serving pod."""
    if target is None:
        return None
    if what == "echo" and target.echo is None:
        return (f"{check_id} needs the client address the pod saw, which only an echo endpoint tells: add "
                f"echo=/PATH (answering the caller's address, like agnhost's /clientip) to --azchaos-target "
                f"{target.text}")
    if what == "pod-header" and target.pod_header is None:
        return (f"{check_id} needs to know which pod served each request: add pod-header=NAME (a response header "
                f"naming the serving pod, e.g. from the downward API) to --azchaos-target {target.text}")
    return None


def resolve_target(cluster: Cluster, target: Target, lb_timeout: float, progress: Progress | None = None
                   ) -> TargetApp:
    """Find ``target``'s workload and its way in; ``AppError`` naming the fix when something is missing."""
    from kubernetes.client import ApiException

    kind = target.controller_kind
    try:
        obj = (cluster.apps.read_namespaced_deployment(target.name, target.namespace) if kind == "Deployment"
               else cluster.apps.read_namespaced_stateful_set(target.name, target.namespace))
    except ApiException as e:
        if e.status == 404:
            raise AppError(f"--azchaos-target {target.id}: {kind} {target.namespace}/{target.name} not found: check "
                           f"the name and namespace (kubectl get deploy,sts -n {target.namespace})") from None
        raise
    selector = dict(obj.spec.selector.match_labels or {})
    pod_labels = dict((obj.spec.template.metadata.labels if obj.spec.template.metadata else None) or {})
    app = TargetApp(cluster, target.namespace, target.name, selector, kind, target=target)
    if target.url is not None:
        parts = urlsplit(target.url)
        assert parts.hostname is not None  # validated by targets.parse_target
        app.addresses = [parts.hostname]
        app.probe_port = parts.port or (443 if parts.scheme == "https" else 80)
        app.default_host = parts.netloc.rsplit("@", 1)[-1]
        app.service = _selecting_service(cluster, target, pod_labels, required=False)
    elif target.ingress is not None:
        _from_ingress(cluster, target, app, lb_timeout, progress)
    else:
        app.service = target.service or _selecting_service(cluster, target, pod_labels, required=True)
        _from_service(cluster, target, app, lb_timeout, progress)
    return app


def _selecting_service(cluster: Cluster, target: Target, pod_labels: dict[str, str], *, required: bool
                       ) -> str | None:
    services = cluster.core.list_namespaced_service(target.namespace).items
    selecting = [s for s in services if s.spec.selector and all(pod_labels.get(k) == v
                                                                  for k, v in s.spec.selector.items())]
    balanced = [s.metadata.name for s in selecting if s.spec.type == "LoadBalancer"]
    if len(balanced) == 1:
        return balanced[0]
    if not required:
        return None
    if len(balanced) > 1:
        raise AppError(f"--azchaos-target {target.id}: more than one LoadBalancer Service selects its pods "
                       f"({', '.join(sorted(balanced))}): pick one with ,service=NAME")
    others = ", ".join(f"{s.metadata.name} ({s.spec.type})" for s in selecting) or "none"
    raise AppError(f"--azchaos-target {target.id}: no Service of type LoadBalancer selects its pods (Services "
                   f"selecting them: {others}); traffic must come through a load balancer: add ,service=NAME of a "
                   "LoadBalancer Service, ,ingress=NAME or ,url=URL")


def _from_service(cluster: Cluster, target: Target, app: TargetApp, timeout: float,
                  progress: Progress | None) -> None:
    from kubernetes.client import ApiException

    assert app.service is not None
    try:
        svc = cluster.core.read_namespaced_service(app.service, target.namespace)
    except ApiException as e:
        if e.status == 404:
            raise AppError(f"--azchaos-target {target.id}: Service {target.namespace}/{app.service} not found: "
                           f"check service= (kubectl get svc -n {target.namespace})") from None
        raise
    if svc.spec.type != "LoadBalancer":
        raise AppError(f"--azchaos-target {target.id}: Service {target.namespace}/{app.service} is of type "
                       f"{svc.spec.type}, without a load balancer: name a LoadBalancer Service, or reach it with "
                       ",ingress=NAME or ,url=URL")
    ports = [int(p.port) for p in svc.spec.ports or []]
    if target.port is not None and target.port not in ports:
        raise AppError(f"--azchaos-target {target.id}: Service {target.namespace}/{app.service} has no port "
                       f"{target.port}; its ports are {', '.join(map(str, ports))} (set ,port=)")
    app.probe_port = target.port or ports[0]
    app.addresses = App.lb_addresses(app, timeout, progress)


def _from_ingress(cluster: Cluster, target: Target, app: TargetApp, timeout: float,
                  progress: Progress | None) -> None:
    from kubernetes import client
    from kubernetes.client import ApiException

    api = client.NetworkingV1Api(cluster.api)
    name = target.ingress
    assert name is not None
    try:
        ing = api.read_namespaced_ingress(name, target.namespace)
    except ApiException as e:
        if e.status == 404:
            raise AppError(f"--azchaos-target {target.id}: Ingress {target.namespace}/{target.ingress} not found: "
                           f"check ingress= (kubectl get ingress -n {target.namespace})") from None
        raise
    rules = (ing.spec.rules if ing.spec else None) or []
    app.default_host = next((r.host for r in rules if r.host), None)
    backends = [p.backend.service.name for r in rules if r.http for p in r.http.paths or []
                if p.backend and p.backend.service]
    app.service = backends[0] if backends else None
    app.probe_port = 443 if target.scheme == "https" else 80

    def fetch() -> list[str]:
        current = api.read_namespaced_ingress(name, target.namespace)
        lb = current.status.load_balancer if current.status else None
        return [str(i.ip or i.hostname) for i in (lb.ingress if lb else None) or [] if i.ip or i.hostname]

    result = wait_until(fetch, bool, timeout=timeout, what=f"address of ingress {target.namespace}/{target.ingress}",
                        progress=progress)
    if not result.ok:
        raise AppError(f"--azchaos-target {target.id}: Ingress {target.namespace}/{target.ingress} got no address "
                       f"within {timeout:.0f}s: check that its ingress controller runs (kubectl describe ingress "
                       f"-n {target.namespace} {target.ingress}), or reach the target with ,url=URL")
    app.addresses = list(result.last or [])
