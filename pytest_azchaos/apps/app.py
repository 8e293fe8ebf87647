"""A workload under test: the sample apps we deploy, or the user's own Deployment/StatefulSet + Service."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..kube.cluster import Cluster
from ..kube.topology import ZoneMap, is_ready
from ..kube.wait import Progress, WaitResult, wait_until


class AppError(Exception):
    """The app cannot be used (not found, no load-balancer address ...); the message names the fix."""


def _create(cluster: Cluster, namespace: str, manifest: dict[str, Any]) -> None:
    """Create ``manifest``; an AlreadyExists is our own earlier attempt (a create retried after a 5xx answer:
    the sample apps go into a namespace of their own), so it counts as created."""
    from kubernetes.client import ApiException

    from .refused import webhook_refusal

    try:
        _create_once(cluster, namespace, manifest)
        return
    except ApiException as e:
        if e.status == 409:
            return
        refusal = webhook_refusal(cluster, namespace, manifest, e)
        if refusal is None:
            raise
    # A fail-closed webhook without backends is a finding about the cluster, not our API failing: raised outside
    # the handler, so the 500 is not this error's context (which would make the test inconclusive, plugin.py).
    raise AppError(refusal)


def _create_once(cluster: Cluster, namespace: str, manifest: dict[str, Any]) -> None:
    from kubernetes import client

    kind = manifest["kind"]
    if kind == "Deployment":
        cluster.apps.create_namespaced_deployment(namespace, manifest)
    elif kind == "StatefulSet":
        cluster.apps.create_namespaced_stateful_set(namespace, manifest)
    elif kind == "Service":
        cluster.core.create_namespaced_service(namespace, manifest)
    elif kind == "PodDisruptionBudget":
        # The client takes a plain manifest where its signature says model (it serializes either).
        client.PolicyV1Api(cluster.api).create_namespaced_pod_disruption_budget(namespace, manifest)  # type: ignore[arg-type]
    else:
        raise ValueError(f"cannot create {kind}")


@dataclass
class App:
    """A workload: its pods by label selector, its controller, and its load-balancer Service (if any)."""

    cluster: Cluster
    namespace: str
    name: str
    selector: dict[str, str]
    kind: str = "Deployment"
    service: str | None = None
    manifests: list[dict[str, Any]] = field(default_factory=list)
    addresses: list[str] = field(default_factory=list)  # load-balancer addresses, once known
    spec: Any = None  # the EchoSpec / StatefulSpec it was built from

    @classmethod
    def deploy(cls, cluster: Cluster, namespace: str, manifests: list[dict[str, Any]], *, kind: str = "Deployment",
               ) -> App:
        """Create ``manifests`` in ``namespace``; the app is the first ``kind`` object and the Service."""
        workload = next(m for m in manifests if m["kind"] == kind)
        service = next((m["metadata"]["name"] for m in manifests if m["kind"] == "Service"), None)
        for m in manifests:
            _create(cluster, namespace, m)
        return cls(cluster, namespace, workload["metadata"]["name"], dict(workload["spec"]["selector"]["matchLabels"]),
                   kind, service, manifests)

    @classmethod
    def existing(cls, cluster: Cluster, namespace: str, name: str, service: str | None = None,
                 kind: str = "Deployment") -> App:
        """Aim at the user's own Deployment (or StatefulSet) and Service."""
        from kubernetes.client import ApiException

        try:
            obj = (cluster.apps.read_namespaced_deployment(name, namespace) if kind == "Deployment"
                   else cluster.apps.read_namespaced_stateful_set(name, namespace))
        except ApiException as e:
            if e.status == 404:
                raise AppError(f"{kind} {namespace}/{name} not found: check the name and namespace "
                               "(kubectl get deploy,sts -A)") from None
            raise
        return cls(cluster, namespace, name, dict(obj.spec.selector.match_labels or {}), kind, service)

    # ------------------------------------------------------------------ state

    @property
    def label_selector(self) -> str:
        return ",".join(f"{k}={v}" for k, v in sorted(self.selector.items()))

    def desired_replicas(self) -> int:
        obj = (self.cluster.apps.read_namespaced_deployment(self.name, self.namespace) if self.kind == "Deployment"
               else self.cluster.apps.read_namespaced_stateful_set(self.name, self.namespace))
        return int(obj.spec.replicas or 0)

    def pods(self) -> list[Any]:
        return self.cluster.core.list_namespaced_pod(self.namespace, label_selector=self.label_selector).items

    def ready_pods(self) -> list[Any]:
        return [p for p in self.pods() if is_ready(p)]

    def pod_zones(self, zones: ZoneMap | None = None) -> dict[str, str]:
        zones = zones or ZoneMap.read(self.cluster.core)
        return {p.metadata.name: zones.zone_of(p.spec.node_name) or "unscheduled" for p in self.pods()}

    def wait_ready(self, timeout: float, progress: Progress | None = None) -> WaitResult[list[Any]]:
        want = self.desired_replicas()
        return wait_until(self.ready_pods, lambda ps: len(ps) >= want, timeout=timeout,
                          what=f"{self.kind.lower()} {self.namespace}/{self.name}: {want} pods Ready",
                          progress=progress, describe=lambda ps: f"{len(ps)}/{want} ready")

    def exec(self, pod: str, command: list[str], timeout: float = 30.0) -> Any:
        """Run ``command`` in one of the app's pods (``checks.ebs.ExecResult``: exit code and output)."""
        from ..kube.exec import exec_in_pod

        return exec_in_pod(self.cluster, self.namespace, pod, command, timeout=timeout)

    def wait_reachable(self, addresses: list[str], timeout: float, port: int | None = None, streak: int = 3,
                       progress: Progress | None = None) -> WaitResult[int]:
        """Until every load-balancer address answered ``streak`` requests in a row on ``port`` (default: the
        Service's), targets healthy and endpoints propagated, so a measurement starts on a serving app."""
        import requests

        from ..lb.resolve import LbResolver, ResolveError

        port = self.port if port is None else port
        # A hostname (an NLB's DNS name) through the cluster's declared resolver, else the system's: every address
        # it answers must serve.
        resolver = LbResolver.for_kubeconfig(self.cluster.kubeconfig, self.cluster.context)
        ok = {a: 0 for a in addresses}

        def serves(address: str) -> bool:
            try:
                ips = resolver.resolve(address).addresses
            except ResolveError:
                return False
            for ip in ips:
                host = f"[{ip}]" if ":" in ip else ip
                try:
                    answer = requests.get(f"http://{host}:{port}/", headers={"Host": address}, timeout=1.0)
                    if answer.status_code >= 500:
                        return False
                except requests.RequestException:
                    return False
            return True

        def fetch() -> int:
            for address in addresses:
                if ok[address] >= streak:
                    continue
                good = serves(address)
                ok[address] = ok[address] + 1 if good else 0
            return min(ok.values()) if ok else 0

        return wait_until(fetch, lambda n: n >= streak, timeout=timeout, interval=0.1,
                          what=f"service {self.namespace}/{self.service} answering on {', '.join(addresses)}",
                          progress=progress)

    @property
    def port(self) -> int:
        """The Service's first port: where its load balancer listens (what traffic is sent to)."""
        if not self.service:
            raise AppError(f"{self.namespace}/{self.name} has no Service to send traffic through")
        for m in self.manifests:
            if m.get("kind") == "Service" and m["metadata"]["name"] == self.service:
                return int(m["spec"]["ports"][0]["port"])
        svc = self.cluster.core.read_namespaced_service(self.service, self.namespace)
        return int(svc.spec.ports[0].port)

    def lb_addresses(self, timeout: float, progress: Progress | None = None) -> list[str]:
        """The Service's load-balancer addresses (IPs or hostnames); AppError with the fix if none in time."""
        if not self.service:
            raise AppError(f"{self.namespace}/{self.name} has no Service to send traffic through")

        def fetch() -> list[str]:
            svc = self.cluster.core.read_namespaced_service(self.service, self.namespace)
            ingress = (svc.status.load_balancer.ingress if svc.status.load_balancer else None) or []
            return [i.ip or i.hostname for i in ingress if i.ip or i.hostname]

        result = wait_until(fetch, bool, timeout=timeout, what=f"load-balancer address of service "
                            f"{self.namespace}/{self.service}", progress=progress)
        if not result.ok:
            raise AppError(
                f"service {self.namespace}/{self.service} got no load-balancer address within {timeout:.0f}s: "
                "check that a load-balancer controller runs (on EKS: the AWS Load Balancer Controller or the "
                "in-tree cloud provider) and `kubectl describe service` for its events; or raise the timeout "
                f"with --azchaos-profile realistic{self._service_events()}")
        return result.last or []

    def _service_events(self) -> str:
        """The Service's events (EnsuringLoadBalancer, SyncLoadBalancerFailed, FailedDeployModel ...): the
        controller's own account of why no address came, or that none spoke at all."""
        from ..checks.evidence import events_clause

        return events_clause(self.cluster.core, self.namespace, [self.service or ""], kinds=["Service"],
                             none="no controller wrote an event about the Service")
