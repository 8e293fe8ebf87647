"""The embedded cluster's runtime: store, API server and controllers on one asyncio loop.

Runs inside the cluster process (see ``process.py``); ``serve()`` is that process's main.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import math
import os
import signal
from pathlib import Path
from typing import Any

from aiohttp import web

from .. import eventloop
from ..timing import DEFAULT_PROFILE, Profile
from .apiserver import subresources
from .apiserver.allocators import ServiceAllocator
from .apiserver.faults import FaultSpec
from .apiserver.resources import REGISTRY
from .apiserver.server import ApiServer
from .apiserver.store import Store, now_rfc3339
from .cloud.layer import CloudLayer
from .controllers.attach_detach import AttachDetachController, CsiAttacher
from .controllers.cronjob import CronJobController
from .controllers.ebs_provisioner import WELL_KNOWN_ZONE_KEY, EbsProvisioner, install_ebs_csi
from .controllers.endpoints import EndpointsController, EndpointSliceController
from .controllers.events import EventRecorder
from .controllers.garbage_collector import GarbageCollector
from .controllers.job import JobController
from .controllers.namespace import NamespaceController
from .controllers.node_lifecycle import NodeLifecycleController, TaintEvictionController
from .controllers.persistentvolume import PersistentVolumeController, StorageProtectionController
from .controllers.podgc import PodGCController
from .controllers.scheduling import SchedulerController
from .controllers.ttl_after_finished import TTLAfterFinishedController
from .controllers.workload import now as wall_clock
from .controllers.workloads import workload_controllers
from .dns import vpc as vpc_dns
from .dns.addon import cluster_dns_ip, install_coredns
from .dns.records import CLUSTER_DOMAIN, ClusterDnsIndex
from .heartbeat import NodeHeartbeat
from .images import default_registry
from .images.aws_lbc import LBC_REPOSITORY, lbc_definition
from .images.coredns import COREDNS_REPOSITORY, coredns_definition, eks_coredns_repository
from .images.mirror import RegistryMirror
from .kubelet.dns_config import PodDnsSettings, node_resolv_conf
from .kubelet.exec_stream import exec_handler
from .kubelet.kubelet import KubeletManager, PodAddresses
from .kubelet.logs import log_handler
from .lbc.addon import install_lbc
from .lbc.controller import LbcController
from .lbc.dns import LbDnsServer
from .lbc.webhooks import WebhookDispatcher, WebhookServers, serve_webhook_configurations
from .network.addresses import AddressPlan
from .network.dataplane import DataPlane
from .network.nlb import HealthCheckTiming
from .stalls import LoopLagMonitor, block_loop
from .storage import VolumeStore, attach_volume_store
from .topology import Topology, node_object

log = logging.getLogger(__name__)

SYSTEM_NAMESPACES = ("default", "kube-node-lease", "kube-public", "kube-system")


class EmbeddedCluster:
    """Everything one embedded cluster runs, wired together."""

    def __init__(self, topology: Topology, plan: AddressPlan, profile: Profile | None = None,
                 state_dir: Path | None = None, ebs_topology_key: str = WELL_KNOWN_ZONE_KEY,
                 registry_mirrors: tuple[RegistryMirror, ...] = (), lb_controller: str = "legacy"):
        """``state_dir`` holds volume data (a temporary directory, removed on stop, by default);
        ``registry_mirrors`` serve the built-in images under other registries' names too (``images.mirror``);
        ``ebs_topology_key`` is the zone key of provisioned PVs' node affinity (EBS CSI >= v1.33 default)."""
        self.topology = topology
        self.plan = plan
        self.profile = profile or Profile.by_name(DEFAULT_PROFILE)
        self.lb_controller = lb_controller  # legacy | lbc | auto-mode (lbc/)
        self.provisioner = str(topology.extra.get("provisioner") or "node-groups")  # provisioners/
        self.karpenter: Any = None
        self.autoscaler: Any = None  # autoscaler.controller.ClusterAutoscaler (node-groups provisioner)
        self.store = Store()
        self.volumes = VolumeStore(state_dir)
        attach_volume_store(self.store, self.volumes)
        self.allocator = ServiceAllocator(plan.service_cidr)
        self.store.allocators["services"] = self.allocator
        self.api = ApiServer(self.store)
        subresources.register(self.api)
        self.controllers = [GarbageCollector(self.store), NamespaceController(self.store),
                            *workload_controllers(self.store)]
        self.node_lifecycle = NodeLifecycleController(self.store, self.profile)
        self.controllers += [self.node_lifecycle, TaintEvictionController(self.store),
                             EndpointSliceController(self.store), EndpointsController(self.store)]
        self.controllers += [PersistentVolumeController(self.store), StorageProtectionController(self.store),
                             EbsProvisioner(self.store, ebs_topology_key), CsiAttacher(self.store),
                             AttachDetachController(self.store, self.profile)]
        self.controllers += [PodGCController(self.store, quarantine=self.profile.pod_gc_orphan_quarantine)]
        self.heartbeats: dict[str, NodeHeartbeat] = {}
        self.powered_off: set[str] = set()  # nodes whose instance is stopped
        self.partitioned: set[str] = set()  # nodes whose subnet a network ACL cuts off
        self.api.app.middlewares.append(self._emulator_control)
        # batch/v1. AZCHAOS_EMBEDDED_CRON_CLOCK_OFFSET (seconds, a start option for tests) runs the CronJob
        # controller's clock ahead of the wall clock, so a `* * * * *` schedule fires without waiting a minute.
        cron_offset = float(os.environ.get("AZCHAOS_EMBEDDED_CRON_CLOCK_OFFSET") or 0.0)
        self.controllers += [JobController(self.store), TTLAfterFinishedController(self.store),
                             CronJobController(self.store, clock=lambda: wall_clock() + cron_offset)]
        self.scheduler = SchedulerController(self.store, retry_interval=self.profile.scheduler_unschedulable_retry)
        self._kubelet_events: dict[str, EventRecorder] = {}
        images = default_registry()
        for mirror in registry_mirrors:
            images.add_mirror(mirror)
        from .images.cluster_autoscaler import CA_REPOSITORY, ca_definition

        images.register(CA_REPOSITORY, ca_definition(lambda: self.autoscaler))
        from .images.karpenter import KARPENTER_REPOSITORY, karpenter_definition

        images.register(KARPENTER_REPOSITORY, karpenter_definition(lambda: self.karpenter))
        self.kubelets = KubeletManager(self.store, images, PodAddresses(plan.pod), self._kubelet_event)
        # Cluster DNS (the EKS CoreDNS add-on, created in bootstrap; AZCHAOS_EMBEDDED_COREDNS=0 leaves it out):
        # kube-dns on the service CIDR's 10th address is every kubelet's clusterDNS; CoreDNS pods answer from the
        # ``kubernetes`` plugin's view of the store.
        self.coredns = os.environ.get("AZCHAOS_EMBEDDED_COREDNS", "1") != "0"
        self.dns_ip = cluster_dns_ip(plan.service_cidr)
        self.dns_index = ClusterDnsIndex(self.store)
        for repository in (COREDNS_REPOSITORY, *([eks_coredns_repository(topology.region)] if topology.region else [])):
            images.register(repository, coredns_definition(lambda: self.dns_index))
        self.kubelets.dns = PodDnsSettings([self.dns_ip], CLUSTER_DOMAIN,
                                           node_resolv_conf(topology.region or "us-east-1"))
        # podAttachAndMountTimeout (2 min) scaled as the profile scales maxWaitForUnmountDuration (6 min).
        self.kubelets.mount_timeout = self.profile.max_wait_for_unmount / 3  # type: ignore[attr-defined]
        self.api.register_subresource("pods", "log", log_handler(self.kubelets))
        self.api.register_subresource("pods", "exec", exec_handler(self.kubelets))
        p = self.profile
        self.dataplane = DataPlane(
            self.store, plan,
            HealthCheckTiming(
                p.nlb_cluster_interval, p.nlb_cluster_healthy_threshold, p.nlb_cluster_unhealthy_threshold,
                p.nlb_local_interval, p.nlb_local_healthy_threshold, p.nlb_local_unhealthy_threshold,
                p.nlb_health_check_timeout, p.nlb_deregistration_delay),
            propagation_delay=p.endpoint_propagation_delay)
        # Load-balancer flavour (lbc/): the AWS Load Balancer Controller or Auto Mode beside the in-tree NLB.
        self.lbc: LbcController | None = None
        self.lb_dns: LbDnsServer | None = None
        if lb_controller != "legacy":
            self._setup_lbc(images)
        self._runner: web.AppRunner | None = None
        self.loop_lag = LoopLagMonitor()
        self.url = ""
        # The AWS side (moto): instances, ASGs, EBS volumes, NLBs. Not for explicitly shaped (non-EKS) nodes;
        # AZCHAOS_EMBEDDED_CLOUD=0 turns it off.
        self.cloud: CloudLayer | None = (
            CloudLayer(self) if not topology.shapes and os.environ.get("AZCHAOS_EMBEDDED_CLOUD", "1") != "0" else None)

    def _setup_lbc(self, images: Any) -> None:
        """lbc / auto-mode: the controller, its webhooks and image (lbc), the data plane's LBC timings."""
        p, dataplane = self.profile, self.dataplane
        ctl = LbcController(self.store, self.lb_controller, self.topology.region or "us-east-1", self._lbc_changed,
                            gate_period=min(1.0, p.lbc_health_check_interval))
        ctl.target_states = dataplane.target_states
        self.lbc = ctl
        dataplane.lbc = ctl
        dataplane.lbc_interval_scale = p.lbc_health_check_interval / 10.0
        dataplane.registration_delay = p.nlb_registration_delay
        dataplane.new_connections_after_deregistration = p.nlb_deregistration_new_connections
        dataplane.deregistration_scale = p.nlb_deregistration_delay / 300.0  # lbc: the model's own delay, scaled
        self.controllers.append(ctl)
        if self.lb_controller == "lbc":
            ctl.servers = WebhookServers()
            serve_webhook_configurations()
            self.store.admission_hooks.append(WebhookDispatcher(self.store, ctl.servers))
            images.register(LBC_REPOSITORY, lbc_definition(lambda: ctl))
        else:
            self.store.admission_hooks.append(ctl.admit_auto_mode)

    def _nlb_name(self, name: str) -> tuple[list[str], int] | None:
        """An NLB name as the VPC resolver answers it (Route 53's records, the profile's TTL)."""
        found = self.dataplane.resolve(name)
        return (found, max(1, math.ceil(self.profile.nlb_dns_ttl))) if found is not None else None

    def _lbc_changed(self, namespace: str, name: str) -> None:
        """The LBC's model of a Service changed: the data plane and the AWS mirror follow."""
        self.dataplane.enqueue(("svc", namespace, name))
        if self.cloud is not None and self.cloud.populated:
            self.cloud.nlbs.enqueue((namespace, name))

    def bootstrap(self) -> None:
        """Objects a fresh cluster has: system namespaces, the kubernetes Service, the nodes."""
        ns = REGISTRY.lookup("", "v1", "namespaces")
        for name in SYSTEM_NAMESPACES:
            self.store.create(ns, "", {"metadata": {"name": name,
                                                     "labels": {"kubernetes.io/metadata.name": name}}})
        svc = REGISTRY.lookup("", "v1", "services")
        self.store.create(svc, "default", {
            "metadata": {"name": "kubernetes", "labels": {"component": "apiserver", "provider": "kubernetes"}},
            "spec": {"clusterIP": self.allocator.kubernetes_ip,
                     "ports": [{"name": "https", "port": 443, "targetPort": 6443}]},
        })
        from .apiserver.priority import bootstrap as bootstrap_priority_classes

        bootstrap_priority_classes(self.store)  # system-node-critical, system-cluster-critical
        nodes = REGISTRY.lookup("", "v1", "nodes")
        now = now_rfc3339()
        specs = self.topology.nodes(self.plan)
        if self.cloud is not None:
            self.cloud.set_nodes(specs)  # its node groups' ASGs launch instances with these ids
        for spec in specs:
            node = node_object(spec, self.topology, now)
            if "auto-mode" in (self.lb_controller, self.provisioner):  # EKS Auto Mode's nodes say so
                node["metadata"].setdefault("labels", {})["eks.amazonaws.com/compute-type"] = "auto"
            self.store.create(nodes, "", node)
            self.kubelets.add_node(spec.name, spec.address)
            self.heartbeats[spec.name] = NodeHeartbeat(self.store, spec.name, self.profile)
        install_ebs_csi(self.store, {spec.name: spec.instance_id for spec in specs})
        if self.coredns:
            install_coredns(self.store, self.topology.region, self.dns_ip)
        if self.lb_controller == "lbc":
            install_lbc(self.store, self.topology.cluster_name)
        from .provisioners import install as install_provisioner  # karpenter / auto-mode (provisioners/)

        self.karpenter = install_provisioner(self, self.provisioner)
        if self.provisioner == "node-groups" and self.cloud is not None:  # the Cluster Autoscaler (autoscaler/)
            from .autoscaler.addon import install_cluster_autoscaler
            from .autoscaler.controller import ClusterAutoscaler

            install_cluster_autoscaler(self.store, self.topology.cluster_name, self.topology.region)
            self.autoscaler = ClusterAutoscaler(self)

    def _kubelet_event(self, pod: dict, etype: str, reason: str, message: str, node: str,
                       field: str | None) -> None:
        recorder = self._kubelet_events.get(node)
        if recorder is None:
            recorder = self._kubelet_events[node] = EventRecorder(self.store, "kubelet", node)
        ref = {"kind": "Pod", "namespace": pod["metadata"]["namespace"], "name": pod["metadata"]["name"],
               "uid": pod["metadata"]["uid"], "apiVersion": "v1",
               "resourceVersion": pod["metadata"].get("resourceVersion", "")}
        if field:  # upstream's fieldPath names the list the container is in (pkg/kubelet/container/ref.go)
            inits = {c.get("name") for c in pod["spec"].get("initContainers") or []}
            ref["fieldPath"] = f"spec.{'initContainers' if field in inits else 'containers'}{{{field}}}"
        recorder.event(ref, etype, reason, message)

    def stop_node_heartbeat(self, name: str) -> None:
        """Stop a node's lease renewal and status posts (the node controller then marks it Unknown). A node a
        provisioner removed (Karpenter, the Cluster Autoscaler) has none left."""
        hb = self.heartbeats.get(name)
        if hb is not None:
            hb.stop()

    def start_node_heartbeat(self, name: str) -> None:
        """Resume a node's heartbeat: lease renewed and conditions posted at once (none for a removed node)."""
        hb = self.heartbeats.get(name)
        if hb is not None:
            hb.start()

    @web.middleware
    async def _emulator_control(self, request: web.Request, handler: Any) -> web.StreamResponse:
        """Emulator-only control API, beside the Kubernetes API (no real cluster has it).

        ``/azchaos/v1/nodes/<name>/heartbeat``: GET/PUT ``{"running": bool, "ready": bool}``;
        ``/azchaos/v1/nodes/<name>/power``: GET/PUT ``{"running": bool}`` stops or starts the whole node
        (kubelet, heartbeat, network), as stopping its EC2 instance would;
        ``/azchaos/v1/nodes/<name>/kubelet``: GET/PUT ``{"running": bool}`` stops or starts only the pod side
        of the kubelet while the heartbeat goes on (a fake node, as the golden transcripts' cluster had);
        ``/azchaos/v1/audit``: GET/DELETE the (verb, resource) pairs served (``_audit``);
        ``/azchaos/v1/stalls``: GET ``?since=<unix time>`` the emulator's own event-loop stalls (``stalls.py``);
        PUT ``{"seconds": s}`` holds the loop that long (tests stall the emulator on purpose);
        ``/azchaos/v1/controller-errors``: GET the exceptions controllers caught and kept going after.
        """
        parts = request.path.strip("/").split("/")
        if parts == ["azchaos", "v1", "audit"]:
            return self._audit(request)
        if parts == ["azchaos", "v1", "stalls"]:
            return await self._stalls(request)
        if parts == ["azchaos", "v1", "controller-errors"]:
            return web.json_response({"controllers": [
                {"name": c.name, "count": len(c.errors), "last": repr(c.errors[-1])}
                for c in self._error_keepers() if getattr(c, "errors", None)]})
        if len(parts) != 5 or parts[:3] != ["azchaos", "v1", "nodes"] or parts[4] not in (
                "heartbeat", "power", "kubelet"):
            return await handler(request)
        hb = self.heartbeats.get(parts[3])
        if hb is None:
            return web.json_response({"error": f"no node {parts[3]!r}"}, status=404)
        body = await request.json() if request.method == "PUT" else {}
        if parts[4] == "kubelet":
            agent = self.kubelets.nodes[parts[3]]
            if body.get("running") is False:
                agent.stop()
            elif body.get("running") is True:
                agent.start()
            return web.json_response({"node": parts[3], "running": agent.running})
        if parts[4] == "power":
            if body.get("running") is False:
                self.stop_node(parts[3])
            elif body.get("running") is True:
                self.start_node(parts[3])
            return web.json_response({"node": parts[3], "running": self.kubelets.nodes[parts[3]].running})
        if "ready" in body:
            hb.set_ready(bool(body["ready"]), body.get("message") or hb.not_ready_message)
        if body.get("running") is True:
            hb.start()
        elif body.get("running") is False:
            hb.stop()
        return web.json_response({"node": hb.node_name, "running": hb.running, "ready": hb.ready})

    def _error_keepers(self) -> list[Any]:
        """Every component that catches an exception, records it in ``errors`` and goes on: the controllers, the
        scheduler, the data plane, the cloud's mirrors and the add-on controllers (Karpenter, Cluster Autoscaler)."""
        cloud = [self.cloud.nlbs, self.cloud.volumes] if self.cloud is not None else []
        addons = [c for c in (self.karpenter, self.autoscaler) if c is not None]
        keepers = [*self.controllers, self.scheduler, self.dataplane, *cloud, *addons]
        return list({id(c): c for c in keepers}.values())  # the LBC and Karpenter are controllers as well

    async def _stalls(self, request: web.Request) -> web.StreamResponse:
        if request.method == "PUT":
            seconds = float((await request.json()).get("seconds", 0))
            if not 0 < seconds <= 30:
                return web.json_response({"error": "seconds must be in (0, 30]"}, status=400)
            asyncio.get_running_loop().call_soon(block_loop, seconds)
            return web.json_response({"stalling": seconds})
        since = float(request.query["since"]) if "since" in request.query else None
        return web.json_response({"tickSeconds": self.loop_lag.tick, "thresholdSeconds": self.loop_lag.threshold,
                                  "stalls": [s.to_dict() for s in self.loop_lag.stalls(since)]})

    def _audit(self, request: web.Request) -> web.StreamResponse:
        """``/azchaos/v1/audit``: GET the (verb, apiGroup, resource, namespace) the API served since the last
        DELETE; DELETE answers the same and clears them (the RBAC proof of ``tests/ci/test_rbac.py``).
        Namespace "" for cluster-scoped and all-namespaces requests."""
        if request.method not in ("GET", "DELETE"):
            return web.json_response({"error": "GET or DELETE"}, status=405)
        items = [{"verb": v, "apiGroup": g, "resource": r, "namespace": ns} for v, g, r, ns in sorted(self.api.audit)]
        if request.method == "DELETE":  # answers what it cleared, so a reader loses nothing between read and clear
            self.api.audit.clear()
        return web.json_response({"items": items})

    def stop_node(self, name: str) -> None:
        """Take a node away: its kubelet stops acting and reporting, its network drops everything."""
        self.powered_off.add(name)
        self.kubelets.nodes[name].stop()
        self.stop_node_heartbeat(name)
        self.dataplane.set_node_network(name, False)

    def start_node(self, name: str) -> None:
        """Bring a stopped node back (a partitioned one stays cut off from the API server)."""
        self.powered_off.discard(name)
        self.dataplane.set_node_network(name, True)
        if name in self.partitioned:
            return
        self.kubelets.nodes[name].start()
        self.start_node_heartbeat(name)

    def set_network_isolation(self, segments: dict[str, str], lb_cut_zones: dict[tuple[str, str], set[str]]) -> None:
        """Network ACLs, as the cloud layer reads them from the AWS API. ``segments``: node -> its subnet, for the
        nodes whose subnet is cut off; ``lb_cut_zones``: per Service, the load-balancer zones cut off.

        A cut-off node keeps running (kubelet, containers, probes) but cannot reach the regional API server:
        its heartbeat stops (node lifecycle marks it unreachable after the grace period) and its kubelet
        neither posts nor sees anything; flows across the subnet's boundary fail in the data plane. When the
        cut heals the kubelet reconnects: heartbeat, status, and the cleanup of pods deleted meanwhile."""
        self.dataplane.set_isolation(segments, lb_cut_zones)
        for name in sorted(set(segments) - self.partitioned):
            if name not in self.kubelets.nodes:
                continue
            self.partitioned.add(name)
            agent = self.kubelets.nodes[name]
            agent.stop()
            agent.partitioned = True
            self.stop_node_heartbeat(name)
        for name in sorted(self.partitioned - set(segments)):
            self.partitioned.discard(name)
            agent = self.kubelets.nodes[name]
            agent.partitioned = False
            if name in self.powered_off:
                continue
            agent.start()
            self.start_node_heartbeat(name)

    async def start(self, host: str, port: int) -> str:
        if self.cloud is not None:
            self.cloud.start()
        self.bootstrap()
        for hb in self.heartbeats.values():
            hb.start()
        self.node_lifecycle.start()
        if self.cloud is not None:
            self.cloud.start_coupling()
        self.api.server_address = f"{host}:{port}"
        if self.lbc is not None:  # lbc / auto-mode: readiness gates, and the NLB names' resolver
            self.lbc.start()
            self.lb_dns = await LbDnsServer(self.dataplane.resolve, self.profile.nlb_dns_ttl).start()
            vpc_dns.EXTRA_NAMES.append(self._nlb_name)  # pods resolve them too (CoreDNS forward, dnsPolicy Default)
        if self.karpenter is not None:
            self.karpenter.start()
        if self.autoscaler is not None:
            self.autoscaler.start()
        self.loop_lag.start()
        self._runner = web.AppRunner(self.api.app, access_log=None, handle_signals=False)
        await self._runner.setup()
        site = web.TCPSite(self._runner, host, port, reuse_address=True, backlog=1024)
        await site.start()
        # aiohttp types _server as AbstractServer; at run time it is an asyncio.Server, which has .sockets.
        sockets = site._server.sockets if site._server else []  # type: ignore[attr-defined]
        bound = sockets[0].getsockname() if sockets else (host, port)
        self.url = f"http://{bound[0]}:{bound[1]}"
        self.api.server_address = f"{bound[0]}:{bound[1]}"
        return self.url

    async def stop(self) -> None:
        if self.cloud is not None:
            await self.cloud.stop()
        self.node_lifecycle.stop()
        if self.karpenter is not None:
            await self.karpenter.stop()
        if self.autoscaler is not None:
            await self.autoscaler.stop()
        for hb in self.heartbeats.values():
            hb.stop()
        await self.loop_lag.stop()
        await self.kubelets.close()
        if self.lbc is not None:
            await self.lbc.stop()
        if self.lb_dns is not None:
            await self.lb_dns.close()
        await self.dataplane.close()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
        self.volumes.close()


