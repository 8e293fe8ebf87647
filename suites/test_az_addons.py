"""AZ-ADDONS: the add-ons everything depends on are not in one zone (read-only; also run as a preflight).

CoreDNS is actually spread (not all in one zone, not sharing a zone while another has none); the AWS Load Balancer
Controller, the EBS CSI controller, Karpenter and every ``failurePolicy: Fail`` webhook's backends are not all in one
zone; NodeLocal DNSCache is reported; a visible control plane (control-plane nodes, etcd pods) survives the loss of
any one zone with quorum. Each finding names the workload, its zones and the fix (``checks.addons``).

Fewer CoreDNS replicas than zones (the EKS add-on's 2 with a ``ScheduleAnyway`` spread, which the embedded cluster
models) passes with a warning in the summary naming the zone without DNS of its own and the fix.
"""

from __future__ import annotations

from pytest_azchaos.checks.addons import addons


def test_az_addons_critical_add_ons_are_not_in_one_zone(azchaos_cluster, azchaos_zones, azchaos_check):
    azchaos_check(addons(azchaos_cluster.core, azchaos_zones))
