"""Traffic for a test: probers through an app's load balancer, and the per-zone sampling beside them.

What the ``azchaos_traffic`` fixture hands out. Background errors are never swallowed: a prober that
crashed is re-raised when the test stops it, and at the latest when the fixture stops the rest.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .prober import Prober, ProbeTarget

if TYPE_CHECKING:
    from ..apps.app import App
    from ..report.evidence import Evidence, ZoneSampler


class ProberCrashed(RuntimeError):
    """A prober's own thread failed (our side, not the cluster's): the test's traffic is not evidence."""


class Traffic:
    """Starts probers for a test (``start(app)``) and stops every one still running (``stop_all()``)."""

    def __init__(self, rate: float, evidence: Evidence, lb_timeout: float) -> None:
        self.rate = rate
        self.evidence = evidence
        self.lb_timeout = lb_timeout
        self.probers: list[Prober] = []
        self.samplers: list[ZoneSampler] = []

    def start(self, app: App, rate: float | None = None, keep_alive: bool = False, timeout: float = 2.0) -> Prober:
        """An open-loop prober at ``rate`` (default: ``--azchaos-rate``) against ``app``'s load-balancer
        addresses, already running; ready pods per zone are sampled meanwhile for the report."""
        from ..report.evidence import ZoneSampler

        addresses = app.addresses or app.lb_addresses(self.lb_timeout)
        prober = Prober(ProbeTarget(addresses, app.port), rate=rate or self.rate, timeout=timeout,
                        keep_alive=keep_alive, stall_source=app.cluster.reported_stalls).start()
        self.probers.append(prober)
        self.evidence.recordings.append(prober.recording)
        self.samplers.append(ZoneSampler(self.evidence, app).start())
        return prober

    def stop_all(self) -> None:
        """Stop every prober and sampler; raise ``ProberCrashed`` if any prober's thread had failed."""
        crashed: list[str] = []
        for p in self.probers:
            if p.error_reported:  # the test already got this error when it stopped the prober
                continue
            try:
                p.stop()
            except RuntimeError as e:
                crashed.append(str(e))
        for s in self.samplers:
            s.stop()
        if crashed:
            raise ProberCrashed("; ".join(crashed) + " (our side failed: this test's traffic is no evidence "
                                "about the cluster)")