async def _serve(topology: Topology, block: int, ready_file: Path, port: int, profile: str = DEFAULT_PROFILE,
                 registry_mirrors: tuple[RegistryMirror, ...] = (), lb_controller: str = "legacy") -> None:
    plan = AddressPlan(block)
    state_dir = os.environ.get("AZCHAOS_EMBEDDED_STATE_DIR")
    cluster = EmbeddedCluster(topology, plan, Profile.by_name(profile), Path(state_dir) if state_dir else None,
                              os.environ.get("AZCHAOS_EBS_TOPOLOGY_KEY") or WELL_KNOWN_ZONE_KEY, registry_mirrors,
                              lb_controller)
    faults = os.environ.get("AZCHAOS_API_FAULTS")
    if faults:  # API faults from the start (the body of PUT /azchaos/v1/api-faults): `./dev suites` under faults
        cluster.api.faults.configure(FaultSpec.parse(json.loads(faults)))
    url = await cluster.start(plan.api_host, port)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(sig, stop.set)
    info: dict[str, Any] = {"url": url, "pid": os.getpid(), "block": block, "topology": topology.to_dict()}
    if cluster.cloud is not None and cluster.cloud.endpoint is not None:
        info["aws"] = cluster.cloud.endpoint.to_dict()
    if cluster.lb_dns is not None:  # lbc / auto-mode: the kubeconfig declares the NLB names' resolver
        info["resolver"] = cluster.lb_dns.address
    tmp = ready_file.with_suffix(".tmp")
    tmp.write_text(json.dumps(info))
    tmp.replace(ready_file)
    await stop.wait()
    await cluster.stop()


def serve(topology: Topology, block: int, ready_file: Path, port: int = 6443, profile: str = DEFAULT_PROFILE,
          registry_mirrors: tuple[RegistryMirror, ...] = (), lb_controller: str = "legacy") -> None:
    """Run the cluster until SIGTERM/SIGINT; write ``ready_file`` once the API answers."""
    logging.basicConfig(level=os.environ.get("AZCHAOS_EMBEDDED_LOG", "WARNING"))
    eventloop.run(_serve(topology, block, ready_file, port, profile, registry_mirrors, lb_controller))
