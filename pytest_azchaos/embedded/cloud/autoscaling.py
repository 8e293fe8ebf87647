"""EC2 Auto Scaling as AWS runs it, on top of moto's groups: launches, EC2 health checks, ReplaceUnhealthy,
and the membership of the groups' instances in the cluster.

What AWS documents and moto leaves out (moto launches on SetDesiredCapacity whatever is suspended, puts every
instance in the group's first subnet and never health-checks):

- **Launch** ("How suspended processes affect other processes"): while ``Launch`` is suspended the group launches
  nothing, whatever its desired capacity says (SetDesiredCapacity still succeeds); once resumed it launches the
  difference at once. A group spanning several subnets places each new instance in the Availability Zone with
  the fewest instances ("Amazon EC2 Auto Scaling attempts to distribute instances evenly between the Availability
  Zones"); a tie goes to the zone listed first in the group's ``VPCZoneIdentifier`` (AWS does not say; ours).
- **EC2 health checks** ("Health checks for instances in an Auto Scaling group"): an instance in any state other
  than ``running`` is unhealthy. Unless ``HealthCheck`` is suspended, an InService instance past the group's
  ``HealthCheckGracePeriod`` is marked ``Unhealthy``; unless ``ReplaceUnhealthy`` (or ``Terminate``) is
  suspended, the group terminates it, and it launches a replacement unless ``Launch`` is suspended
  ("ReplaceUnhealthy continues to terminate unhealthy instances, but does not launch replacements").
  With ``HealthCheck`` and ``ReplaceUnhealthy`` suspended a stopped instance stays (suspend-resume
  considerations). The plugin's zone outage suspends all of them: nothing changes.
- **Membership**: a running instance of one of the cluster's groups that no node carries joins as a Node
  (labels as the group's nodes: its subnet's zone, ``eks.amazonaws.com/nodegroup``, providerID
  ``aws:///<zone>/<id>``); a node whose instance is terminated (or gone) is deleted, as the cloud node
  lifecycle controller deletes nodes whose instance no longer exists.

SetDesiredCapacity outside [MinSize, MaxSize] fails with AWS's ``ValidationError`` (``New SetDesiredCapacity
value 2 is above max value 1 for the AutoScalingGroup.``). Checked every ``asg_health_check_interval`` (profile).
Scaling activities (launches, health-check terminations) are recorded and DescribeScalingActivities answers
them, newest first (moto's own answers an empty list), in AWS's words: ``Launching a new EC2 instance: i-...``
(cause ``At <time> an instance was started in response to a difference between desired and actual capacity,
increasing the capacity from 1 to 2.``) and ``Terminating EC2 instance: i-...`` (cause ``At <time> an instance
was taken out of service in response to an EC2 health check indicating it has been terminated or stopped.``).
"""

from __future__ import annotations

import contextlib
import logging
import time
from typing import TYPE_CHECKING, Any

from ..apiserver.store import now_rfc3339
from ..heartbeat import NodeHeartbeat
from ..topology import NodeSpec, node_object

if TYPE_CHECKING:
    from .layer import CloudLayer

log = logging.getLogger(__name__)

LAUNCH, TERMINATE, HEALTH_CHECK, REPLACE_UNHEALTHY = "Launch", "Terminate", "HealthCheck", "ReplaceUnhealthy"
RUNNING = "running"
GONE = ("terminated", "shutting-down")
NODEGROUP_TAG = "eks:nodegroup-name"
CLUSTER_TAG = "eks:cluster-name"
#: Addresses of nodes that join later start here (below: the topology's nodes; Karpenter's count up from there).
JOIN_INDEX_BASE = 500

_original_launch: Any = None
_original_set_desired: Any = None
ACTIVITIES: list[Any] = []  # moto Activity objects, oldest first (process-wide, as the account is)


def _now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


def record_activity(group: Any, description: str, cause: str) -> None:
    """A finished scaling activity of ``group``, for DescribeScalingActivities."""
    from moto.autoscaling.models import Activity

    activity = Activity(description, cause, group, status_code="Successful")
    activity.progress = 100
    ACTIVITIES.append(activity)


def _set_desired_capacity(self: Any) -> Any:
    """SetDesiredCapacity refused outside [MinSize, MaxSize] with AWS's ValidationError (moto accepts any value)."""
    from moto.autoscaling.exceptions import ValidationError

    group = self.autoscaling_backend.autoscaling_groups.get(self._get_param("AutoScalingGroupName"))
    desired = self._get_int_param("DesiredCapacity")
    if group is not None and desired is not None:
        if desired > group.max_size:
            raise ValidationError(f"New SetDesiredCapacity value {desired} is above max value {group.max_size} for "
                                  "the AutoScalingGroup.")
        if desired < group.min_size:
            raise ValidationError(f"New SetDesiredCapacity value {desired} is below min value {group.min_size} for "
                                  "the AutoScalingGroup.")
    return _original_set_desired(self)


