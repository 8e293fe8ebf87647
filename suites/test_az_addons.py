"""AZ-ADDONS: the add-ons everything depends on are not in one zone (read-only; also run as a preflight).

CoreDNS has a replica per zone and is spread; the AWS Load Balancer Controller, the EBS CSI controller, Karpenter
and every ``failurePolicy: Fail`` webhook's backends are not all in one zone; NodeLocal DNSCache is reported; a
visible control plane (control-plane nodes, etcd pods) survives the loss of any one zone with quorum. Each finding
names the workload, its zones and the fix (``checks.addons``).

The EKS CoreDNS add-on's defaults (2 replicas, a ``ScheduleAnyway`` zone spread) fail this on 3 zones, and so does
the embedded cluster, which models them: scale CoreDNS to one replica per zone to pass
(``kubectl -n kube-system scale deployment coredns --replicas=3``).
"""

from __future__ import annotations

from pytest_azchaos.checks.addons import addons


def test_az_addons_critical_add_ons_are_not_in_one_zone(azchaos_cluster, azchaos_zones, azchaos_check):
    azchaos_check(addons(azchaos_cluster.core, azchaos_zones))
