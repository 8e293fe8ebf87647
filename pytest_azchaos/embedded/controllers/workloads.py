"""The workload controllers of kube-controller-manager, in the order the cluster starts them."""

from __future__ import annotations

from ..apiserver.store import Store
from .base import Controller
from .daemonset import DaemonSetController
from .deployment import DeploymentController
from .disruption import DisruptionController
from .replicaset import ReplicaSetController
from .statefulset import StatefulSetController


def workload_controllers(store: Store) -> list[Controller]:
    """Deployment, ReplicaSet, StatefulSet, DaemonSet and PodDisruptionBudget controllers on ``store``."""
    return [DeploymentController(store), ReplicaSetController(store), StatefulSetController(store),
            DaemonSetController(store), DisruptionController(store)]
