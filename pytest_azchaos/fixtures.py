"""The public fixtures. Thin: each composes the pieces in ``kube/``, ``apps/``, ``traffic/``, ``chaos/``, ``checks/``.

Session resources (the cluster, the run) are started once; each test gets a fresh namespace, app,
traffic and chaos façade whose faults are undone at teardown. Every fixture here can be replaced
in a user's ``conftest.py`` by defining one with the same name. Hooks live in ``plugin.py``.
"""

from __future__ import annotations

import contextlib
import signal
import time
import uuid
from collections.abc import Callable, Iterable, Iterator
from typing import TYPE_CHECKING, Any

import pytest

from ._stash import FAILED, ITEM_CHECKS, ITEM_EVIDENCE, SETTINGS, TEST_EVIDENCE
from .report.sections import add_section
from .run import Run

if TYPE_CHECKING:
    from .apps.app import App
    from .aws.context import AwsContext
    from .chaos.facade import Chaos
    from .checks.result import CheckResult
    from .kube.cluster import Cluster
    from .kube.topology import ZoneMap
    from .lb.flavours import LbFlavour
    from .report.evidence import Evidence
    from .settings import Settings
    from .targets import Target
    from .timing import Profile
    from .traffic.generator import Traffic


# ---------------------------------------------------------------------- session


@pytest.fixture(scope="session")
def azchaos_settings(pytestconfig: pytest.Config) -> Settings:
    """The validated settings of this run (``pytest_azchaos.settings.Settings``), from options and ini keys."""
    return pytestconfig.stash[SETTINGS]


@pytest.fixture(scope="session")
def azchaos_run(pytestconfig: pytest.Config, azchaos_settings: Settings) -> Run:
    """This session's run: ``run_id`` (labels, namespaces, ledger), ``seed``/``rng``, ``progress``, ``report_dir``."""
    from .report.progress import TerminalProgress

    reporter = pytestconfig.pluginmanager.get_plugin("terminalreporter")

    def write(line: str) -> None:
        if reporter is not None:
            reporter.write_line(line)

    run = Run.start(azchaos_settings.seed, TerminalProgress(write), azchaos_settings.report_dir)
    run.progress.note(f"run {run.run_id}, seed {run.seed}, profile {azchaos_settings.effective_profile()}")
    if signal.getsignal(signal.SIGINT) == signal.SIG_IGN:
        # Inherited: a job started with `&` by a non-interactive shell ignores SIGINT, and so does Python then.
        run.progress.note("SIGINT is ignored in this process (started in the background of a script?): Ctrl-C or a "
                          "CI cancel by SIGINT will not stop this run; SIGTERM will, and undoes its faults first")
    return run


@pytest.fixture(scope="session")
def azchaos_profile(azchaos_settings: Settings) -> Profile:
    """The timing profile every wait and timeout reads (``pytest_azchaos.timing.Profile``)."""
    from .timing import Profile

    return Profile.by_name(azchaos_settings.effective_profile())


