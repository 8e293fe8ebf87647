"""The kube-scheduler's decision logic (default v1.36 profile) as pure functions over API dicts.

``schedule(pod, nodes, pods, volumes)`` returns the chosen node or the verbatim FailedScheduling
message; the control plane owns watching, binding and events.
"""

from __future__ import annotations

from .model import Nomination, ScheduleResult, Status, VolumeState, Workloads
from .quantity import milli_value, parse_quantity, whole_value
from .scheduler import schedule
from .volumes import VolumeBinding

__all__ = [
    "Nomination",
    "ScheduleResult",
    "Status",
    "VolumeBinding",
    "VolumeState",
    "Workloads",
    "milli_value",
    "parse_quantity",
    "schedule",
    "whole_value",
]
