"""The embedded cluster's AWS account: VPC, subnets, per-zone EKS node groups (launch template + ASG),
the nodes' EC2 instances, EBS volumes and NLBs, held by a moto server and coupled to the cluster.

Populated through boto3 against the moto server (the same API the plugin uses). At start-up each
zone's Auto Scaling group launches that zone's instances and the nodes are then registered with
those instance ids in ``spec.providerID`` (``aws:///<zone>/<instance-id>``), as an EKS managed node
group's kubelets would be. While the cluster runs, a poll loop (``poll_interval``) watches the
instances: one leaving ``running`` (``StopInstances``, ``TerminateInstances``) takes its node down
(kubelet, heartbeat, network: ``EmbeddedCluster.stop_node``), one back to ``running`` brings it
back (``start_node``). The same loop keeps NLB target registrations in step (see ``loadbalancers.py``)
and enforces network ACLs: each zone has a private subnet (the node group's instances) and a public one
(internet-facing load balancers), as eksctl lays out a VPC for private node groups; a subnet whose ACL
denies the VPC's traffic (``nacl.py``) cuts its nodes, or its load-balancer zone, off
(``EmbeddedCluster.set_network_isolation``). Polling moto's own backend every ``poll_interval`` (0.5 s in
the fast profile, 5 s realistic) costs a dict walk, needs no hook into moto, and sees ACL changes made
by any client, which a notification from our own fault would not.

Auto Scaling (``autoscaling.py``): the groups launch, health-check and replace as AWS documents (EC2 health
check -> ReplaceUnhealthy unless suspended, nothing launched while ``Launch`` is suspended), new instances
join as nodes and terminated ones leave. Layout (``Topology.extra["node_groups"]``): ``per-zone`` (default,
one group per zone, as EKS advises for EBS-backed workloads under the Cluster Autoscaler) or ``regional`` (one
group over every zone's private subnet; EC2 balances new instances across the zones).
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ..topology import NodeSpec, Topology
from .endpoint import AwsEndpoint
from .moto_server import INTERNAL_AGENT, MotoServer

if TYPE_CHECKING:
    from ..cluster import EmbeddedCluster

log = logging.getLogger(__name__)

VPC_CIDR = "192.168.0.0/16"  # eksctl's default
# The EKS-optimised AL2023 AMI a managed node group's launch template names (moto accepts any id).
EKS_AMI = "ami-0e1c5a3d2b4f60718"
CSI_DRIVER = "ebs.csi.aws.com"
RUNNING = "running"


def subnet_cidr(index: int, count: int = 6) -> str:
    """Subnet ``index`` of ``count``, as eksctl lays them out: /19s (192.168.0.0/19, 192.168.32.0/19, ...),
    public ones first then private; /20s or /21s when more zones need more subnets than /19s allow."""
    step = 32 if count <= 8 else 16 if count <= 16 else 8
    prefix = {32: 19, 16: 20, 8: 21}[step]
    return f"192.168.{step * index}.0/{prefix}"


def stable_uuid(*parts: str) -> str:
    """A uuid-shaped suffix stable for the same inputs (EKS names node-group ASGs ``eks-<ng>-<uuid>``)."""
    return str(uuid.UUID(hashlib.sha1("/".join(parts).encode()).hexdigest()[:32]))


@dataclass(frozen=True)
class NodeGroup:
    """One EKS managed node group: a zone, its ASG and launch template."""

    name: str
    zone: str
    subnet_id: str
    asg_name: str
    launch_template_id: str


class CloudLayer:
    """The cluster's AWS side: a moto server, what it holds, and the coupling to the cluster."""

    def __init__(self, cluster: EmbeddedCluster):
        self.cluster = cluster
        self.topology: Topology = cluster.topology
        self.region = self.topology.region
        self.poll_interval = cluster.profile.cloud_poll_interval
        self.server = MotoServer(cluster.plan.api_host, self.region, self._populate)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._specs: list[NodeSpec] = []
        self.populated = False  # the account exists; the mirrors follow the API from then on
        self.endpoint: AwsEndpoint | None = None
        self.vpc_id = ""
        self.subnets: dict[str, str] = {}  # zone -> the node group's (private) subnet id
        self.public_subnets: dict[str, str] = {}  # zone -> public subnet id (internet-facing load balancers)
        self._isolation: tuple[dict[str, str], dict[tuple[str, str], set[str]]] = ({}, {})
        self.nodegroups: dict[str, NodeGroup] = {}  # zone -> node group
        self.instances: dict[str, str] = {}  # node name -> instance id
        self.node_by_instance: dict[str, str] = {}
        self._seen_running: dict[str, bool] = {}
        self._clients: dict[str, Any] = {}
        self._task: asyncio.Task[None] | None = None
        self.zonal_shifts: Any = None  # zonal_shift.ZonalShifts once the account is populated
        self.layout = str(self.topology.extra.get("node_groups") or "per-zone")  # per-zone | regional
        from .autoscaling import GroupSemantics

        self.groups = GroupSemantics(self)
        from .loadbalancers import NlbMirror
        from .volumes import VolumeMirror

        self.nlbs = NlbMirror(cluster.store, self)
        self.volumes = VolumeMirror(cluster.store, self)

    # ------------------------------------------------------------------ clients

    def client(self, service: str, internal: bool = False) -> Any:
        """A boto3 client for the emulated account (explicit endpoint and dummy keys; no env read).

        ``internal`` clients are the population's own (they pass the lazy start-up gate); the others
        wait for the account to be complete, starting it if need be. Call from a worker thread, never
        from the event loop: the first call can take seconds.
        """
        key = f"{service}/{internal}"
        c = self._clients.get(key)
        if c is None:
            import boto3
            from botocore.config import Config

            assert self.endpoint is not None
            c = boto3.session.Session().client(
                service, region_name=self.region, endpoint_url=self.endpoint.url,
                aws_access_key_id=self.endpoint.access_key_id, aws_secret_access_key=self.endpoint.secret_access_key,
                config=Config(retries={"max_attempts": 2, "mode": "standard"},
                              user_agent_extra=INTERNAL_AGENT if internal else None))
            self._clients[key] = c
        return c

    @property
    def ready(self) -> bool:
        """Whether the account is populated (moto started); nothing is mirrored or polled before."""
        return self.server.ready

    # ------------------------------------------------------------------ start-up

    def start(self) -> AwsEndpoint:
        """Bind the (lazy) moto server; the account is populated on its first request."""
        self._loop = asyncio.get_running_loop()
        self.endpoint = self.server.start()
        return self.endpoint

    def set_nodes(self, specs: list[NodeSpec]) -> None:
        """The nodes whose instances the node groups launch (their ids are the nodes' providerIDs)."""
        for spec in specs:
            self.instances[spec.name] = spec.instance_id
            self.node_by_instance[spec.instance_id] = spec.name
            self._seen_running[spec.instance_id] = True
            self._specs.append(spec)

    def ensure_started(self) -> None:
        """Populate the account now (blocking; from a worker thread)."""
        self.server.app.ensure_started()

    def _populate(self) -> None:
        """VPC, a subnet per zone, and per zone an EKS managed node group whose ASG launches the zone's
        instances under the ids the nodes already carry (moto's id generator is fed those ids)."""
        ec2 = self.client("ec2", internal=True)
        name = self.topology.cluster_name
        cluster_tag = f"kubernetes.io/cluster/{name}"
        self.vpc_id = ec2.create_vpc(CidrBlock=VPC_CIDR, TagSpecifications=[{"ResourceType": "vpc", "Tags": [
            {"Key": "Name", "Value": f"eksctl-{name}-cluster/VPC"}, {"Key": cluster_tag, "Value": "shared"}]}],
        )["Vpc"]["VpcId"]
        zones = list(self.topology.zones)
        for i, zone in enumerate(zones):
            for kind, index, role, out in (("Public", i, "kubernetes.io/role/elb", self.public_subnets),
                                           ("Private", len(zones) + i, "kubernetes.io/role/internal-elb",
                                            self.subnets)):
                out[zone] = ec2.create_subnet(
                    VpcId=self.vpc_id, CidrBlock=subnet_cidr(index, 2 * len(zones)), AvailabilityZone=zone,
                    TagSpecifications=[{"ResourceType": "subnet", "Tags": [
                        {"Key": "Name", "Value": f"eksctl-{name}-cluster/Subnet{kind}{zone[-1].upper()}"},
                        {"Key": cluster_tag, "Value": "shared"}, {"Key": role, "Value": "1"}]}],
                )["Subnet"]["SubnetId"]
        from .autoscaling import install_launch_policy

        install_launch_policy()
        by_zone: dict[str, list[NodeSpec]] = {}
        for spec in self._specs:
            by_zone.setdefault(spec.zone, []).append(spec)
        if self.layout == "regional":
            self._populate_regional(by_zone)
            by_zone = {}
        for zone, zone_specs in by_zone.items():
            wanted = [s.instance_id for s in zone_specs]
            with _instance_ids(wanted):
                group = self._create_nodegroup(zone, zone_specs[0].nodegroup, len(zone_specs))
            got = self._group_instance_ids(group.asg_name)
            if sorted(got) != sorted(wanted):
                raise RuntimeError(f"ASG {group.asg_name} launched {got}, expected the nodes' {wanted}")
            self.nodegroups[zone] = group
        self._start_zonal_shift(ec2)
        self.populated = True
        if self._loop is not None:  # NLBs and volumes that exist already, before the first answer goes out
            asyncio.run_coroutine_threadsafe(self._mirror_all(), self._loop).result(timeout=120)

    def _start_zonal_shift(self, ec2: Any) -> None:
        """Serve ARC zonal shift for the cluster (moto does not): the zones' AZ IDs from EC2."""
        from . import zonal_shift

        zone_ids = {z["ZoneName"]: z["ZoneId"] for z in ec2.describe_availability_zones()["AvailabilityZones"]
                    if z["ZoneName"] in self.topology.zones}
        self.zonal_shifts = zonal_shift.ZonalShifts(self.region, self.topology.cluster_name, zone_ids,
                                                    spacing=self.cluster.profile.zonal_shift_spacing)
        zonal_shift.CURRENT = self.zonal_shifts
        self.server.app.services[zonal_shift.SERVICE] = self.zonal_shifts

    def sync_zonal_shift(self) -> None:
        """EKS's effects of the active zonal shifts (cordon, EndpointSlices), as they change."""
        shifts = self.zonal_shifts
        if shifts is None:
            return
        store = self.cluster.store

        def nodes_in(zone: str) -> list[tuple[str, bool]]:
            return [(n["metadata"]["name"], bool((n.get("spec") or {}).get("unschedulable")))
                    for n in store.scan("nodes")
                    if (n["metadata"].get("labels") or {}).get("topology.kubernetes.io/zone") == zone]

        if shifts.sync(nodes_in, self._set_unschedulable, self._resync_endpoint_slices):
            log.info("zonal shift: zones %s shifted away", sorted(shifts.applied))

    def _set_unschedulable(self, name: str, unschedulable: bool) -> None:
        """Cordon (or uncordon) a node as EKS does for a zonal shift: ``spec.unschedulable``."""
        from ..controllers.node_lifecycle import NODES

        def mutate(node: dict[str, Any]) -> dict[str, Any]:
            node.setdefault("spec", {})["unschedulable"] = True
            if not unschedulable:
                node["spec"].pop("unschedulable", None)
            return node

        self.cluster.store.guaranteed_update(NODES, "", name, mutate)

    def _resync_endpoint_slices(self) -> None:
        """The EndpointSlice controller takes the zones under an applied zonal shift and resyncs every Service."""
        from ..controllers.endpoints import EndpointSliceController

        for ctl in self.cluster.controllers:
            if isinstance(ctl, EndpointSliceController):
                ctl.shifted_zones = self.zonal_shifts.applied
                for svc in list(self.cluster.store.scan("services")):
                    ctl.enqueue((svc["metadata"]["namespace"], svc["metadata"]["name"]))

    async def _mirror_all(self) -> None:
        for svc in list(self.cluster.store.scan("services")):
            await self.nlbs._guarded((svc["metadata"]["namespace"], svc["metadata"]["name"]))
        for pv in list(self.cluster.store.scan("persistentvolumes")):
            await self.volumes._guarded(pv["metadata"]["name"])

    def _populate_regional(self, by_zone: dict[str, list[NodeSpec]]) -> None:
        """One node group over every zone: EC2 places its instances zone by zone in turn (fewest first), so
        the ids are handed out in that order (a1, b1, c1, a2, ...)."""
        zones = [z for z in self.topology.zones if z in by_zone]
        if not zones:
            return
        order = [by_zone[z][i].instance_id for i in range(max(len(v) for v in by_zone.values()))
                 for z in zones if i < len(by_zone[z])]
        first = by_zone[zones[0]][0]
        with _instance_ids(order):
            group = self._create_nodegroup(zones[0], first.nodegroup, len(order), zones=zones)
        got = self._group_instance_ids(group.asg_name)
        if sorted(got) != sorted(order):
            raise RuntimeError(f"ASG {group.asg_name} launched {got}, expected the nodes' {order}")
        states = self.instance_zones(got)
        wrong = {iid: z for iid, z in states.items() if z != next(s.zone for s in self._specs if s.instance_id == iid)}
        if wrong:
            raise RuntimeError(f"ASG {group.asg_name} placed {wrong} in other zones than their nodes")
        for zone in zones:
            self.nodegroups[zone] = NodeGroup(group.name, zone, self.subnets[zone], group.asg_name,
                                              group.launch_template_id)

    def instance_zones(self, ids: list[str]) -> dict[str, str]:
        """Instance id -> its Availability Zone (the emulator's backend)."""
        from moto.core.models import DEFAULT_ACCOUNT_ID
        from moto.ec2.models import ec2_backends

        backend = ec2_backends[DEFAULT_ACCOUNT_ID][self.region]
        return {iid: backend.get_instance_by_id(iid).placement.zone for iid in ids}

    def _create_nodegroup(self, zone: str, nodegroup: str, size: int, zones: list[str] | None = None) -> NodeGroup:
        """An EKS managed node group as AWS holds it: launch template ``eks-<uuid>``, ASG ``eks-<ng>-<uuid>``;
        its subnets: ``zone``'s private one, or those of every zone in ``zones`` (regional layout).
        Tagged for the Cluster Autoscaler's auto-discovery (``k8s.io/cluster-autoscaler/enabled``,
        ``k8s.io/cluster-autoscaler/<cluster>``), as eksctl tags node groups. MinSize = DesiredCapacity = ``size``;
        MaxSize leaves the autoscaler room (``Topology.group_max_size``: +2 per zone the group spans by default)."""
        name = self.topology.cluster_name
        suffix = stable_uuid(name, nodegroup)
        instance_tags = [
            {"Key": "eks:cluster-name", "Value": name},
            {"Key": "eks:nodegroup-name", "Value": nodegroup},
            {"Key": f"kubernetes.io/cluster/{name}", "Value": "owned"},
        ]
        lt_id = self.client("ec2", internal=True).create_launch_template(
            LaunchTemplateName=f"eks-{suffix}",
            LaunchTemplateData={
                "ImageId": EKS_AMI, "InstanceType": self.topology.instance_type,
                "TagSpecifications": [{"ResourceType": "instance", "Tags": instance_tags},
                                      {"ResourceType": "volume", "Tags": instance_tags}],
            },
            TagSpecifications=[{"ResourceType": "launch-template", "Tags": [
                {"Key": "eks:cluster-name", "Value": name}, {"Key": "eks:nodegroup-name", "Value": nodegroup}]}],
        )["LaunchTemplate"]["LaunchTemplateId"]
        asg_name = f"eks-{nodegroup}-{suffix}"
        asg_tags = [
            *({**t, "PropagateAtLaunch": True} for t in instance_tags),
            {"Key": "k8s.io/cluster-autoscaler/enabled", "Value": "true", "PropagateAtLaunch": True},
            {"Key": f"k8s.io/cluster-autoscaler/{name}", "Value": "owned", "PropagateAtLaunch": True},
        ]
        self.client("autoscaling", internal=True).create_auto_scaling_group(
            AutoScalingGroupName=asg_name, MinSize=size, DesiredCapacity=size,
            MaxSize=self.topology.group_max_size(size, len(zones or [zone])),
            LaunchTemplate={"LaunchTemplateId": lt_id, "Version": "1"},
            VPCZoneIdentifier=",".join(self.subnets[z] for z in (zones or [zone])), HealthCheckType="EC2",
            HealthCheckGracePeriod=int(getattr(self.cluster.profile, "asg_health_check_grace_period", 15)),
            Tags=[{**t, "ResourceId": asg_name, "ResourceType": "auto-scaling-group"} for t in asg_tags],
        )
        return NodeGroup(nodegroup, zone, self.subnets[zone], asg_name, lt_id)

    def _group_instance_ids(self, asg_name: str) -> list[str]:
        groups = self.client("autoscaling", internal=True).describe_auto_scaling_groups(
            AutoScalingGroupNames=[asg_name])["AutoScalingGroups"]
        return [i["InstanceId"] for i in groups[0]["Instances"]] if groups else []

    # ------------------------------------------------------------------ EBS (for the ebs.csi.aws.com provisioner)

    def create_volume(self, zone: str, size_gib: int, tags: dict[str, str], volume_type: str = "gp3",
                      internal: bool = False) -> str:
        """CreateVolume as the EBS CSI controller sends it; returns the ``vol-...`` id (the PV's volumeHandle).

        ``tags`` are added to the CSI driver's own (``CSIVolumeName``, ``kubernetes.io/created-for/...``
        come from the caller, see ``csi_volume_tags``); ``ebs.csi.aws.com/cluster: true`` is always set.
        """
        all_tags = {f"{CSI_DRIVER}/cluster": "true", **tags}
        resp = self.client("ec2", internal).create_volume(
            AvailabilityZone=zone, Size=max(1, int(size_gib)), VolumeType=volume_type,
            TagSpecifications=[{"ResourceType": "volume",
                                "Tags": [{"Key": k, "Value": v} for k, v in all_tags.items()]}])
        return resp["VolumeId"]

    def delete_volume(self, volume_id: str, internal: bool = False) -> None:
        """DeleteVolume (reclaimPolicy Delete); a volume already gone is fine."""
        from botocore.exceptions import ClientError

        try:
            self.client("ec2", internal).delete_volume(VolumeId=volume_id)
        except ClientError as e:
            if e.response.get("Error", {}).get("Code") != "InvalidVolume.NotFound":
                raise

    def attach_volume(self, volume_id: str, node_name: str, device: str = "/dev/xvdaa") -> None:
        """AttachVolume to the node's instance (ControllerPublishVolume)."""
        self.client("ec2").attach_volume(VolumeId=volume_id, InstanceId=self.instances[node_name], Device=device)

    def detach_volume(self, volume_id: str, node_name: str | None = None) -> None:
        """DetachVolume (ControllerUnpublishVolume)."""
        kw: dict[str, Any] = {"VolumeId": volume_id}
        if node_name is not None:
            kw["InstanceId"] = self.instances[node_name]
        self.client("ec2").detach_volume(**kw)

    async def create_volume_async(self, zone: str, size_gib: int, tags: dict[str, str],
                                  volume_type: str = "gp3") -> str:
        """``create_volume`` off the event loop."""
        return await asyncio.to_thread(self.create_volume, zone, size_gib, tags, volume_type)

    async def delete_volume_async(self, volume_id: str) -> None:
        await asyncio.to_thread(self.delete_volume, volume_id)

    # ------------------------------------------------------------------ coupling

    def start_coupling(self) -> None:
        """Start watching instance states (and NLB registrations) every ``poll_interval``."""
        self._task = asyncio.get_running_loop().create_task(self._poll_loop())

    async def _poll_loop(self) -> None:
        while True:
            try:
                if self.ready:
                    self.sync_power()
                    self.sync_network()
                    self.sync_zonal_shift()
                    self.groups.sync()
                    await self.nlbs.reconcile_targets()
            except Exception:  # a transient moto hiccup must not end the coupling
                log.exception("cloud layer poll failed")
            await asyncio.sleep(self.poll_interval)

    def instance_states(self) -> dict[str, str]:
        """Instance id -> EC2 state name, read from the emulator's own backend (no API round trip)."""
        from moto.core.models import DEFAULT_ACCOUNT_ID
        from moto.ec2.models import ec2_backends

        backend = ec2_backends[DEFAULT_ACCOUNT_ID][self.region]
        out = {}
        for iid in self.node_by_instance:
            inst = backend.get_instance_by_id(iid)
            out[iid] = inst.state if inst is not None else "terminated"
        return out

    def sync_power(self) -> None:
        """Edge-triggered: a node follows its instance when the instance enters or leaves ``running``."""
        for iid, state in self.instance_states().items():
            running = state == RUNNING
            if running == self._seen_running.get(iid, True):
                continue
            self._seen_running[iid] = running
            node = self.node_by_instance[iid]
            log.info("instance %s (node %s) is %s", iid, node, state)
            if running:
                self.cluster.start_node(node)
            else:
                self.cluster.stop_node(node)

    def sync_network(self) -> None:
        """Apply the network ACLs moto holds now: which nodes and load-balancer zones are cut off."""
        if not self.populated:
            return
        from moto.core.models import DEFAULT_ACCOUNT_ID
        from moto.ec2.models import ec2_backends

        from .nacl import cut_subnets

        cut = cut_subnets(ec2_backends[DEFAULT_ACCOUNT_ID][self.region], self.vpc_id, VPC_CIDR)
        if not cut and not any(self._isolation):
            return
        by_zone = {spec.name: spec.zone for spec in self._specs}
        segments = {node: self.subnets[zone] for node, zone in by_zone.items() if self.subnets.get(zone) in cut}
        lbs = {key: {z for z, subnet in m.subnets.items() if subnet in cut} for key, m in self.nlbs.lbs.items()}
        lbs = {k: v for k, v in lbs.items() if v}
        if (segments, lbs) != self._isolation:
            log.info("network ACLs cut off subnets %s: nodes %s, load-balancer zones %s", sorted(cut),
                     sorted(segments), lbs)
        self._isolation = (segments, lbs)
        self.cluster.set_network_isolation(segments, lbs)

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        for c in self._clients.values():
            with contextlib.suppress(Exception):
                c.close()
        self._clients.clear()
        self.server.stop()


@contextlib.contextmanager
def _instance_ids(ids: list[str]) -> Iterator[None]:
    """Make moto's next instances take ``ids`` (in order), as the nodes already carry them."""
    import moto.ec2.models.instances as instances

    queue = list(ids)
    generate = instances.random_instance_id
    instances.random_instance_id = lambda: queue.pop(0) if queue else generate()
    try:
        yield
    finally:
        instances.random_instance_id = generate


def csi_volume_tags(pv_name: str, pvc_name: str, pvc_namespace: str) -> dict[str, str]:
    """The tags the EBS CSI driver puts on a dynamically provisioned volume (external-provisioner
    passes ``--extra-create-metadata``; ``ebs.csi.aws.com/cluster: true`` is added by ``create_volume``)."""
    return {
        "CSIVolumeName": pv_name,
        "kubernetes.io/created-for/pv/name": pv_name,
        "kubernetes.io/created-for/pvc/name": pvc_name,
        "kubernetes.io/created-for/pvc/namespace": pvc_namespace,
    }
