"""Traffic for a test: probers through an app's load balancer, and the per-zone sampling beside them.

What the ``azchaos_traffic`` fixture hands out. Background errors are never swallowed: a prober that
crashed is re-raised when the test stops it, and at the latest when the fixture stops the rest.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from .prober import Prober, ProbeTarget

if TYPE_CHECKING:
    from ..apps.app import App
    from ..report.evidence import Evidence, ZoneSampler


class ProberCrashed(RuntimeError):
    """A prober's own thread failed (our side, not the cluster's): the test's traffic is not evidence."""


class Traffic:
    """Starts probers for a test (``start(app)``) and stops every one still running (``stop_all()``)."""

    def __init__(self, rate: float, evidence: Evidence, lb_timeout: float,
                 zone_map: Callable[[App], Mapping[str, str]] | None = None) -> None:
        self.rate = rate
        self.evidence = evidence
        self.lb_timeout = lb_timeout
        self.zone_map = zone_map  # load-balancer address -> zone, where the plugin can tell (else unknown)
        self.probers: list[Prober] = []
        self.samplers: list[ZoneSampler] = []

    def start(self, app: App, rate: float | None = None, keep_alive: bool | None = None,
              timeout: float = 2.0) -> Prober:
        """An open-loop prober at ``rate`` (default: ``--azchaos-rate``) against ``app``'s load-balancer
        addresses, already running; ready pods per zone are sampled meanwhile for the report. ``app`` is the
        sample app (agnhost: pod and client address per request) or a ``--azchaos-target``
        (``apps.target_app.TargetApp``: its path, statuses, headers, TLS and keep-alive). ``keep_alive``
        defaults to the target's setting (off for the sample app: a new connection per request)."""
        from ..report.evidence import ZoneSampler

        probe = self.probe_target(app)
        target = getattr(app, "target", None)
        keep = keep_alive if keep_alive is not None else bool(target is not None and target.keep_alive)
        prober = Prober(probe, rate=rate or self.rate, timeout=timeout,
                        keep_alive=keep, stall_source=app.cluster.reported_stalls).start()
        self.probers.append(prober)
        self.evidence.recordings.append(prober.recording)
        self.samplers.append(ZoneSampler(self.evidence, app).start())
        return prober

    def probe_target(self, app: App) -> ProbeTarget:
        """What the prober asks, and where: agnhost's pair for the sample app, the target's request otherwise."""
        addresses = app.addresses or app.lb_addresses(self.lb_timeout)
        zones: Mapping[str, str] = self.zone_map(app) if self.zone_map is not None else {}
        target: Any = getattr(app, "target", None)
        resolver = _declared_resolver(app)
        if target is None:
            return ProbeTarget(addresses, app.port, zones=dict(zones), resolver=resolver)
        return ProbeTarget(addresses, app.port, mode="path", path=target.path, statuses=target.statuses,
                           host=target.host or getattr(app, "default_host", None), headers=target.headers,
                           tls=target.scheme == "https", ca=target.ca, verify=target.verify, echo=target.echo,
                           pod_header=target.pod_header, zones=dict(zones), resolver=resolver)

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


def _declared_resolver(app: App) -> str | None:
    """The DNS server the app's cluster's kubeconfig context declares for load-balancer hostnames, if any."""
    from pathlib import Path

    from ..kube.kubeconfig import declared_resolver

    kubeconfig = getattr(app.cluster, "kubeconfig", None)
    return declared_resolver(Path(kubeconfig), getattr(app.cluster, "context", None)) if kubeconfig else None
