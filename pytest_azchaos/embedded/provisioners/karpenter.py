"""A Karpenter v1 controller (and EKS Auto Mode's built-in one) inside the embedded cluster.

What it models, each from upstream (facts file §2; kubernetes-sigs/karpenter ``pkg/controllers``):
- provisioning: Pending pods the scheduler marked Unschedulable get a NodeClaim and an EC2 instance (moto,
  in the zone's private subnet) and a Node labelled ``karpenter.sh/nodepool``, ``karpenter.sh/capacity-type``,
  zone and instance type, within the NodePool's requirements (zone and instance type In/NotIn), its
  ``limits.cpu`` and outside offerings in the insufficient-capacity cache (``karpenter_ice_ttl``,
  ``pkg/cache/cache.go`` UnavailableOfferingsTTL 3 min) or in a zone under ARC zonal shift;
- interruption: an instance ``stopping``/``stopped`` (InstanceStoppedKind) is cordoned, drained, its
  NodeClaim deleted and the instance terminated: the same instance never comes back;
- disruption: empty nodes after ``consolidateAfter`` and nodes that no longer match their NodePool's
  requirements (drift), both within the NodePool's budgets (default ``nodes: 10%``, rounded up; ``"0"``
  freezes).
The cluster's initial nodes stay a static managed node group (as EKS clusters running Karpenter keep one
for Karpenter itself); only NodeClaim-owned nodes are Karpenter's to disrupt.
- a pod's bound volumes narrow its zones (upstream ``volumetopology.go``): an EBS-bound pod gets a node in its
  volume's zone or none;
- Karpenter's own clocks (``consolidateAfter``) scale as the profile scales the ICE TTL;
- Karpenter (not Auto Mode, which EKS runs) acts only while one pod of its chart's Deployment ``kube-system/karpenter``
  runs (``addon.py``, ``images/karpenter.py``): a zone loss can take it;
- a FIS ``aws:ec2:api-insufficient-instance-capacity-error`` experiment targeting its controller role fails its
  launches in the named zones with EC2's ICE (``fis_ice.py``); the offering (capacity type, instance type, zone) is
  then skipped for the TTL.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import logging
import math
import time
from collections.abc import Hashable
from typing import TYPE_CHECKING, Any

from ...wellknown import LEGACY_ZONE_LABEL, PV_ZONE_KEYS
from ..apiserver.store import Event, now_rfc3339
from ..cloud.api_errors import caught
from ..controllers.base import Controller
from ..controllers.events import EventRecorder
from ..heartbeat import NodeHeartbeat
from ..scheduler.resources import pod_requests
from ..topology import INSTANCE_TYPES, NodeSpec, Topology, node_object

if TYPE_CHECKING:
    from ..cluster import EmbeddedCluster

log = logging.getLogger(__name__)
Obj = dict[str, Any]
ZONE = "topology.kubernetes.io/zone"
INSTANCE_TYPE = "node.kubernetes.io/instance-type"
CAPACITY_TYPE = "karpenter.sh/capacity-type"
NODEPOOL = "karpenter.sh/nodepool"
STOPPED = ("stopping", "stopped", "shutting-down", "terminated")
EKS_AMI = "ami-0eks0optimised0al2023"


def _duration(text: str | None) -> float | None:
    """``30s``, ``1m30s``, ``2h``; ``Never`` -> None."""
    if not text or text == "Never":
        return None
    total, num = 0.0, ""
    for ch in text:
        if ch.isdigit():
            num += ch
        else:
            total += int(num or 0) * {"s": 1, "m": 60, "h": 3600}[ch]
            num = ""
    return total


def allowed_disruptions(pool: Obj, node_count: int) -> int:
    """The tightest budget: ``nodes`` as a count or a percentage of the pool's nodes, rounded up (upstream
    ``GetAllowedDisruptionsByReason`` scales with ``roundUp=true``)."""
    budgets = ((pool.get("spec") or {}).get("disruption") or {}).get("budgets") or [{"nodes": "10%"}]
    out = node_count
    for b in budgets:
        nodes = str(b.get("nodes", "10%"))
        n = math.ceil(node_count * int(nodes[:-1]) / 100) if nodes.endswith("%") else int(nodes)
        out = min(out, n)
    return out


def requirement_values(requirements: list[Obj], key: str, universe: list[str]) -> list[str]:
    """The values of ``universe`` the requirements on ``key`` allow (In intersects, NotIn removes)."""
    out = list(universe)
    for r in requirements:
        if r.get("key") != key:
            continue
        values = r.get("values") or []
        if r.get("operator") == "In":
            out = [v for v in out if v in values]
        elif r.get("operator") == "NotIn":
            out = [v for v in out if v not in values]
        elif r.get("operator") == "DoesNotExist":
            out = []
    return out


def _pod_zones(pod: Obj, zones: list[str]) -> list[str]:
    """Zones a pod's nodeSelector and required node affinity (zone terms, In/NotIn) allow."""
    sel = (pod["spec"].get("nodeSelector") or {}).get(ZONE)
    out = [z for z in zones if sel is None or z == sel]
    terms = ((((pod["spec"].get("affinity") or {}).get("nodeAffinity") or {})
              .get("requiredDuringSchedulingIgnoredDuringExecution") or {}).get("nodeSelectorTerms") or [])
    if terms:
        allowed: set[str] = set()
        for term in terms:
            allowed |= set(requirement_values(term.get("matchExpressions") or [], ZONE, out))
        out = [z for z in out if z in allowed]
    return out


