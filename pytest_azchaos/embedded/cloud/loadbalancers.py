"""Each ``type: LoadBalancer`` Service's NLB, as cloud-provider-aws creates it, in the emulated account.

What the service controller creates (facts §E1): a ``network`` load balancer named ``a<uid without
dashes>`` (32 chars) with one subnet per zone, tagged ``kubernetes.io/service-name`` and
``kubernetes.io/cluster/<name>: owned``; per Service port a target group ``k8s-<ns>-<name>-<hash>``
of **instance** targets on the NodePort (health check TCP ``traffic-port`` 30 s 3/3 for
``Cluster``; HTTP ``/healthz`` on ``healthCheckNodePort`` 10 s 2/2 for ``Local``) and a TCP listener.

The traffic itself is carried by the embedded NLB (``network/nlb.py``); this module only mirrors it
into the AWS API. Target health: moto derives it from the instance state alone (running ->
``healthy``, stopped -> ``unused``/``Target.InvalidState``) and has no API to set it, so each mirrored
target group answers ``DescribeTargetHealth`` from the embedded NLB's own per-target health-check
state (``initial`` / ``healthy`` / ``unhealthy`` / ``draining``), keeping moto's answer for stopped or
unregistered targets.

With the AWS Load Balancer Controller or Auto Mode (``lbc/model.py``) the mirror follows the controller's model:
the NLB named ``k8s-<ns>-<name>-<hash>`` with its scheme (internal: the private subnets), tagged as the LBC tags
it (``elbv2.k8s.aws/cluster``, ``service.k8s.aws/stack``, ``service.k8s.aws/resource``); per port a target group
of the model's target type (instance: the NodePort; ip: the pods' target port, the pods' addresses registered
as the embedded NLB registers them), its health check, and its attributes set with
``ModifyTargetGroupAttributes`` (``preserve_client_ip.enabled``, ``proxy_protocol_v2.enabled``,
``deregistration_delay.*``, unhealthy connection termination).
"""

from __future__ import annotations

import asyncio
import functools
import hashlib
import logging
from collections.abc import Hashable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ..apiserver.store import Event, Store
from ..controllers.base import Controller
from .api_errors import RETRY_AFTER_API_FAILURE, caught

if TYPE_CHECKING:
    from .layer import CloudLayer

log = logging.getLogger(__name__)
Obj = dict[str, Any]
OUR_LB_CLASSES = (None, "service.k8s.aws/nlb")
CROSS_ZONE = "service.beta.kubernetes.io/aws-load-balancer-cross-zone-load-balancing-enabled"
INTERNAL = "service.beta.kubernetes.io/aws-load-balancer-internal"

# Embedded NLB target state -> (State, Reason, Description) of DescribeTargetHealth.
HEALTH = {
    "initial": ("initial", "Elb.InitialHealthChecking", "Initial health checks in progress"),
    "healthy": ("healthy", None, None),
    "unhealthy": ("unhealthy", "Target.FailedHealthChecks", "Health checks failed"),
    "draining": ("draining", "Target.DeregistrationInProgress", "Target deregistration is in progress"),
}


def load_balancer_name(uid: str) -> str:
    """cloudprovider.DefaultLoadBalancerName: ``"a" + uid`` without dashes, cut to 32 characters."""
    return ("a" + uid.replace("-", ""))[:32]


def target_group_name(namespace: str, name: str, port: Obj, uid: str) -> str:
    """``k8s-<namespace[:8]>-<name[:8]>-<10 hex>`` as cloud-provider-aws names NLB target groups."""
    digest = hashlib.sha1(f"{uid}/{port.get('port')}/{port.get('nodePort')}/TCP".encode()).hexdigest()[:10]
    clean = [("".join(ch for ch in s if ch.isalnum()))[:8] for s in (namespace, name)]
    return f"k8s-{clean[0]}-{clean[1]}-{digest}"


@dataclass
class MirroredLb:
    """What one Service's NLB is in the emulated account."""

    signature: tuple[Any, ...]
    arn: str
    target_groups: dict[int, str] = field(default_factory=dict)  # nodePort -> target group ARN
    registered: set[str] = field(default_factory=set)  # instance ids
    subnets: dict[str, str] = field(default_factory=dict)  # zone -> the load balancer's subnet there
    model: Any = None  # the LBC / Auto Mode model it mirrors (None: the in-tree NLB)
    ip_groups: dict[str, str] = field(default_factory=dict)  # ip targets: Service port name -> target group ARN
    ip_registered: set[tuple[str, str, int]] = field(default_factory=set)  # (port name, pod address, port)


