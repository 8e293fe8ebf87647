"""Sample workloads as manifests plus small builders: the echo app, the stateful app, misconfigured variants;
``deploy`` creates one and waits until it serves (the fixtures and the chaostoolkit action share it)."""

from __future__ import annotations

from .app import App
from .echo import EchoSpec, echo_manifests
from .stateful import StatefulSpec, stateful_manifests

__all__ = ["App", "EchoSpec", "StatefulSpec", "echo_manifests", "stateful_manifests"]