def volume_zones(store: Any, pod: Obj) -> list[str] | None:
    """Zones the pod's bound volumes allow (their PVs' required node affinity on a zone key), None when no bound
    volume names one. Upstream injects these into the pod's requirements before it simulates a launch
    (kubernetes-sigs/karpenter ``pkg/controllers/provisioning/scheduling/volumetopology.go``): an EBS-bound pod gets
    a node in its volume's zone, never one it cannot use."""
    allowed: set[str] | None = None
    namespace = pod["metadata"].get("namespace", "")
    for vol in pod["spec"].get("volumes") or []:
        claim = (vol.get("persistentVolumeClaim") or {}).get("claimName")
        pvc = store.peek("persistentvolumeclaims", namespace, claim) if claim else None
        pv_name = ((pvc or {}).get("spec") or {}).get("volumeName")
        pv = store.peek("persistentvolumes", "", pv_name) if pv_name else None
        terms = ((((pv or {}).get("spec") or {}).get("nodeAffinity") or {}).get("required") or {}).get(
            "nodeSelectorTerms") or []
        zones = {v for t in terms for e in t.get("matchExpressions") or []
                 if e.get("key") in (*PV_ZONE_KEYS, LEGACY_ZONE_LABEL) and e.get("operator") == "In"
                 for v in e.get("values") or []}
        if zones:
            allowed = zones if allowed is None else allowed & zones
    return sorted(allowed) if allowed is not None else None


def _unschedulable(pod: Obj) -> bool:
    if pod["spec"].get("nodeName") or pod["metadata"].get("deletionTimestamp"):
        return False
    return any(c.get("type") == "PodScheduled" and c.get("status") == "False" and c.get("reason") == "Unschedulable"
               for c in (pod.get("status") or {}).get("conditions") or [])


def _tolerates(pod: Obj, taints: list[Obj]) -> bool:
    """Whether the pod tolerates every NoSchedule/NoExecute taint (key, value, effect; Exists/Equal)."""
    tolerations = pod["spec"].get("tolerations") or []
    for t in taints:
        if t.get("effect") == "PreferNoSchedule":
            continue
        if not any((tol.get("key") in (None, "", t.get("key")))
                   and (tol.get("operator") == "Exists" or tol.get("value", "") == t.get("value", ""))
                   and tol.get("effect") in (None, "", t.get("effect")) for tol in tolerations):
            return False
    return True


