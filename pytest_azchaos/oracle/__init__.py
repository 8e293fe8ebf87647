"""The rescheduling oracle: before a destructive step, what Kubernetes will do for the workload under a fault.

``predict_for(core, namespace, selector, "drain", zone, profile)`` reads the cluster (nodes, pods, PDBs,
claims, volumes) through the kubernetes client and returns a ``Prediction``: per pod ``moves`` / ``pending`` /
``terminating`` / ``stays`` / ``blocked`` with the reason, and a summary "expected ... because ...".
Pytest-free; the checks compare what they observe against it (``agreement``).
"""

from __future__ import annotations

from .compare import agreement, annotate
from .model import FAULT_KINDS, ClusterState, Fault, fault_kind
from .predict import REMEDY, PodPrediction, Prediction, predict
from .read import predict_for, read_state

__all__ = ["FAULT_KINDS", "REMEDY", "ClusterState", "Fault", "PodPrediction", "Prediction", "agreement", "annotate",
           "fault_kind", "predict", "predict_for", "read_state"]
