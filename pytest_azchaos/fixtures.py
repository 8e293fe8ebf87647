"""The public fixtures. Thin: each composes the pieces in ``kube/``, ``apps/``, ``traffic/``, ``chaos/``, ``checks/``.

Session resources (the cluster, the run) are started once; each test gets a fresh namespace, app,
traffic and chaos façade whose faults are undone at teardown. Every fixture here can be replaced
in a user's ``conftest.py`` by defining one with the same name.
"""

from __future__ import annotations

import contextlib
import random
import signal
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from .plugin import ITEM_CHECKS, ITEM_EVIDENCE, SESSION_EVIDENCE, SETTINGS

EVIDENCE = pytest.StashKey["list[tuple[str, str]]"]()
TEST_EVIDENCE = pytest.StashKey["Any"]()
FAILED = pytest.StashKey[bool]()


# ---------------------------------------------------------------------- session


@dataclass
class Run:
    """This pytest session's identity and shared helpers."""

    run_id: str
    seed: int
    rng: random.Random
    progress: Any
    report_dir: Path
    started: float = field(default_factory=time.time)


@pytest.fixture(scope="session")
def azchaos_settings(pytestconfig: pytest.Config) -> Any:
    """The validated settings of this run (``pytest_azchaos.settings.Settings``), from options and ini keys."""
    return pytestconfig.stash[SETTINGS]


@pytest.fixture(scope="session")
def azchaos_run(pytestconfig: pytest.Config, azchaos_settings: Any) -> Run:
    """This session's run: ``run_id`` (labels, namespaces, ledger), ``seed``/``rng``, ``progress``, ``report_dir``."""
    from .report.progress import TerminalProgress

    reporter = pytestconfig.pluginmanager.get_plugin("terminalreporter")

    def write(line: str) -> None:
        if reporter is not None:
            reporter.write_line(line)

    seed = azchaos_settings.seed if azchaos_settings.seed is not None else random.SystemRandom().randrange(2**31)
    run_id = "azchaos-" + time.strftime("%Y%m%d-%H%M%S", time.gmtime()) + "-" + uuid.uuid4().hex[:6]
    progress = TerminalProgress(write)
    progress.note(f"run {run_id}, seed {seed}, profile {azchaos_settings.effective_profile()}")
    return Run(run_id, seed, random.Random(seed), progress, azchaos_settings.report_dir)


@pytest.fixture(scope="session")
def azchaos_profile(azchaos_settings: Any) -> Any:
    """The timing profile every wait and timeout reads (``pytest_azchaos.timing.Profile``)."""
    from .timing import Profile

    return Profile.by_name(azchaos_settings.effective_profile())