def _cpu_milli(quantity: str) -> int:
    return int(quantity[:-1]) if quantity.endswith("m") else int(float(quantity) * 1000)


class KarpenterController(Controller):
    """NodePools -> NodeClaims -> instances and Nodes; interruption, consolidation and drift."""

    name = "karpenter"

    def __init__(self, cluster: EmbeddedCluster, flavour: str = "karpenter"):
        super().__init__(cluster.store)
        self.cluster = cluster
        self.flavour = flavour  # karpenter | auto-mode
        self.topology: Topology = cluster.topology
        self.ice_ttl = float(getattr(cluster.profile, "karpenter_ice_ttl", 180.0))
        self.period = max(0.2, min(1.0, cluster.profile.cloud_poll_interval))
        # Karpenter's own clocks (consolidateAfter) scale as the profile scales UnavailableOfferingsTTL (3 min).
        self.time_scale = self.ice_ttl / 180.0
        # (capacity type, instance type, zone) -> monotonic time it expires (upstream's key
        # ``<capacityType>:<instanceType>:<zone>``; marking again extends it, go-cache SetDefault)
        self.ice: dict[tuple[str, str, str], float] = {}
        self.claims: dict[str, Obj] = {}  # NodeClaim name -> {"node", "instance", "zone", "pool"}
        self._next_index = cluster.topology.node_count
        self._launching: set[str] = set()  # pod uids a launch is under way for
        self._nominated: dict[str, str] = {}  # pod uid -> the NodeClaim launched for it (until it binds)
        self._empty_since: dict[str, float] = {}
        self._disrupting: set[str] = set()
        self._task: asyncio.Task[None] | None = None
        self.events = EventRecorder(cluster.store, "karpenter", "")
        self.zonal_shift_zones = self._shifted_zones
        # Pod addresses of running controller containers (images/karpenter.py). Karpenter acts only while one runs
        # (the others wait on leader election); Auto Mode's runs in EKS's control plane: always up.
        self.replicas: set[str] = set()

    # ------------------------------------------------------------------ liveness

    @property
    def up(self) -> bool:
        """Whether Karpenter acts now: Auto Mode always; Karpenter while one of its pods runs."""
        return self.flavour == "auto-mode" or bool(self.replicas)

    def container_started(self, address: str) -> None:
        self.replicas.add(address)
        self.enqueue("provision")

    def container_stopped(self, address: str) -> None:
        self.replicas.discard(address)

    # ------------------------------------------------------------------ wiring

    def _rtype(self, plural: str) -> Any:
        return self.store.registry.lookup("karpenter.sh", "v1", plural)

    def on_event(self, ev: Event) -> None:
        if ev.key == "pods" and ev.type != "DELETED" and _unschedulable(ev.obj):
            self.enqueue("provision")
        elif ev.key == "nodepools.karpenter.sh" and ev.type == "MODIFIED":
            self.enqueue("drift")

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._loop())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _loop(self) -> None:
        while True:
            await asyncio.sleep(self.period)
            if not self.up:  # no controller pod runs: nothing is launched, replaced or consolidated
                self._empty_since.clear()
                continue
            for work in (self.check_interruptions, self.consolidate, self.check_drift):
                try:
                    work()
                except Exception as e:  # the next period retries; only what is not AWS failing is recorded
                    caught(self, e, work.__name__)
            self.enqueue("provision")

    def _shifted_zones(self) -> set[str]:
        """Zones under an active ARC zonal shift (Karpenter >= v1.12 with ``--enable-zonal-shift`` launches nothing
        there; facts §2): the embedded cloud's ``cloud/zonal_shift.py``."""
        cloud = self.cluster.cloud
        shifts = cloud.zonal_shifts if cloud is not None else None
        return set(shifts.active_zones()) if shifts is not None else set()

    def sync(self, key: Hashable) -> None:
        if not self.up:
            return
        if key == "provision":
            self.provision()
        elif key == "drift":
            self.check_drift()

    # ------------------------------------------------------------------ provisioning

    def pools(self) -> list[Obj]:
        pools = list(self.store.scan("nodepools.karpenter.sh"))
        return sorted(pools, key=lambda p: (-int((p.get("spec") or {}).get("weight") or 0), p["metadata"]["name"]))

    def offerings(self, pool: Obj) -> tuple[list[str], list[str]]:
        """(zones, instance types) the pool allows now: requirements, minus ICE-cached and shifted zones."""
        reqs = pool["spec"]["template"]["spec"].get("requirements") or []
        zones = requirement_values(reqs, ZONE, list(self.topology.zones))
        shifted = self.zonal_shift_zones()
        zones = [z for z in zones if z not in shifted]
        types = requirement_values(reqs, INSTANCE_TYPE, sorted(INSTANCE_TYPES))
        return zones, types

    def _pool_cpu(self, pool: str) -> int:
        return sum(_cpu_milli(INSTANCE_TYPES[c["type"]]["capacity"]["cpu"]) for c in self.claims.values()
                   if c["pool"] == pool)

    def provision(self) -> None:
        self._nominated = {uid: c for uid, c in self._nominated.items() if c in self.claims}
        pending = [p for p in self.store.scan("pods") if _unschedulable(p) and p["metadata"]["uid"] not in
                   self._launching and p["metadata"]["uid"] not in self._nominated]
        if not pending:
            return
        now = time.monotonic()
        self.ice = {k: t for k, t in self.ice.items() if t > now}
        plans: dict[tuple[str, str, str], list[Obj]] = {}
        for pod in pending:
            choice = self._choose(pod)
            if choice is not None:
                plans.setdefault(choice, []).append(pod)
        for (pool, zone, itype), pods in plans.items():
            alloc = INSTANCE_TYPES[itype]["allocatable"]
            cpu_free = _cpu_milli(alloc["cpu"])
            batch: list[Obj] = []
            for pod in pods:  # one node per batch of pods that fits its allocatable cpu
                need = pod_requests(pod).get("cpu", 0)
                if batch and need > cpu_free:
                    self._start_launch(pool, zone, itype, batch)
                    batch, cpu_free = [], _cpu_milli(alloc["cpu"])
                batch.append(pod)
                cpu_free -= need
            if batch:
                self._start_launch(pool, zone, itype, batch)

    def _choose(self, pod: Obj) -> tuple[str, str, str] | None:
        """The first NodePool (by weight) with an offering the pod can use: the least-used allowed zone."""
        need = pod_requests(pod).get("cpu", 0)
        reasons = []
        overhead = json.dumps(self._daemonset_overhead(), separators=(",", ":"))
        volume = volume_zones(self.store, pod)
        for pool in self.pools():
            name = pool["metadata"]["name"]
            head = f'incompatible with nodepool "{name}", daemonset overhead={overhead}, '
            taints = pool["spec"]["template"]["spec"].get("taints") or []
            if not _tolerates(pod, taints):  # "Karpenter won't use that NodePool to provision the pod"
                reasons.append(head + "did not tolerate " + ", ".join(
                    f"{t['key']}={t.get('value', '')}:{t['effect']}" for t in taints))
                continue
            pool_zones, types = self.offerings(pool)
            zones = _pod_zones(pod, pool_zones)
            if volume is not None:
                zones = [z for z in zones if z in volume]
            types = [t for t in types if _cpu_milli(INSTANCE_TYPES[t]["allocatable"]["cpu"]) >= need]
            limit = ((pool["spec"].get("limits") or {}).get("cpu"))
            options = [(z, t) for z in zones for t in types if ("on-demand", t, z) not in self.ice
                       and (limit is None or self._pool_cpu(name) + _cpu_milli(INSTANCE_TYPES[t]["capacity"]["cpu"])
                            <= _cpu_milli(str(limit)))]
            if options:
                used = {z: sum(1 for c in self.claims.values() if c["zone"] == z) for z in self.topology.zones}
                zone, itype = min(options, key=lambda o: (used.get(o[0], 0), _cpu_milli(
                    INSTANCE_TYPES[o[1]]["capacity"]["cpu"]), o))
                return name, zone, itype
            if not zones:  # upstream's scheduling.Requirements.Compatible wording
                wanted = _pod_zones(pod, list(self.topology.zones))
                wanted = [z for z in wanted if volume is None or z in volume]
                reasons.append(head + f"incompatible requirements, key {ZONE}, {ZONE} In [{' '.join(wanted)}] not in "
                               + (f"{ZONE} In [{' '.join(pool_zones)}]" if pool_zones else f"{ZONE} DoesNotExist"))
            elif limit is not None and types and not any(
                    self._pool_cpu(name) + _cpu_milli(INSTANCE_TYPES[t]["capacity"]["cpu"]) <= _cpu_milli(str(limit))
                    for t in types):
                # upstream scheduler.go: the pool's remaining limits filter out every instance type (no head: the
                # pool was never tried); as Karpenter v1's events print it
                reasons.append(f'all available instance types exceed limits for nodepool "{name}"')
            else:
                reasons.append(head + "no instance type met the scheduling requirements or had enough resources or "
                               "had a required offering")
        message = "Failed to schedule pod, " + "; ".join(reasons) if reasons else "no nodepools found"
        self.events.event(pod, "Warning", "FailedScheduling", message)
        return None

    def _daemonset_overhead(self) -> dict[str, str]:
        """What the DaemonSets' pods take on a new node (upstream prints it in every incompatibility)."""
        cpu = memory = pods = 0
        for ds in self.store.scan("daemonsets.apps"):
            req = pod_requests({"spec": ds["spec"]["template"].get("spec") or {}})
            cpu, memory, pods = cpu + req.get("cpu", 0), memory + req.get("memory", 0), pods + 1
        out = {"cpu": f"{cpu}m", "memory": f"{memory // (1024 * 1024)}Mi", "pods": str(pods)}
        return {k: v for k, v in out.items() if not v.startswith("0")} or {"pods": "0"}

    def _start_launch(self, pool: str, zone: str, itype: str, pods: list[Obj]) -> None:
        uids = [p["metadata"]["uid"] for p in pods]
        self._launching.update(uids)
        task = asyncio.get_running_loop().create_task(self._launch(pool, zone, itype, pods))
        task.add_done_callback(lambda _t: self._launching.difference_update(uids))

    async def _launch(self, pool_name: str, zone: str, itype: str, pods: list[Obj]) -> None:
        cloud = self.cluster.cloud
        pool = self.store.peek("nodepools.karpenter.sh", "", pool_name)
        if pool is None or cloud is None:
            return
        digest = hashlib.sha1(f"{pool_name}/{time.time_ns()}".encode()).hexdigest()
        claim_name = f"{pool_name}-{digest[:5]}"
        labels = {NODEPOOL: pool_name, CAPACITY_TYPE: "on-demand", ZONE: zone, INSTANCE_TYPE: itype,
                  **((pool["spec"]["template"].get("metadata") or {}).get("labels") or {})}
        tspec = pool["spec"]["template"]["spec"]
        claim = {"apiVersion": "karpenter.sh/v1", "kind": "NodeClaim", "metadata": {
            "name": claim_name, "labels": labels, "annotations": {"karpenter.sh/nodepool-hash-version": "v3"},
            "ownerReferences": [{"apiVersion": "karpenter.sh/v1", "kind": "NodePool", "name": pool_name,
                                 "uid": pool["metadata"]["uid"], "blockOwnerDeletion": True}]},
            "spec": {"nodeClassRef": dict(tspec["nodeClassRef"]), "requirements": list(tspec.get("requirements") or []),
                     "expireAfter": tspec.get("expireAfter", "720h"),
                     "resources": {"requests": {"cpu": f"{sum(pod_requests(p).get('cpu', 0) for p in pods)}m",
                                                "pods": str(len(pods))}}}}
        self.store.create(self._rtype("nodeclaims"), "", claim)
        try:
            iid = await asyncio.to_thread(self._run_instance, zone, itype, pool_name, claim_name)
        except Exception as e:
            code = getattr(e, "response", {}).get("Error", {}).get("Code", "")
            current = self.store.peek("nodeclaims.karpenter.sh", "", claim_name) or claim
            self._set_condition(claim_name, "Launched", "False", "LaunchFailed", str(e))
            if code == "InsufficientInstanceCapacity":  # the offering is unavailable for the TTL (extended if again)
                self.ice[("on-demand", itype, zone)] = time.monotonic() + self.ice_ttl
                self.events.event(current, "Warning", "InsufficientCapacityError",
                                  f"NodeClaim {claim_name} event: {e}")
            else:
                self.events.event(current, "Warning", "FailedLaunching", str(e))
            self._delete_claim(claim_name)
            return
        self._set_condition(claim_name, "Launched", "True", "Launched", "")
        node_name = self._register(zone, itype, iid, labels)
        for pod in pods:
            self._nominated[pod["metadata"]["uid"]] = claim_name
        self.claims[claim_name] = {"node": node_name, "instance": iid, "zone": zone, "pool": pool_name,
                                   "type": itype}
        res = INSTANCE_TYPES[itype]

        def status(c: Obj) -> Obj:
            c.setdefault("status", {}).update(providerID=f"aws:///{zone}/{iid}", nodeName=node_name,
                                              imageID=EKS_AMI, capacity=dict(res["capacity"]),
                                              allocatable=dict(res["allocatable"]))
            return c

        self.store.guaranteed_update(self._rtype("nodeclaims"), "", claim_name, status, subresource="status")
        for ctype in ("Registered", "Initialized", "Ready"):
            self._set_condition(claim_name, ctype, "True", ctype, "")
        self.events.event(self.store.peek("nodeclaims.karpenter.sh", "", claim_name) or claim, "Normal", "Launched",
                          "Status condition transitioned, Type: Launched, Status: Unknown -> True, Reason: Launched")

    def _run_instance(self, zone: str, itype: str, pool: str, claim: str) -> str:
        assert self.cluster.cloud is not None
        cloud = self.cluster.cloud
        cloud.ensure_started()  # the account (subnets) exists from the first AWS request on
        name = self.topology.cluster_name
        tags = {"karpenter.sh/nodepool": pool, "karpenter.sh/nodeclaim": claim, "eks:eks-cluster-name": name,
                f"kubernetes.io/cluster/{name}": "owned", "karpenter.k8s.aws/ec2nodeclass": "default",
                "Name": f"{pool}/{claim}"}
        if self.flavour == "auto-mode":
            tags["eks:kubernetes-node-pool-name"] = pool
        if self.flavour == "karpenter":  # a FIS ICE experiment targeting the controller's role fails the call
            from .fis_ice import controller_role_arn, ice_error, injected

            shifts = cloud.zonal_shifts
            zone_id = shifts.zone_ids.get(zone, "") if shifts is not None else ""
            if injected(self.topology.region, controller_role_arn(name), zone, zone_id) is not None:
                raise ice_error(itype, zone, [z for z in self.topology.zones if z != zone])
        ec2 = cloud.client("ec2", internal=True)  # the controller's own role (Auto Mode's may act on its instances)
        out = ec2.run_instances(ImageId=EKS_AMI, InstanceType=itype, MinCount=1, MaxCount=1,
                                SubnetId=cloud.subnets[zone], TagSpecifications=[{
                                    "ResourceType": "instance", "Tags": [{"Key": k, "Value": v}
                                                                         for k, v in tags.items()]}])
        return str(out["Instances"][0]["InstanceId"])

    def _register(self, zone: str, itype: str, iid: str, labels: dict[str, str]) -> str:
        """The instance's kubelet registers its Node (with the NodeClaim's labels)."""
        cluster = self.cluster
        address = cluster.plan.node(self._next_index)
        self._next_index += 1
        name = "ip-" + address.replace(".", "-") + f".{self.topology.region}.compute.internal"
        spec = NodeSpec(name, zone, address, iid, "")
        topo = Topology(region=self.topology.region, zones=self.topology.zones, instance_type=itype,
                        cluster_name=self.topology.cluster_name)
        node = node_object(spec, topo, now_rfc3339())
        node_labels = node["metadata"]["labels"]
        node_labels.pop("eks.amazonaws.com/nodegroup", None)
        node_labels.pop("eks.amazonaws.com/capacityType", None)
        node_labels.update(labels)
        node_labels["karpenter.sh/registered"] = "true"
        node_labels["karpenter.sh/initialized"] = "true"
        if self.flavour == "auto-mode":
            node_labels["eks.amazonaws.com/compute-type"] = "auto"
        cluster.store.create(cluster.store.registry.lookup("", "v1", "nodes"), "", node)
        cluster.kubelets.add_node(name, address)
        hb = cluster.heartbeats[name] = NodeHeartbeat(cluster.store, name, cluster.profile)
        hb.start()
        assert cluster.cloud is not None
        cluster.cloud.set_nodes([spec])
        from ..controllers.ebs_provisioner import CSINODES, csi_node

        cluster.store.create(CSINODES, "", csi_node(cluster.store.peek("nodes", "", name) or node, iid))
        return name

    # ------------------------------------------------------------------ status helpers

    def _set_condition(self, claim: str, ctype: str, status: str, reason: str, message: str) -> None:
        def mutate(c: Obj) -> Obj:
            conds = [x for x in (c.get("status") or {}).get("conditions") or [] if x.get("type") != ctype]
            conds.append({"type": ctype, "status": status, "reason": reason, "message": message,
                          "lastTransitionTime": now_rfc3339(),
                          "observedGeneration": c["metadata"].get("generation", 1)})
            c.setdefault("status", {})["conditions"] = conds
            return c

        with contextlib.suppress(Exception):
            self.store.guaranteed_update(self._rtype("nodeclaims"), "", claim, mutate, subresource="status")

    def _delete_claim(self, claim: str) -> None:
        with contextlib.suppress(Exception):
            self.store.delete(self._rtype("nodeclaims"), "", claim)

    # ------------------------------------------------------------------ disruption

    def disrupt(self, claim_name: str, reason: str) -> None:
        """Cordon and drain the node, delete the NodeClaim and terminate the instance (termination controller)."""
        info = self.claims.pop(claim_name, None)
        if info is None:
            return
        self._disrupting.add(claim_name)
        node = info["node"]
        nodes = self.store.registry.lookup("", "v1", "nodes")
        pods_t = self.store.registry.lookup("", "v1", "pods")
        claim = self.store.peek("nodeclaims.karpenter.sh", "", claim_name)
        if claim is not None:
            self.events.event(claim, "Normal", "DisruptionTerminating", f"Disrupting NodeClaim: {reason}")

        def cordon(n: Obj) -> Obj:
            n["spec"]["unschedulable"] = True
            taints = [t for t in n["spec"].get("taints") or [] if t.get("key") != "karpenter.sh/disrupted"]
            n["spec"]["taints"] = [*taints, {"key": "karpenter.sh/disrupted", "effect": "NoSchedule"}]
            return n

        with contextlib.suppress(Exception):
            self.store.guaranteed_update(nodes, "", node, cordon)
        for pod in list(self.store.scan("pods")):
            owners = pod["metadata"].get("ownerReferences") or []
            if pod["spec"].get("nodeName") == node and not any(o.get("kind") == "DaemonSet" for o in owners):
                with contextlib.suppress(Exception):
                    self.store.delete(pods_t, pod["metadata"]["namespace"], pod["metadata"]["name"], grace_seconds=0)
        self._delete_claim(claim_name)
        if self.cluster.cloud is not None:
            cloud = self.cluster.cloud
            iid = info["instance"]
            task = asyncio.get_running_loop().create_task(asyncio.to_thread(
                lambda: cloud.client("ec2", internal=True).terminate_instances(InstanceIds=[iid])))
            task.add_done_callback(lambda t: self._terminated(iid, t))
        with contextlib.suppress(Exception):
            self.store.delete(nodes, "", node)
        hb = self.cluster.heartbeats.pop(node, None)
        if hb is not None:
            hb.stop()
        self._disrupting.discard(claim_name)

    def _terminated(self, iid: str, task: asyncio.Task[Any]) -> None:
        if not task.cancelled() and task.exception() is not None:
            log.warning("terminating %s failed: %r", iid, task.exception())

    def check_interruptions(self) -> None:
        """InstanceStoppedKind -> CordonAndDrain (interruption controller): the node is replaced, not restarted."""
        cloud = self.cluster.cloud
        if cloud is None or not cloud.ready or not self.claims:
            return
        states = cloud.instance_states()
        for name, info in list(self.claims.items()):
            if states.get(info["instance"]) in STOPPED:
                claim = self.store.peek("nodeclaims.karpenter.sh", "", name)
                if claim is not None:
                    self.events.event(claim, "Warning", "InstanceStopped", "Instance is stopping")
                self.disrupt(name, "instance stopped (interruption)")

    def _pool_claims(self, pool: str) -> list[str]:
        return sorted(n for n, c in self.claims.items() if c["pool"] == pool)

    def consolidate(self) -> None:
        """Empty NodeClaim nodes, once empty for ``consolidateAfter``, within the budget."""
        now = time.monotonic()
        busy = {p["spec"].get("nodeName") for p in self.store.scan("pods")
                if not any(o.get("kind") == "DaemonSet" for o in p["metadata"].get("ownerReferences") or [])}
        for pool in self.pools():
            name = pool["metadata"]["name"]
            after = _duration(((pool["spec"].get("disruption") or {}).get("consolidateAfter")) or "0s")
            after = after * self.time_scale if after is not None else None
            claims = self._pool_claims(name)
            budget = allowed_disruptions(pool, len(claims))
            for claim in claims:
                node = self.claims[claim]["node"]
                if node in busy or after is None:
                    self._empty_since.pop(claim, None)
                    continue
                since = self._empty_since.setdefault(claim, now)
                if now - since >= after and budget > 0:
                    budget -= 1
                    self._empty_since.pop(claim, None)
                    self.disrupt(claim, "empty")

    def check_drift(self) -> None:
        """NodeClaims whose zone or instance type the NodePool no longer allows are Drifted and replaced."""
        for pool in self.pools():
            name = pool["metadata"]["name"]
            zones, types = self.offerings(pool)
            reqs = pool["spec"]["template"]["spec"].get("requirements") or []
            zones = requirement_values(reqs, ZONE, list(self.topology.zones))
            claims = self._pool_claims(name)
            budget = allowed_disruptions(pool, len(claims))
            for claim in claims:
                info = self.claims[claim]
                if info["zone"] in zones and info["type"] in types:
                    continue
                self._set_condition(claim, "Drifted", "True", "RequirementsDrifted", "")
                if budget > 0:
                    budget -= 1
                    self.disrupt(claim, "drifted")
