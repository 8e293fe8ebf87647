"""pytest-azchaos: multi-availability-zone chaos conformance tests for Kubernetes clusters."""

from __future__ import annotations

__version__ = "0.1.0"

__all__ = ["__version__"]