@pytest.fixture(scope="session")
def azchaos_cluster(azchaos_settings: Any, azchaos_run: Run, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """The cluster under test (session scope): a :class:`pytest_azchaos.kube.cluster.Cluster`.

    With ``--azchaos-kubeconfig`` it is that cluster (``--azchaos-context`` picks the context); without,
    an embedded 3-zone cluster is started for the session and stopped afterwards. Gives ``.api`` (the
    official client's ``ApiClient``), ``.core``, ``.apps``, ``.nodes_by_zone()``, ``.kubeconfig``,
    ``.context``.
    """
    from .kube.cluster import Cluster, ClusterConfigError

    if not azchaos_settings.uses_embedded:
        cluster = Cluster(azchaos_settings.kubeconfig, azchaos_settings.context)
        try:
            cluster.check_reachable()
        except ClusterConfigError as e:
            pytest.fail(str(e), pytrace=False)
        yield cluster
        cluster.close()
        return
    from .embedded.process import start_cluster, stop_cluster
    from .embedded.topology import Topology

    path = tmp_path_factory.mktemp("azchaos-embedded") / "kubeconfig"
    topology = Topology.make(zones=azchaos_settings.embedded_zones,
                             nodes_per_zone=azchaos_settings.embedded_nodes_per_zone)
    handle = start_cluster(path, topology, profile=azchaos_settings.effective_profile())
    azchaos_run.progress.note(f"embedded cluster at {handle.url} (kubeconfig {path})")
    cluster = Cluster(path)
    try:
        yield cluster
    finally:
        cluster.close()
        stop_cluster(path)


# ---------------------------------------------------------------------- per test


@pytest.fixture
def azchaos_evidence(request: pytest.FixtureRequest, azchaos_run: Run) -> Iterator[Any]:
    """This test's evidence (``report.evidence.TestEvidence``): fault phases, recordings, ready pods per
    zone, events, verdicts. Written as JSON to the report directory and drawn in the HTML report."""
    from .report.evidence import TestEvidence

    evidence = TestEvidence(request.node.nodeid)
    request.node.stash[TEST_EVIDENCE] = evidence
    yield evidence
    evidence.finished = time.time()
    evidence.outcome = "failed" if request.node.stash.get(FAILED, False) else "passed"
    path = evidence.write_json(azchaos_run.report_dir)
    request.node.stash[ITEM_EVIDENCE] = data = evidence.to_dict()
    add_evidence(request.node, "evidence file", str(path))
    from .ctk.journal import journal_of, write_journal

    doc = getattr(getattr(request.node, "obj", None), "__doc__", None) or ""
    add_evidence(request.node, "chaostoolkit journal",
                 str(write_journal(azchaos_run.report_dir, data["test"], journal_of(data, description=doc))))


@pytest.fixture
def azchaos_zones(azchaos_cluster: Any) -> Any:
    """The cluster's zones and nodes right now (``kube.topology.ZoneMap``)."""
    from .kube.topology import ZoneMap

    return ZoneMap.read(azchaos_cluster.core)


@pytest.fixture
def azchaos_zone(request: pytest.FixtureRequest, azchaos_settings: Any, azchaos_run: Run, azchaos_zones: Any) -> str:
    """The zone this test takes away: the ``azchaos_zone`` marker, else ``--azchaos-zone``, else chosen.

    ``auto`` (default) takes the first zone in name order; ``random`` a seeded choice (the seed is printed).
    An unknown zone fails the test at once, listing the cluster's zones; nothing is touched.
    """
    zones = azchaos_zones.zones()
    marker = request.node.get_closest_marker("azchaos_zone")
    wanted = marker.args[0] if marker and marker.args else azchaos_settings.zone
    if not zones:
        pytest.fail("no node carries the topology.kubernetes.io/zone label: label the nodes with their zone "
                    "(EKS and kind with zone labels do)", pytrace=False)
    if wanted == "random":
        zone = azchaos_run.rng.choice(zones)
        azchaos_run.progress.note(f"target zone {zone} (random, seed {azchaos_run.seed})")
        return zone
    if wanted:
        if wanted not in zones:
            pytest.fail(f"zone {wanted!r} is not in this cluster; its zones are: {', '.join(zones)} "
                        "(set --azchaos-zone or the azchaos_zone marker to one of them)", pytrace=False)
        return str(wanted)
    zone = zones[0]
    azchaos_run.progress.note(f"target zone {zone} (first of {', '.join(zones)}; choose with --azchaos-zone)")
    return zone


@pytest.fixture
def azchaos_namespace(request: pytest.FixtureRequest, azchaos_cluster: Any, azchaos_settings: Any,
                      azchaos_run: Run, azchaos_evidence: Any) -> Iterator[str]:
    """A fresh namespace for this test, labelled with the run id; deleted afterwards (kept on failure with
    ``--azchaos-keep-on-failure``)."""
    from kubernetes import client

    short = azchaos_run.run_id.rsplit("-", 1)[-1]
    name = f"{azchaos_settings.namespace_prefix}-{short}-{uuid.uuid4().hex[:5]}"
    labels = {"app.kubernetes.io/managed-by": "pytest-azchaos", "azchaos.io/run-id": azchaos_run.run_id}
    azchaos_cluster.core.create_namespace(client.V1Namespace(metadata=client.V1ObjectMeta(
        name=name, labels=labels, annotations={"azchaos.io/test": request.node.nodeid[:250]})))
    yield name
    azchaos_evidence.events.extend(_events(azchaos_cluster, name))
    if azchaos_settings.keep_on_failure and request.node.stash.get(FAILED, False):
        azchaos_run.progress.note(f"kept namespace {name} of failed test {request.node.nodeid}")
        return
    with contextlib.suppress(client.ApiException):
        azchaos_cluster.core.delete_namespace(name)


def _events(cluster: Any, namespace: str) -> list[dict[str, Any]]:
    """The namespace's Kubernetes events, oldest first, for the evidence."""
    try:
        items = cluster.core.list_namespaced_event(namespace).items
    except Exception:
        return []
    out = []
    for e in items:
        when = e.last_timestamp or e.event_time or e.first_timestamp
        out.append({"time": str(when), "type": e.type, "reason": e.reason,
                    "object": f"{e.involved_object.kind}/{e.involved_object.name}", "message": e.message,
                    "source": (e.source.component if e.source else None) or e.reporting_component})
    return sorted(out, key=lambda r: r["time"])


def _echo_spec(request: pytest.FixtureRequest) -> Any:
    from .apps import EchoSpec

    params: dict[str, Any] = {}
    marker = request.node.get_closest_marker("azchaos_app")
    if marker is not None:
        params.update(marker.kwargs)
    if hasattr(request, "param") and isinstance(request.param, dict):
        params.update(request.param)
    return EchoSpec(**params)


@pytest.fixture
def azchaos_deploy(azchaos_cluster: Any, azchaos_namespace: str, azchaos_profile: Any, azchaos_run: Run,
                   azchaos_zones: Any) -> Callable[..., Any]:
    """Factory: ``azchaos_deploy(spec=None, **params) -> App`` deploys the echo app (``apps.EchoSpec``)
    in the test's namespace and waits until its pods are Ready and every load-balancer address serves."""
    from .apps import EchoSpec
    from .apps.app import AppError
    from .apps.deploy import deploy_echo

    def deploy(spec: Any = None, **params: Any) -> Any:
        spec = (spec or EchoSpec()).but(**params) if params else (spec or EchoSpec())
        if spec.spread == "one-zone" and spec.pinned_zone is None:
            spec = spec.but(pinned_zone=azchaos_zones.zones()[0])
        try:
            # Traffic starts only once every address serves (targets healthy, endpoints propagated).
            return deploy_echo(azchaos_cluster, azchaos_namespace, spec, azchaos_profile,
                               labels={"azchaos.io/run-id": azchaos_run.run_id}, progress=azchaos_run.progress)
        except AppError as e:
            pytest.fail(str(e), pytrace=False)

    return deploy


@pytest.fixture
def azchaos_echo_app(request: pytest.FixtureRequest, azchaos_deploy: Callable[..., Any]) -> Any:
    """The sample echo app, deployed and Ready, with its load-balancer addresses in ``.addresses``.

    agnhost netexec Deployment (6 replicas, zone spread, readiness, graceful shutdown) behind a
    ``type: LoadBalancer`` Service, with a PDB. Change it per test with the marker
    ``@pytest.mark.azchaos_app(replicas=1, traffic_policy="Local", ...)`` or indirect parametrization
    with a dict of ``apps.EchoSpec`` fields.
    """
    return azchaos_deploy(_echo_spec(request))


@pytest.fixture
def azchaos_deploy_stateful(azchaos_cluster: Any, azchaos_namespace: str, azchaos_profile: Any,
                            azchaos_run: Run) -> Callable[..., Any]:
    """Factory: ``azchaos_deploy_stateful(spec=None, **params) -> App`` deploys the stateful app
    (``apps.StatefulSpec``: a StatefulSet on gp3, one EBS volume per replica) and waits until it is Ready."""
    from .apps import StatefulSpec
    from .apps.app import AppError
    from .apps.deploy import deploy_stateful

    def deploy(spec: Any = None, wait: bool = True, **params: Any) -> Any:
        spec = (spec or StatefulSpec()).but(**params) if params else (spec or StatefulSpec())
        try:
            return deploy_stateful(azchaos_cluster, azchaos_namespace, spec, azchaos_profile,
                                   labels={"azchaos.io/run-id": azchaos_run.run_id}, wait=wait,
                                   progress=azchaos_run.progress)
        except AppError as e:
            pytest.fail(str(e), pytrace=False)

    return deploy


@pytest.fixture
def azchaos_stateful_app(azchaos_deploy_stateful: Callable[..., Any]) -> Any:
    """The stateful sample app: a 3-replica StatefulSet on the gp3 StorageClass (one zonal EBS volume per
    pod, runAsUser 1000 with fsGroup 1000), Ready. ``.exec(pod, [...])`` runs commands in its pods."""
    return azchaos_deploy_stateful()


@pytest.fixture
def azchaos_traffic(azchaos_settings: Any, azchaos_evidence: Any) -> Iterator[Any]:
    """Traffic through an app's load balancer: ``azchaos_traffic.start(app)`` returns a running open-loop
    ``Prober`` (``.stop()`` gives its ``Recording``) and samples the app's ready pods per zone meanwhile.
    Probers still running are stopped at teardown."""
    traffic = Traffic(azchaos_settings.rate, azchaos_evidence)
    yield traffic
    traffic.stop_all()


class Traffic:
    def __init__(self, rate: float, evidence: Any):
        self.rate = rate
        self.evidence = evidence
        self.probers: list[Any] = []
        self.samplers: list[Any] = []

    def start(self, app: Any, rate: float | None = None, keep_alive: bool = False, timeout: float = 2.0) -> Any:
        from .report.evidence import ZoneSampler
        from .traffic import Prober, ProbeTarget

        addresses = getattr(app, "addresses", None) or app.lb_addresses(30)
        prober = Prober(ProbeTarget(addresses, app.port), rate=rate or self.rate, timeout=timeout,
                        keep_alive=keep_alive).start()
        self.probers.append(prober)
        self.evidence.recordings.append(prober.recording)
        self.samplers.append(ZoneSampler(self.evidence, app).start())
        return prober

    def stop_all(self) -> None:
        for p in self.probers:
            with contextlib.suppress(Exception):
                p.stop()
        for s in self.samplers:
            s.stop()


@pytest.fixture(scope="session")
def azchaos_aws(azchaos_cluster: Any) -> Any:
    """The cluster's AWS account through boto3 (``aws.AwsContext``): the standard AWS settings, or the
    settings file written next to the kubeconfig. Tests that need it skip, naming the fix, without it."""
    from .aws import AwsConfigError, AwsContext

    try:
        return AwsContext.for_kubeconfig(azchaos_cluster.kubeconfig)
    except AwsConfigError as e:
        pytest.skip(f"no usable AWS access for this cluster: {e}")


@pytest.fixture
def azchaos_check(request: pytest.FixtureRequest, azchaos_evidence: Any) -> Callable[[Any], Any]:
    """Record a ``checks.CheckResult`` for the report and summary, and fail the test if it did not pass:
    ``azchaos_check(zero_downtime(recording))``."""
    from .checks import require

    def check(result: Any) -> Any:
        azchaos_evidence.add_check(result)
        request.node.stash.setdefault(ITEM_CHECKS, []).append(azchaos_evidence.checks[-1])
        add_evidence(request.node, f"check {result.check_id}", result.message())
        for key in ("failed_requests", "time_to_recover_s"):
            if key in result.figures:
                request.node.user_properties.append((f"azchaos_{result.check_id}_{key}", result.figures[key]))
        return require(result)

    return check


# ---------------------------------------------------------------------- chaos


@pytest.fixture
def azchaos_chaos(request: pytest.FixtureRequest, azchaos_cluster: Any, azchaos_settings: Any, azchaos_run: Run,
                  azchaos_profile: Any, azchaos_evidence: Any) -> Iterator[Any]:
    """Faults whose undo is recorded before they act and replayed at teardown (also on Ctrl-C/SIGTERM).

    Methods: ``cordon_zone(zone)``, ``drain_zone(zone)``, ``kill_pods(app, count=/fraction=/zone=)``.
    Refuses to act on a context not allowed by ``--azchaos-allow-context``, on a second zone, or when
    fewer than two other healthy zones would remain.
    """
    from .chaos.facade import Chaos

    chaos = Chaos(azchaos_cluster, azchaos_settings, azchaos_run, azchaos_profile, request.node.nodeid,
                  azchaos_evidence)
    previous = _install_sigterm()
    try:
        yield chaos
    finally:
        outcomes = chaos.undo_all()
        for line in outcomes:
            add_evidence(request.node, "undo", line)
        _restore_sigterm(previous)


def _install_sigterm() -> Any:
    """SIGTERM becomes KeyboardInterrupt, so pytest unwinds and teardown replays the ledger."""

    def handler(signum: int, frame: Any) -> None:
        raise KeyboardInterrupt("SIGTERM")

    try:
        return signal.signal(signal.SIGTERM, handler)
    except ValueError:  # not the main thread
        return None


def _restore_sigterm(previous: Any) -> None:
    if previous is not None:
        with contextlib.suppress(ValueError):
            signal.signal(signal.SIGTERM, previous)


# ---------------------------------------------------------------------- evidence and dry run


def add_evidence(item: pytest.Item, title: str, text: str) -> None:
    item.stash.setdefault(EVIDENCE, []).append((title, text))


def evidence_sections(item: pytest.Item) -> list[tuple[str, str]]:
    return list(item.stash.get(EVIDENCE, []))


def dry_run_listing(item: pytest.Item) -> str:
    """What a destructive test would touch, read from the cluster without changing it."""
    marker = item.get_closest_marker("azchaos_zone")
    settings = item.config.stash[SETTINGS]
    zone = marker.args[0] if marker and marker.args else settings.zone or "auto"
    return (f"dry run: would take zone {zone} away (cordon/drain its nodes, evict or kill its pods) for "
            f"{item.nodeid}; run without --azchaos-dry-run to execute")


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    report = yield
    if report.failed:
        item.stash[FAILED] = True
    if report.when == "call":
        _attach_to_pytest_html(item, report)
    return report


def _attach_to_pytest_html(item: pytest.Item, report: Any) -> None:
    """With pytest-html installed, the timeline goes into its report too."""
    evidence = item.stash.get(TEST_EVIDENCE, None)
    if evidence is None or not item.config.pluginmanager.hasplugin("html"):
        return
    try:
        from pytest_html import extras  # type: ignore[import-not-found]
    except ImportError:
        return
    from .report.html import timeline_svg

    report.extras = [*getattr(report, "extras", []), extras.html(timeline_svg(evidence.to_dict()))]


def pytest_sessionfinish(session: pytest.Session) -> None:
    if hasattr(session.config, "workerinput"):  # an xdist worker: the controller writes the report
        return
    evidences = session.config.stash.get(SESSION_EVIDENCE, [])
    settings = session.config.stash.get(SETTINGS, None)
    if not evidences or settings is None:
        return
    from .report.html import render

    settings.report_dir.mkdir(parents=True, exist_ok=True)
    path = settings.report_dir / "index.html"
    path.write_text(render(evidences))
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    if reporter is not None:
        reporter.write_line(f"[azchaos] evidence report: {path}")

