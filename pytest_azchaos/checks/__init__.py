"""Assertions over a recording and cluster state; each failure says what failed and why, with evidence.

Every check returns a ``CheckResult`` (never raises for a failed check); ``require()`` turns a failed
one into ``CheckFailed`` with the full message. One module per concern:

- ``downtime``: AZ-DRAIN / AZ-PODKILL / AZ-OUTAGE ``zero_downtime``
- ``rescheduled``: AZ-RESCHED ``rescheduled``
- ``outage_capacity``: AZ-OUTAGE ``instances_came_back`` (no stopped instance terminated by its group)
- ``source_ip``: AZ-SRCIP ``source_ip_preserved`` / ``source_ip_snat``
- ``spread``: AZ-TOPO ``spread``, AZ-BALANCE ``balance``
- ``health_check_node_port``: AZ-HCNP ``health_check_node_port``
- ``cordon``: AZ-CORDON ``new_pods_avoid``
- ``ebs``: AZ-EBS-BIND / -DRAIN / -RETURN / -PERM
- ``preflight``: why a destructive test should be skipped
- ``evidence``: events, pending pods' scheduler messages, label selector matching
"""

from __future__ import annotations

from .result import CheckFailed, CheckInconclusive, CheckResult, require

__all__ = ["CheckFailed", "CheckInconclusive", "CheckResult", "require"]