@pytest.fixture(scope="session")
def azchaos_cluster(azchaos_settings: Settings, azchaos_run: Run,
                    tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    """The cluster under test (session scope): a :class:`pytest_azchaos.kube.cluster.Cluster`.

    With ``--azchaos-kubeconfig`` it is that cluster (``--azchaos-context`` picks the context); without,
    an embedded 3-zone cluster is started for the session and stopped afterwards. Gives ``.api`` (the
    official client's ``ApiClient``), ``.core``, ``.apps``, ``.nodes_by_zone()``, ``.kubeconfig``,
    ``.context``.
    """
    from .kube.cluster import Cluster, ClusterConfigError

    if not azchaos_settings.uses_embedded:
        assert azchaos_settings.kubeconfig is not None  # settings validated it
        cluster = Cluster(azchaos_settings.kubeconfig, azchaos_settings.context,
                          in_cluster=azchaos_settings.cluster == "in-cluster")
        try:
            cluster.check_reachable()
        except ClusterConfigError as e:
            pytest.fail(str(e), pytrace=False)
        _note_provisioner(cluster, azchaos_run)
        yield cluster
        cluster.close()
        return
    # The one place the plugin starts the embedded cluster (besides `azchaos local up`).
    from .embedded.process import start_cluster, stop_cluster  # noqa: TID251
    from .embedded.topology import Topology  # noqa: TID251

    path = tmp_path_factory.mktemp("azchaos-embedded") / "kubeconfig"
    topology = Topology.make(zones=azchaos_settings.embedded_zones,
                             nodes_per_zone=azchaos_settings.embedded_nodes_per_zone,
                             max_nodes_per_zone=(azchaos_settings.embedded_nodes_per_zone
                                                 + azchaos_settings.embedded_node_group_room),
                             extra={"node_groups": azchaos_settings.embedded_node_groups})
    handle = start_cluster(path, topology, profile=azchaos_settings.effective_profile(),
                           lb_controller=azchaos_settings.embedded_lb_controller,
                           provisioner=azchaos_settings.embedded_provisioner, exit_with_parent=True)
    azchaos_run.progress.note(f"embedded cluster at {handle.url} (kubeconfig {path})")
    cluster = Cluster(path)
    _note_provisioner(cluster, azchaos_run)
    try:
        yield cluster
        _report_background_errors(cluster, azchaos_run)
    finally:
        cluster.close()
        stop_cluster(path)


def _note_provisioner(cluster: Cluster, run: Run) -> None:
    """Preflight: print who adds the cluster's nodes (``provisioners.detect``; zone_outage's strategy follows it)."""
    from kubernetes.client.exceptions import ApiException

    from .provisioners.detect import detect

    try:
        run.progress.note(detect(cluster.api).describe())
    except ApiException as e:
        run.progress.note(f"node provisioner: not detected ({e.status} {e.reason}); zone_outage detects it again")


def _report_background_errors(cluster: Cluster, run: Run) -> None:
    """Errors the embedded cluster's controllers caught and went on after are our bugs: say so, loudly."""
    import warnings

    status, doc = cluster.get_json("/azchaos/v1/controller-errors")
    failing = (doc.get("controllers") or []) if status == 200 and isinstance(doc, dict) else []
    if failing:
        text = "; ".join(f"{c['name']}: {c['count']} error(s), last {c['last']}" for c in failing)
        run.progress.note(f"the embedded cluster's controllers caught errors during the run: {text}")
        warnings.warn(pytest.PytestWarning(f"embedded cluster controller errors (a bug of ours): {text}"),
                      stacklevel=1)


@pytest.fixture(scope="session")
def azchaos_aws(azchaos_cluster: Cluster) -> AwsContext:
    """The cluster's AWS account through boto3 (``aws.AwsContext``): the standard AWS settings, or the
    settings file written next to the kubeconfig. Tests that need it skip, naming the fix, without it."""
    from .aws import AwsConfigError, AwsContext

    try:
        return AwsContext.for_kubeconfig(azchaos_cluster.kubeconfig)
    except AwsConfigError as e:
        pytest.skip(f"no usable AWS access for this cluster: {e}")


@pytest.fixture(scope="session")
def azchaos_lb(azchaos_cluster: Cluster, azchaos_settings: Settings, azchaos_run: Run) -> LbFlavour:
    """The load-balancer flavour the sample app's Service asks for (``lb.flavours.LbFlavour``: flavour, scheme,
    target type): ``--azchaos-lb`` (default ``auto``: what the cluster gives a new LoadBalancer Service, read from
    its webhooks and API groups by ``lb.detect``), printed once. A flavour the cluster cannot give (legacy under the
    LBC's service webhook, lbc-* without the LBC ...) fails the tests that deploy, naming the fix; nothing is
    created."""
    from .lb.detect import LbChoiceError, choose, detect

    detection = detect(azchaos_cluster)
    try:
        flavour = choose(azchaos_settings.lb, azchaos_settings.lb_scheme, detection)  # type: ignore[arg-type]
    except LbChoiceError as e:
        pytest.fail(f"load-balancer preflight: {e}", pytrace=False)
    azchaos_run.progress.note(f"load balancer: {detection.describe()}; the sample Service asks for "
                              f"{flavour.describe()} (--azchaos-lb {azchaos_settings.lb})")
    return flavour


# ---------------------------------------------------------------------- per test


@pytest.fixture
def azchaos_evidence(request: pytest.FixtureRequest, azchaos_run: Run) -> Iterator[Evidence]:
    """This test's evidence (``report.evidence.Evidence``): fault phases, recordings, ready pods per
    zone, events, verdicts. Written as JSON to the report directory and drawn in the HTML report."""
    from .ctk.journal import journal_of, write_journal
    from .report.evidence import Evidence

    evidence = Evidence(request.node.nodeid)
    request.node.stash[TEST_EVIDENCE] = evidence
    yield evidence
    evidence.finished = time.time()
    evidence.outcome = "failed" if request.node.stash.get(FAILED, False) else "passed"
    path = evidence.write_json(azchaos_run.report_dir)
    request.node.stash[ITEM_EVIDENCE] = data = evidence.to_dict()
    add_section(request.node, "evidence file", str(path))
    doc = getattr(getattr(request.node, "obj", None), "__doc__", None) or ""
    add_section(request.node, "chaostoolkit journal",
                str(write_journal(azchaos_run.report_dir, data["test"], journal_of(data, description=doc))))


@pytest.fixture
def azchaos_zones(azchaos_cluster: Cluster) -> ZoneMap:
    """The cluster's zones and nodes right now (``kube.topology.ZoneMap``)."""
    from .kube.topology import ZoneMap

    return ZoneMap.read(azchaos_cluster.core)


@pytest.fixture
def azchaos_zone(request: pytest.FixtureRequest, azchaos_settings: Settings, azchaos_run: Run,
                 azchaos_zones: ZoneMap) -> str:
    """The zone this test takes away: the ``azchaos_zone`` marker, else ``--azchaos-zone``, else chosen.

    ``auto`` (default) takes the first zone in name order; ``random`` a seeded choice (the seed is printed).
    An unknown zone fails the test at once, listing the cluster's zones; nothing is touched.
    """
    from .chaos.target import ChaosInputError, choose_zone

    marker = request.node.get_closest_marker("azchaos_zone")
    wanted = marker.args[0] if marker and marker.args else azchaos_settings.zone
    try:
        zone = choose_zone(azchaos_zones, wanted, azchaos_run.rng)
    except ChaosInputError as e:
        pytest.fail(str(e), pytrace=False)
    if wanted == "random":
        azchaos_run.progress.note(f"target zone {zone} (random, seed {azchaos_run.seed})")
    elif wanted in (None, "", "auto"):
        azchaos_run.progress.note(f"target zone {zone} (first of {', '.join(azchaos_zones.zones())}; "
                                  "choose with --azchaos-zone)")
    return zone


@pytest.fixture
def azchaos_namespace(request: pytest.FixtureRequest, azchaos_cluster: Cluster, azchaos_settings: Settings,
                      azchaos_run: Run, azchaos_evidence: Evidence) -> Iterator[str]:
    """A fresh namespace for this test, labelled with the run id; deleted afterwards (kept on failure with
    ``--azchaos-keep-on-failure``)."""
    from kubernetes import client

    from .wellknown import MANAGED_BY, MANAGED_BY_LABEL, RUN_ID_LABEL, TEST_ANNOTATION

    short = azchaos_run.run_id.rsplit("-", 1)[-1]
    name = f"{azchaos_settings.namespace_prefix}-{short}-{uuid.uuid4().hex[:5]}"
    labels = {**dict(azchaos_settings.namespace_labels), MANAGED_BY_LABEL: MANAGED_BY,
              RUN_ID_LABEL: azchaos_run.run_id}
    try:
        azchaos_cluster.core.create_namespace(client.V1Namespace(metadata=client.V1ObjectMeta(
            name=name, labels=labels, annotations={TEST_ANNOTATION: request.node.nodeid[:250]})))
    except client.ApiException as e:  # AlreadyExists: ours only if an earlier attempt (retried 5xx) made it
        existing = azchaos_cluster.core.read_namespace(name) if e.status == 409 else None
        if existing is None or (existing.metadata.labels or {}).get(RUN_ID_LABEL) != azchaos_run.run_id:
            raise
    yield name
    azchaos_evidence.events.extend(_events(azchaos_cluster, name, azchaos_evidence))
    if azchaos_settings.keep_on_failure and request.node.stash.get(FAILED, False):
        azchaos_run.progress.note(f"kept namespace {name} of failed test {request.node.nodeid}")
        return
    with contextlib.suppress(client.ApiException):
        azchaos_cluster.core.delete_namespace(name)


def _events(cluster: Cluster, namespace: str, evidence: Evidence) -> list[dict[str, Any]]:
    """The namespace's Kubernetes events, oldest first, for the evidence (a note says why if unreadable)."""
    try:
        items = cluster.core.list_namespaced_event(namespace).items
    except Exception as error:
        evidence.notes.append(f"events of {namespace} could not be read: {error}")
        return []
    out = []
    for e in items:
        when = e.last_timestamp or e.event_time or e.first_timestamp
        out.append({"time": str(when), "type": e.type, "reason": e.reason,
                    "object": f"{e.involved_object.kind}/{e.involved_object.name}", "message": e.message,
                    "source": (e.source.component if e.source else None) or e.reporting_component})
    return sorted(out, key=lambda r: r["time"])


def _echo_params(request: pytest.FixtureRequest) -> dict[str, Any]:
    params: dict[str, Any] = {}
    marker = request.node.get_closest_marker("azchaos_app")
    if marker is not None:
        params.update(marker.kwargs)
    if hasattr(request, "param") and isinstance(request.param, dict):
        params.update(request.param)
    return params


@pytest.fixture
def azchaos_deploy(azchaos_lb: LbFlavour, azchaos_cluster: Cluster, azchaos_namespace: str, azchaos_profile: Profile,
                   azchaos_run: Run, azchaos_zones: ZoneMap, azchaos_settings: Settings) -> Callable[..., App]:
    """Factory: ``azchaos_deploy(spec=None, **params) -> App`` deploys the echo app (``apps.EchoSpec``)
    in the test's namespace and waits until its pods are Ready and every load-balancer address serves.
    Its image and pull secrets are the run's (``--azchaos-image``, ``--azchaos-image-pull-secret`` ...), its load
    balancer the run's flavour (``azchaos_lb``) unless ``lb=`` says otherwise; with ip targets the namespace is
    labelled for readiness gates before any pod exists."""
    from .apps import EchoSpec
    from .apps.app import AppError
    from .apps.deploy import deploy_echo
    from .wellknown import RUN_ID_LABEL

    def deploy(spec: EchoSpec | None = None, **params: Any) -> App:
        spec = (spec or EchoSpec()).but(**params)
        if spec.lb is None:
            spec = spec.but(lb=azchaos_lb)
        if spec.spread == "one-zone" and spec.pinned_zone is None:
            spec = spec.but(pinned_zone=azchaos_zones.zones()[0])
        try:
            # Traffic starts only once every address serves (targets healthy, endpoints propagated).
            return deploy_echo(azchaos_cluster, azchaos_namespace, spec, azchaos_profile,
                               labels={RUN_ID_LABEL: azchaos_run.run_id}, progress=azchaos_run.progress,
                               images=azchaos_settings.images)
        except AppError as e:
            pytest.fail(str(e), pytrace=False)

    return deploy


@pytest.fixture
def azchaos_echo_app(request: pytest.FixtureRequest, azchaos_deploy: Callable[..., App]) -> App:
    """The sample echo app, deployed and Ready, with its load-balancer addresses in ``.addresses``.

    agnhost netexec Deployment (6 replicas, zone spread, readiness, graceful shutdown) behind a
    ``type: LoadBalancer`` Service, with a PDB. Change it per test with the marker
    ``@pytest.mark.azchaos_app(replicas=1, traffic_policy="Local", ...)`` or indirect parametrization
    with a dict of ``apps.EchoSpec`` fields.
    """
    return azchaos_deploy(**_echo_params(request))


@pytest.fixture
def azchaos_target(request: pytest.FixtureRequest) -> Target | None:
    """The workload under test: a ``targets.Target`` from ``--azchaos-target`` (a test using it runs once per
    target, ids ``[target=deployment/NAMESPACE/NAME]``), or None, meaning the sample app, when none is set."""
    return getattr(request, "param", None)


@pytest.fixture
def azchaos_app(request: pytest.FixtureRequest, azchaos_target: Target | None, azchaos_cluster: Cluster,
                azchaos_profile: Profile, azchaos_run: Run) -> App:
    """The app under test: your ``--azchaos-target`` (found, never deployed, changed or deleted) or, without
    one, the sample echo app (``azchaos_echo_app``'s parameters: marker ``azchaos_app(...)`` or indirect
    parametrization). A test asking for a ``traffic_policy`` the target's Service does not have is skipped
    with the reason: the plugin never changes a target's spec. A target it cannot find or reach fails the test
    naming the fix."""
    params = _echo_params(request)
    if azchaos_target is None:
        deploy: Callable[..., App] = request.getfixturevalue("azchaos_deploy")
        return deploy(**params)
    from .apps.app import AppError
    from .apps.target_app import resolve_target

    try:
        app = resolve_target(azchaos_cluster, azchaos_target, azchaos_profile.lb_ready_timeout,
                             progress=azchaos_run.progress)
    except AppError as e:
        pytest.fail(str(e), pytrace=False)
    reason = app.unmet(params, variants=isinstance(getattr(request, "param", None), dict))
    if reason:
        pytest.skip(reason)
    return app


@pytest.fixture
def azchaos_deploy_stateful(azchaos_cluster: Cluster, azchaos_namespace: str, azchaos_profile: Profile,
                            azchaos_run: Run, azchaos_settings: Settings) -> Callable[..., App]:
    """Factory: ``azchaos_deploy_stateful(spec=None, **params) -> App`` deploys the stateful app
    (``apps.StatefulSpec``: a StatefulSet on gp3, one EBS volume per replica) and waits until it is Ready."""
    from .apps import StatefulSpec
    from .apps.app import AppError
    from .apps.deploy import deploy_stateful
    from .wellknown import RUN_ID_LABEL

    def deploy(spec: StatefulSpec | None = None, wait: bool = True, **params: Any) -> App:
        spec = (spec or StatefulSpec()).but(**params)
        try:
            return deploy_stateful(azchaos_cluster, azchaos_namespace, spec, azchaos_profile,
                                   labels={RUN_ID_LABEL: azchaos_run.run_id}, wait=wait,
                                   progress=azchaos_run.progress, images=azchaos_settings.images)
        except AppError as e:
            pytest.fail(str(e), pytrace=False)

    return deploy


@pytest.fixture
def azchaos_stateful_app(azchaos_deploy_stateful: Callable[..., App]) -> App:
    """The stateful sample app: a 3-replica StatefulSet on the gp3 StorageClass (one zonal EBS volume per
    pod, runAsUser 1000 with fsGroup 1000), Ready. ``.exec(pod, [...])`` runs commands in its pods."""
    return azchaos_deploy_stateful()


@pytest.fixture
def azchaos_traffic(azchaos_settings: Settings, azchaos_profile: Profile,
                    azchaos_evidence: Evidence) -> Iterator[Traffic]:
    """Traffic through an app's load balancer: ``azchaos_traffic.start(app)`` returns a running open-loop
    ``Prober`` (``.stop()`` gives its ``Recording``) and samples the app's ready pods per zone meanwhile.
    Probers still running are stopped at teardown; a prober that crashed is reported there, never hidden."""
    from .traffic.generator import Traffic
    from .traffic.lb_zones import lb_address_zones

    traffic = Traffic(azchaos_settings.rate, azchaos_evidence, azchaos_profile.lb_ready_timeout,
                      zone_map=lb_address_zones)
    yield traffic
    traffic.stop_all()


@pytest.fixture
def azchaos_in_cluster_traffic(azchaos_cluster: Cluster, azchaos_namespace: str, azchaos_settings: Settings,
                               azchaos_profile: Profile, azchaos_run: Run, azchaos_evidence: Evidence) -> Iterator[Any]:
    """Traffic from inside the cluster (``traffic.in_cluster.InClusterTraffic``): ``.deploy()`` puts one agnhost
    netexec prober pod in each zone of the test's namespace (the run's image, ``restricted``); ``.start(targets,
    rate=None, tries=1)`` drives them through ``/dial`` at ``rate`` requests per second per zone and target
    (default ``--azchaos-rate``) and returns the running ``InClusterRun`` (``.stop()`` gives its ``Recording``,
    every record with its ``source_zone``). ``traffic.in_cluster.DialTarget.service(core, ns, name)`` gives a
    Service's ClusterIP and DNS-name targets. Runs still going are stopped at teardown; a crash is reported."""
    from .traffic.in_cluster import InClusterTraffic
    from .wellknown import RUN_ID_LABEL

    traffic = InClusterTraffic(azchaos_cluster, azchaos_namespace, azchaos_settings.images,
                               azchaos_profile.app_ready_timeout, azchaos_settings.rate,
                               {RUN_ID_LABEL: azchaos_run.run_id}, azchaos_run.progress,
                               recordings=azchaos_evidence.recordings)
    yield traffic
    traffic.stop_all()


@pytest.fixture
def azchaos_check(request: pytest.FixtureRequest, azchaos_evidence: Evidence) -> Callable[[CheckResult], CheckResult]:
    """Record a ``checks.CheckResult`` for the report, the summary and the JUnit XML, and end the test if it
    did not pass: a failed check fails it, an inconclusive one (our side failed) skips it with the reason.
    ``azchaos_check(zero_downtime(recording))``."""
    from .checks import CheckInconclusive, require

    def check(result: CheckResult) -> CheckResult:
        _record_check(request, azchaos_evidence, result)
        try:
            return require(result)
        except CheckInconclusive as e:
            pytest.skip(str(e))

    return check


def _record_check(request: pytest.FixtureRequest, evidence: Evidence, result: CheckResult, label: str = "",
                  entry: dict[str, Any] | None = None) -> None:
    """``result`` in the evidence (unless already there as ``entry``), the test's report sections, the summary
    and the JUnit XML properties."""
    if entry is None:
        evidence.add_check(result)
        entry = evidence.checks[-1]
    request.node.stash.setdefault(ITEM_CHECKS, []).append(entry)
    add_section(request.node, f"check {result.check_id}" + (f" ({label})" if label else ""), result.message())
    prefix = f"azchaos_{result.check_id}" + (f"_{label}" if label else "")
    request.node.user_properties.append((prefix, f"{result.verdict}: {result.summary}"))
    for key in ("failed_requests", "time_to_recover_s"):
        if key in result.figures:
            request.node.user_properties.append((f"{prefix}_{key}", result.figures[key]))


@pytest.fixture
def azchaos_predict(request: pytest.FixtureRequest, azchaos_cluster: Cluster, azchaos_profile: Profile,
                    azchaos_run: Run, azchaos_evidence: Evidence) -> Callable[..., Any]:
    """Factory: ``azchaos_predict(app, fault, zone, nodes=None) -> oracle.Prediction``. Call it before a destructive
    step: from the cluster's real state it predicts what Kubernetes will do for ``app`` under ``fault``
    (``"drain"``, ``"power-off"``, ``"partition"``, ``"zonal-shift"``) on ``zone`` (or only ``nodes`` of it),
    prints it, records it in the evidence and the report; pass it to the checks' ``predicted=``. For a power-off
    through ``zone_outage(z, aws, suspend_processes=...)`` pass the same ``aws=`` and ``suspend_processes=``: a group
    left with HealthCheck/ReplaceUnhealthy active is then predicted to terminate its stopped instances."""
    from .oracle import predict_for

    def predict(app: App, fault: str, zone: str, nodes: list[str] | None = None, *, aws: Any = None,
                suspend_processes: Any = None) -> Any:
        prediction = predict_for(azchaos_cluster.core, app.namespace, app.label_selector, fault, zone,
                                 azchaos_profile, nodes=nodes, drain_timeout=float(azchaos_profile.drain_timeout),
                                 aws=aws, suspend_processes=suspend_processes)
        for line in prediction.lines():
            azchaos_run.progress.note(line)
        azchaos_evidence.predictions.append(prediction.to_evidence())
        add_section(request.node, f"prediction ({prediction.fault.describe()})", str(prediction))
        return prediction

    return predict


# ---------------------------------------------------------------------- chaos


@pytest.fixture
def azchaos_chaos(request: pytest.FixtureRequest, azchaos_cluster: Cluster, azchaos_settings: Settings,
                  azchaos_run: Run, azchaos_profile: Profile, azchaos_evidence: Evidence) -> Iterator[Chaos]:
    """Faults whose undo is recorded before they act and replayed at teardown (also on Ctrl-C/SIGTERM).

    Methods: ``cordon_zone(zone)``, ``drain_zone(zone)``, ``kill_pods(app, count=/fraction=/zone=)``,
    ``zone_outage(zone, aws)``, ``zone_partition(zone, include_load_balancer=False)`` (a deny-all network ACL
    on the zone's subnets). Refuses to act on a context not allowed by ``--azchaos-allow-context``, on
    a second zone, or when fewer than two other healthy zones would remain.
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
            add_section(request.node, "undo", line)
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


# ---------------------------------------------------------------------- one fault, every observer


@pytest.fixture
def azchaos_gameday(request: pytest.FixtureRequest, azchaos_cluster: Cluster, azchaos_settings: Settings,
                    azchaos_run: Run, azchaos_profile: Profile, azchaos_namespace: str, azchaos_zone: str,
                    azchaos_evidence: Evidence, azchaos_chaos: Chaos) -> Callable[..., Any]:
    """Factory: ``azchaos_gameday(fault, aws=None, suspend_processes=None)`` injects ONE fault (drain, outage,
    partition) into the test's zone while traffic flows to every ``--azchaos-target``, or without targets to the
    sample app (externalTrafficPolicy Cluster and Local, deployed side by side),
    and judges every check that applies over the same window (``gameday.Scenario``). Every check is recorded;
    the test fails listing every failed check, or is skipped as inconclusive when only our side failed.
    ``suspend_processes`` (outage only): the zone's Auto Scaling processes to suspend, as ``azchaos gameday
    --suspend-processes`` (default ``aws.OUTAGE_PROCESSES``); a bad name or fault fails the test, nothing touched."""
    from .apps.app import AppError
    from .aws.asg import validate_processes
    from .checks.result import CheckFailed, CheckInconclusive
    from .gameday import Scenario, ScenarioError
    from .gameday.subjects import sample_subjects, target_subject
    from .wellknown import RUN_ID_LABEL

    def run(fault: str, aws: Any = None, suspend_processes: Iterable[str] | None = None) -> Scenario:
        try:
            processes = None if suspend_processes is None else validate_processes(suspend_processes)
        except ValueError as e:
            pytest.fail(str(e), pytrace=False)
        try:
            scenario = Scenario(azchaos_cluster, azchaos_chaos, azchaos_profile, azchaos_zone, fault,
                                azchaos_settings.rate, azchaos_settings.error_budget, aws, azchaos_run.progress,
                                suspend_processes=processes)
            if azchaos_settings.targets:
                subjects = [target_subject(azchaos_cluster, t, azchaos_profile, progress=azchaos_run.progress,
                                           nodeid=request.node.nodeid) for t in azchaos_settings.targets]
            else:
                subjects = sample_subjects(azchaos_cluster, azchaos_namespace, azchaos_profile,
                                           labels={RUN_ID_LABEL: azchaos_run.run_id}, progress=azchaos_run.progress,
                                           nodeid=request.node.nodeid, images=azchaos_settings.images,
                                           lb=request.getfixturevalue("azchaos_lb"))
        except (ScenarioError, AppError) as e:
            pytest.fail(str(e), pytrace=False)
        for subject in subjects:
            subject.evidence = azchaos_evidence  # one test, one evidence: every recording and phase in it
            scenario.add(subject)
        scenario.run()
        for subject in scenario.observed:
            for result, entry in zip(subject.results, subject.entries, strict=True):
                _record_check(request, azchaos_evidence, result, subject.label, entry)
        failed = [f"{s.label}: {CheckFailed(r)}" for s, r in scenario.results() if r.verdict == "failed"]
        if failed:
            pytest.fail(f"{len(failed)} check(s) failed over one {fault} of {azchaos_zone}:\n" + "\n".join(failed),
                        pytrace=False)
        unsure = [f"{s.label}: {CheckInconclusive(r)}" for s, r in scenario.results() if r.verdict == "inconclusive"]
        if unsure:
            pytest.skip("\n".join(unsure))
        return scenario

    return run
