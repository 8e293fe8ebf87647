"""Traffic through a Service's load balancer: an open-loop prober and its per-request recording."""

from __future__ import annotations

from .prober import Prober, ProbeTarget
from .recording import Recording, RequestRecord

__all__ = ["ProbeTarget", "Prober", "Recording", "RequestRecord"]