def _describe_scaling_activities(self: Any) -> Any:
    """DescribeScalingActivities over the recorded activities (filter: AutoScalingGroupName), newest first."""
    from moto.core.responses import ActionResult

    name = self._get_param("AutoScalingGroupName")
    found = [a for a in reversed(ACTIVITIES) if not name or a.auto_scaling_group_name == name]
    return ActionResult({"Activities": found})


def suspended(group: Any) -> set[str]:
    """The names of a moto group's suspended processes."""
    return {p["ProcessName"] for p in group.suspended_processes}


def install_launch_policy() -> None:
    """Make moto's groups launch as AWS does: nothing while ``Launch`` is suspended, new instances balanced
    across the group's zones. Process-wide (the cluster process holds one account); idempotent."""
    global _original_launch, _original_set_desired
    from moto.autoscaling.models import FakeAutoScalingGroup
    from moto.autoscaling.responses import AutoScalingResponse

    if _original_launch is not None:
        return
    _original_launch = FakeAutoScalingGroup.replace_autoscaling_group_instances
    FakeAutoScalingGroup.replace_autoscaling_group_instances = _launch  # type: ignore[method-assign]
    AutoScalingResponse.describe_scaling_activities = _describe_scaling_activities  # type: ignore[method-assign]
    _original_set_desired = AutoScalingResponse.set_desired_capacity
    AutoScalingResponse.set_desired_capacity = _set_desired_capacity  # type: ignore[method-assign]


def _subnets(group: Any) -> list[str]:
    return [s for s in (group.vpc_zone_identifier or "").split(",") if s]


def next_zone_subnet(group: Any) -> str | None:
    """The subnet the group's next instance goes to: the zone with the fewest InService instances."""
    subnets = _subnets(group)
    if not subnets:
        return None
    counts = dict.fromkeys(subnets, 0)
    for state in group.active_instances():
        subnet = getattr(state.instance, "subnet_id", None)
        if subnet in counts:
            counts[subnet] += 1
    return min(subnets, key=lambda s: (counts[s], subnets.index(s)))


def _launch(group: Any, count_needed: int, propagated_tags: dict[str, str]) -> None:
    """``replace_autoscaling_group_instances`` with AWS's Launch suspension and zone balancing."""
    if LAUNCH in suspended(group):
        log.info("ASG %s: Launch suspended, %d instance(s) not launched", group.name, count_needed)
        return
    subnets = _subnets(group)
    before = len(group.active_instances())
    for i in range(count_needed):
        target = next_zone_subnet(group)
        saved = group.vpc_zone_identifier
        if target is not None and len(subnets) > 1:  # moto launches into the first subnet listed
            group.vpc_zone_identifier = ",".join([target, *(s for s in subnets if s != target)])
        try:
            _original_launch(group, 1, dict(propagated_tags))
        finally:
            group.vpc_zone_identifier = saved
        launched = group.instance_states[-1].instance
        cause = (f"At {_now()} an instance was started in response to a difference between desired and actual "
                 f"capacity, increasing the capacity from {before + i} to {before + i + 1}.")
        record_activity(group, f"Launching a new EC2 instance: {launched.id}", cause)
        log.info("ASG %s: launched %s in %s: %s", group.name, launched.id, launched.placement.zone, cause)


