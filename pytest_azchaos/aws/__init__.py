"""boto3 for what Kubernetes cannot see: instances, zones, Auto Scaling groups, EBS volumes, NLB target health,
and the zone outage and zone partition faults. Pytest-free; waits use tenacity. Importing it registers the
``aws.zone-outage`` and ``aws.zone-partition`` undos with the chaos ledger.
"""

from __future__ import annotations

from .asg import OUTAGE_PROCESSES, AutoScalingGroup, describe_groups, groups_of
from .context import AwsContext
from .ebs import PvVolume, pv_volumes, pv_zone, volume_handle
from .errors import AwsConfigError, AwsError, AwsSafetyError, AwsTimeoutError, UnknownInstanceError
from .inventory import Instance, NodeInstance, describe_instances, node_instances, parse_provider_id
from .nlb import TargetHealth, ZoneTargets, find_load_balancer, target_health_by_zone
from .outage import KIND, UNDO_HANDLERS, ZoneOutage, register_with_ledger, undo_zone_outage, zone_outage
from .partition import ZonePartition, zone_partition
from .partition import register_with_ledger as _register_partition
from .preflight import AwsPreflight, preflight
from .zonal_shift import ZonalShiftFault, zonal_shift
from .zonal_shift import register_with_ledger as _register_zonal_shift

register_with_ledger()
_register_partition()
_register_zonal_shift()

__all__ = [
    "KIND",
    "OUTAGE_PROCESSES",
    "UNDO_HANDLERS",
    "AutoScalingGroup",
    "AwsConfigError",
    "AwsContext",
    "AwsError",
    "AwsPreflight",
    "AwsSafetyError",
    "AwsTimeoutError",
    "Instance",
    "NodeInstance",
    "PvVolume",
    "TargetHealth",
    "UnknownInstanceError",
    "ZonalShiftFault",
    "ZoneOutage",
    "ZonePartition",
    "ZoneTargets",
    "describe_groups",
    "describe_instances",
    "find_load_balancer",
    "groups_of",
    "node_instances",
    "parse_provider_id",
    "preflight",
    "pv_volumes",
    "pv_zone",
    "target_health_by_zone",
    "undo_zone_outage",
    "volume_handle",
    "zonal_shift",
    "zone_outage",
    "zone_partition",
]
