"""Traffic through a Service's load balancer: an open-loop prober, its per-request recording (with the stalls
of our own side), and ``generator.Traffic``, what the ``azchaos_traffic`` fixture hands out."""

from __future__ import annotations

from .prober import Prober, ProbeTarget
from .recording import Recording, RequestRecord

__all__ = ["ProbeTarget", "Prober", "Recording", "RequestRecord"]