class GroupSemantics:
    """Health checks, ReplaceUnhealthy, pending launches and node membership for the cluster's groups."""

    def __init__(self, cloud: CloudLayer):
        self.cloud = cloud
        self.cluster = cloud.cluster
        profile = cloud.cluster.profile
        self.interval = float(getattr(profile, "asg_health_check_interval", 10.0))
        self._last_check = 0.0
        self._in_service_since: dict[str, float] = {}  # instance id -> monotonic time first seen InService
        self._next_index = cloud.topology.node_count + JOIN_INDEX_BASE
        self._deleted: set[str] = set()  # instance ids whose node was deleted

    def _backend(self) -> Any:
        from moto.autoscaling.models import autoscaling_backends
        from moto.core.models import DEFAULT_ACCOUNT_ID

        return autoscaling_backends[DEFAULT_ACCOUNT_ID][self.cloud.region]

    def groups(self) -> list[Any]:
        """The cluster's node-group ASGs (tag ``eks:cluster-name``)."""
        name = self.cloud.topology.cluster_name
        return [g for g in self._backend().autoscaling_groups.values()
                if any(t.get("Key") == CLUSTER_TAG and t.get("Value") == name for t in g.tags)]

    def sync(self) -> None:
        """One pass (from the cloud layer's poll loop): health checks when due, then membership."""
        if not self.cloud.populated:
            return
        now = time.monotonic()
        if now - self._last_check >= self.interval:
            self._last_check = now
            for group in self.groups():
                self.health_check(group, now)
        self.sync_membership()

    # ------------------------------------------------------------------ health checks

    def health_check(self, group: Any, now: float) -> None:
        sus = suspended(group)
        grace = float(group.health_check_grace_period or 0)
        for state in list(group.instance_states):
            if state.lifecycle_state != "InService":
                continue
            inst = state.instance
            since = self._in_service_since.setdefault(inst.id, now)
            if (inst.state != RUNNING and HEALTH_CHECK not in sus and state.health_status == "Healthy"
                    and now - since >= grace):
                state.health_status = "Unhealthy"
                log.info("ASG %s: instance %s is %s: marked Unhealthy (EC2 health check)", group.name, inst.id,
                         inst.state)
            if state.health_status == "Unhealthy" and not ({REPLACE_UNHEALTHY, TERMINATE} & sus):
                self.replace(group, state)
        if LAUNCH not in sus and len(group.active_instances()) < (group.desired_capacity or 0):
            group.set_desired_capacity(group.desired_capacity)  # launches the difference (``_launch``)

    def replace(self, group: Any, state: Any) -> None:
        """ReplaceUnhealthy: terminate the instance; launch a replacement unless Launch is suspended."""
        iid = state.instance.id
        cause = (f"At {_now()} an instance was taken out of service in response to an EC2 health check indicating "
                 "it has been terminated or stopped.")
        record_activity(group, f"Terminating EC2 instance: {iid}", cause)
        log.info("ASG %s: terminating %s: %s", group.name, iid, cause)
        group.instance_states = [s for s in group.instance_states if s is not state]
        with contextlib.suppress(Exception):
            group.autoscaling_backend.ec2_backend.terminate_instances([iid])
        self._in_service_since.pop(iid, None)
        if LAUNCH not in suspended(group):
            group.set_desired_capacity(group.desired_capacity)

    # ------------------------------------------------------------------ membership

    def sync_membership(self) -> None:
        cloud = self.cloud
        for group in self.groups():
            nodegroup = next((t["Value"] for t in group.tags if t.get("Key") == NODEGROUP_TAG), group.name)
            for state in group.instance_states:
                inst = state.instance
                if inst.id not in cloud.node_by_instance and inst.state == RUNNING:
                    self.join(inst.id, inst.placement.zone, nodegroup)
        for iid, state in cloud.instance_states().items():
            if state in GONE and iid not in self._deleted:
                self._deleted.add(iid)
                self.delete_node(cloud.node_by_instance[iid])

    def join(self, iid: str, zone: str, nodegroup: str) -> str:
        """The instance's kubelet registers its Node, labelled as its group's nodes are."""
        cluster = self.cluster
        address = cluster.plan.node(self._next_index)
        self._next_index += 1
        name = "ip-" + address.replace(".", "-") + f".{self.cloud.region}.compute.internal"
        spec = NodeSpec(name, zone, address, iid, nodegroup)
        node = node_object(spec, self.cloud.topology, now_rfc3339())
        store = cluster.store
        store.create(store.registry.lookup("", "v1", "nodes"), "", node)
        cluster.kubelets.add_node(name, address)
        hb = cluster.heartbeats[name] = NodeHeartbeat(store, name, cluster.profile)
        hb.start()
        self.cloud.set_nodes([spec])
        from ..controllers.ebs_provisioner import CSINODES, csi_node

        with contextlib.suppress(Exception):
            store.create(CSINODES, "", csi_node(store.peek("nodes", "", name) or node, iid))
        log.info("instance %s joined as node %s (zone %s, node group %s)", iid, name, zone, nodegroup)
        return name

    def delete_node(self, name: str) -> None:
        """The cloud node lifecycle controller: the instance is gone, so is its Node."""
        store = self.cluster.store
        with contextlib.suppress(Exception):
            store.delete(store.registry.lookup("", "v1", "nodes"), "", name)
            log.info("node %s deleted: its instance no longer exists", name)
        hb = self.cluster.heartbeats.get(name)
        if hb is not None:
            hb.stop()
