"""The embedded multi-zone cluster: a Kubernetes API and control plane emulator on loopback.

``EmbeddedCluster`` runs in its own process (``azchaos local up`` or the session fixture start
it the same way) and writes a kubeconfig that kubectl and the official client use unchanged.
"""

from __future__ import annotations

from .process import ClusterHandle, start_cluster, stop_cluster
from .topology import Topology

__all__ = ["ClusterHandle", "Topology", "start_cluster", "stop_cluster"]