class NlbMirror(Controller):
    """Creates, updates and deletes the NLBs of LoadBalancer Services in the emulated account."""

    name = "cloud-nlb"

    def __init__(self, store: Store, cloud: CloudLayer):
        super().__init__(store)
        self.cloud = cloud
        self.lbs: dict[tuple[str, str], MirroredLb] = {}
        self._lock = asyncio.Lock()

    def on_event(self, ev: Event) -> None:
        if ev.key == "services" and self.cloud.populated:
            self.enqueue((ev.namespace, ev.obj["metadata"]["name"]))

    def resync_all(self) -> None:
        """Mirror every Service's NLB (called once the account is populated)."""
        for svc in self.store.scan("services"):
            self.enqueue((svc["metadata"]["namespace"], svc["metadata"]["name"]))

    def sync(self, key: Hashable) -> None:
        asyncio.get_running_loop().create_task(self._guarded(key))

    async def _guarded(self, key: Hashable) -> None:
        assert isinstance(key, tuple)
        async with self._lock:
            try:
                await self._sync(key[0], key[1])
            except Exception as e:
                if caught(self, e, f"mirroring the NLB of {key[0]}/{key[1]}"):  # requeued, as the controllers do
                    asyncio.get_running_loop().call_later(RETRY_AFTER_API_FAILURE, self.enqueue, key)

    def _model(self, svc: Obj) -> Any:
        lbc = self.cloud.cluster.dataplane.lbc
        return lbc.model(svc["metadata"]["namespace"], svc["metadata"]["name"]) if lbc is not None else None

    def _signature(self, svc: Obj | None) -> tuple[Any, ...] | None:
        if svc is None or svc["metadata"].get("deletionTimestamp"):
            return None
        spec = svc.get("spec") or {}
        model = self._model(svc)
        if model is not None:
            ports = tuple((p.get("port"), p.get("nodePort")) for p in spec.get("ports") or []
                          if (p.get("protocol") or "TCP") == "TCP")
            return ("lbc", svc["metadata"]["uid"], ports, model)
        if self.cloud.cluster.dataplane.lbc is not None and spec.get("loadBalancerClass") is not None:
            return None  # a class of the LBC / Auto Mode that it has not reconciled: nothing exists
        if spec.get("type") != "LoadBalancer" or spec.get("loadBalancerClass") not in OUR_LB_CLASSES:
            return None
        ports = tuple((p.get("port"), p.get("nodePort")) for p in spec.get("ports") or []
                      if (p.get("protocol") or "TCP") == "TCP")
        if not ports or any(np is None for _, np in ports):
            return None
        ann = svc["metadata"].get("annotations") or {}
        local = spec.get("externalTrafficPolicy") == "Local"
        return (svc["metadata"]["uid"], ports, local, spec.get("healthCheckNodePort") if local else None,
                str(ann.get(CROSS_ZONE, "false")).lower() == "true", str(ann.get(INTERNAL, "")).lower() == "true")

    async def _sync(self, namespace: str, name: str) -> None:
        svc = self.store.peek("services", namespace, name)
        sig = self._signature(svc)
        key = (namespace, name)
        current = self.lbs.get(key)
        if current is not None and current.signature != sig:
            await asyncio.to_thread(self._delete, current)
            del self.lbs[key]
            current = None
        if sig is not None and current is None:
            assert svc is not None
            self.lbs[key] = await asyncio.to_thread(self._create, svc, sig)
            await self.reconcile_targets()

    # ------------------------------------------------------------------ AWS calls (worker thread)

    def _create(self, svc: Obj, sig: tuple[Any, ...]) -> MirroredLb:
        if sig[0] == "lbc":
            return self._create_modelled(svc, sig, sig[3])
        elb = self.cloud.client("elbv2", internal=True)
        meta, spec = svc["metadata"], svc["spec"]
        cluster = self.cloud.topology.cluster_name
        zones = sorted({self.cloud.nodegroups[z].zone for z in self.cloud.nodegroups})
        # Internet-facing: the public subnets (role/elb); internal: the private ones (role/internal-elb).
        subnets = {z: (self.cloud.subnets if sig[5] else self.cloud.public_subnets)[z] for z in zones}
        lb = elb.create_load_balancer(
            Name=load_balancer_name(meta["uid"]), Type="network",
            Scheme="internal" if sig[5] else "internet-facing",
            Subnets=[subnets[z] for z in zones],
            Tags=[{"Key": "kubernetes.io/service-name", "Value": f"{meta['namespace']}/{meta['name']}"},
                  {"Key": f"kubernetes.io/cluster/{cluster}", "Value": "owned"}],
        )["LoadBalancers"][0]
        mirrored = MirroredLb(sig, lb["LoadBalancerArn"], subnets=subnets)
        elb.modify_load_balancer_attributes(LoadBalancerArn=mirrored.arn, Attributes=[
            {"Key": "load_balancing.cross_zone.enabled", "Value": "true" if sig[4] else "false"}])
        local, hcnp = sig[2], sig[3]
        for port in spec.get("ports") or []:
            if (port.get("protocol") or "TCP") != "TCP":
                continue
            hc: dict[str, Any] = ({"HealthCheckProtocol": "HTTP", "HealthCheckPort": str(hcnp), "HealthCheckPath":
                                   "/healthz", "HealthCheckIntervalSeconds": 10, "HealthyThresholdCount": 2,
                                   "UnhealthyThresholdCount": 2}
                                  if local and hcnp else
                                  {"HealthCheckProtocol": "TCP", "HealthCheckPort": "traffic-port",
                                   "HealthCheckIntervalSeconds": 30, "HealthyThresholdCount": 3,
                                   "UnhealthyThresholdCount": 3})
            tg = elb.create_target_group(
                Name=target_group_name(meta["namespace"], meta["name"], port, meta["uid"]), Protocol="TCP",
                Port=int(port["nodePort"]), VpcId=self.cloud.vpc_id, TargetType="instance", **hc,
                Tags=[{"Key": "kubernetes.io/service-name", "Value": f"{meta['namespace']}/{meta['name']}"},
                      {"Key": "kubernetes.io/service-port", "Value": str(port["port"])},
                      {"Key": f"kubernetes.io/cluster/{cluster}", "Value": "owned"}],
            )["TargetGroups"][0]
            arn = tg["TargetGroupArn"]
            mirrored.target_groups[int(port["nodePort"])] = arn
            elb.create_listener(LoadBalancerArn=mirrored.arn, Protocol="TCP", Port=int(port["port"]),
                                DefaultActions=[{"Type": "forward", "TargetGroupArn": arn}])
            self._serve_health(arn, (meta["namespace"], meta["name"]))
        return mirrored

    def _create_modelled(self, svc: Obj, sig: tuple[Any, ...], model: Any) -> MirroredLb:
        """The NLB as the LBC's model has it (see the module docstring)."""
        elb = self.cloud.client("elbv2", internal=True)
        meta, spec = svc["metadata"], svc["spec"]
        cluster = self.cloud.topology.cluster_name
        zones = sorted({self.cloud.nodegroups[z].zone for z in self.cloud.nodegroups})
        subnets = {z: (self.cloud.subnets if model.internal else self.cloud.public_subnets)[z] for z in zones}
        stack = f"{meta['namespace']}/{meta['name']}"
        tags = [{"Key": "elbv2.k8s.aws/cluster", "Value": cluster}, {"Key": "service.k8s.aws/stack", "Value": stack}]
        lb = elb.create_load_balancer(
            Name=model.lb_name, Type="network", Scheme=model.scheme, Subnets=[subnets[z] for z in zones],
            Tags=[*tags, {"Key": "service.k8s.aws/resource", "Value": "LoadBalancer"}])["LoadBalancers"][0]
        mirrored = MirroredLb(sig, lb["LoadBalancerArn"], subnets=subnets, model=model)
        elb.modify_load_balancer_attributes(LoadBalancerArn=mirrored.arn, Attributes=[
            {"Key": "load_balancing.cross_zone.enabled", "Value": "true" if model.cross_zone else "false"}])
        hc = model.health
        for port in spec.get("ports") or []:
            if (port.get("protocol") or "TCP") != "TCP":
                continue
            pname = port.get("name") or ""
            target_port = port.get("targetPort", port.get("port"))
            tg_port = int(port["nodePort"]) if model.target_type == "instance" else (
                int(target_port) if str(target_port).isdigit() else int(port["port"]))
            check: dict[str, Any] = {"HealthCheckProtocol": hc.protocol, "HealthCheckPort": str(hc.port),
                                     "HealthCheckIntervalSeconds": hc.interval, "HealthCheckTimeoutSeconds": hc.timeout,
                                     "HealthyThresholdCount": hc.healthy, "UnhealthyThresholdCount": hc.unhealthy}
            if hc.path:
                check["HealthCheckPath"] = hc.path
            tg = elb.create_target_group(
                Name=model.target_group_for(pname) or model.lb_name, Protocol="TCP", Port=tg_port,
                VpcId=self.cloud.vpc_id, TargetType=model.target_type, **check,
                Tags=[*tags, {"Key": "service.k8s.aws/resource", "Value": f"{stack}:{port['port']}"}],
            )["TargetGroups"][0]
            arn = tg["TargetGroupArn"]
            elb.modify_target_group_attributes(TargetGroupArn=arn, Attributes=[
                {"Key": k, "Value": v} for k, v in model.attributes])
            if model.target_type == "instance":
                mirrored.target_groups[int(port["nodePort"])] = arn
            else:
                mirrored.ip_groups[pname] = arn
            elb.create_listener(LoadBalancerArn=mirrored.arn, Protocol="TCP", Port=int(port["port"]),
                                DefaultActions=[{"Type": "forward", "TargetGroupArn": arn}])
            self._serve_health(arn, (meta["namespace"], meta["name"]))
        return mirrored

    def _delete(self, mirrored: MirroredLb) -> None:
        elb = self.cloud.client("elbv2", internal=True)
        elb.delete_load_balancer(LoadBalancerArn=mirrored.arn)
        for arn in [*mirrored.target_groups.values(), *mirrored.ip_groups.values()]:
            elb.delete_target_group(TargetGroupArn=arn)

    def _register_ips(self, mirrored: MirroredLb, add: set[tuple[str, str, int]],
                      remove: set[tuple[str, str, int]]) -> None:
        elb = self.cloud.client("elbv2", internal=True)
        for pname, arn in mirrored.ip_groups.items():
            adding = [{"Id": ip, "Port": port} for n, ip, port in sorted(add) if n == pname]
            removing = [{"Id": ip, "Port": port} for n, ip, port in sorted(remove) if n == pname]
            if adding:
                elb.register_targets(TargetGroupArn=arn, Targets=adding)
            if removing:
                elb.deregister_targets(TargetGroupArn=arn, Targets=removing)

    def _register(self, mirrored: MirroredLb, add: set[str], remove: set[str]) -> None:
        elb = self.cloud.client("elbv2", internal=True)
        for node_port, arn in mirrored.target_groups.items():
            if add:
                elb.register_targets(TargetGroupArn=arn, Targets=[{"Id": i, "Port": node_port} for i in sorted(add)])
            if remove:
                elb.deregister_targets(TargetGroupArn=arn,
                                       Targets=[{"Id": i, "Port": node_port} for i in sorted(remove)])

    # ------------------------------------------------------------------ targets and their health

    async def reconcile_targets(self) -> None:
        """Register the embedded NLB's current targets (running instances only, as EC2 requires)."""
        if not self.lbs:
            return
        states = self.cloud.instance_states()
        dataplane = self.cloud.cluster.dataplane
        for key, mirrored in list(self.lbs.items()):
            lb = dataplane.load_balancers.get(key)
            if lb is None:
                continue
            if mirrored.ip_groups:  # ip targets: the pods the embedded NLB registered
                want_ips = {(pname, t.address, port) for t in lb.targets.values() if t.state != "draining"
                            and t.address for pname, port in t.ports.items() if pname in mirrored.ip_groups}
                add_ips, remove_ips = want_ips - mirrored.ip_registered, mirrored.ip_registered - want_ips
                if add_ips or remove_ips:
                    await asyncio.to_thread(self._register_ips, mirrored, add_ips, remove_ips)
                    mirrored.ip_registered = want_ips
                continue
            want = {self.cloud.instances[n] for n, t in lb.targets.items()
                    if t.state != "draining" and n in self.cloud.instances}
            want = {i for i in want if states.get(i) == "running"} | (want & mirrored.registered)
            add, remove = want - mirrored.registered, mirrored.registered - want
            if add or remove:
                await asyncio.to_thread(self._register, mirrored, add, remove)
                mirrored.registered = want

    def _serve_health(self, arn: str, key: tuple[str, str]) -> None:
        """Make moto's target group answer DescribeTargetHealth from the embedded NLB's health checks."""
        from moto.core.models import DEFAULT_ACCOUNT_ID
        from moto.elbv2.models import elbv2_backends

        tg = elbv2_backends[DEFAULT_ACCOUNT_ID][self.cloud.region].target_groups[arn]
        moto_health_for = tg.health_for
        tg.health_for = functools.partial(self._health_for, moto_health_for, key)

    def _loop_time(self) -> float:
        """The cluster loop's clock (health is asked from moto's thread; the loop's clock is monotonic)."""
        import time

        return time.monotonic()

    def _health_for(self, moto_health_for: Any, key: tuple[str, str], target: Obj, ec2_backend: Any) -> Any:
        from moto.elbv2.models import FakeHealthStatus

        status = moto_health_for(target, ec2_backend)
        if status.status != "healthy":  # not registered, deregistered, or the instance is stopped
            return status
        node = self.cloud.node_by_instance.get(target["Id"], target["Id"])  # ip targets: keyed by address
        lb = self.cloud.cluster.dataplane.load_balancers.get(key)
        embedded = lb.targets.get(node) if lb is not None and node is not None else None
        state = embedded.state if embedded is not None else "initial"
        name, reason, description = HEALTH.get(state, HEALTH["initial"])
        if embedded is not None and state == "initial" and embedded.checks_from > self._loop_time():
            reason, description = "Elb.RegistrationInProgress", "Target registration is in progress"
        return FakeHealthStatus(status.instance_id, status.port, status.health_check_port, name, reason, description)
