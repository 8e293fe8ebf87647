"""pytest hooks only: options and ini keys, markers, settings validation, safety gate, reports, summary.

Every hook of the plugin is here; fixtures are in ``fixtures.py``, stash keys in ``_stash.py``. Module top
imports only stdlib, pytest and the stash keys, so installing the plugin never breaks a pytest run;
everything heavy is imported inside the hooks.
"""

from __future__ import annotations

from typing import Any

import pytest

from ._stash import (
    CHECKS,
    FAILED,
    HEADER_NOTES,
    ITEM_CHECKS,
    ITEM_EVIDENCE,
    SESSION_EVIDENCE,
    SETTINGS,
    TEST_EVIDENCE,
)
from .report.sections import sections

# (name, kind, default, help). Every option is also an ini key azchaos_<name with underscores>.
OPTIONS: tuple[tuple[str, str, Any, str | None, str], ...] = (
    ("kubeconfig", "string", None, "PATH",
     "Kubeconfig of the cluster under test. Default: none, which starts the embedded 3-zone cluster."),
    ("context", "string", None, "NAME", "Kubeconfig context to use. Default: the kubeconfig's current-context."),
    ("cluster", "string", "auto", "auto|embedded|kubeconfig|in-cluster",
     "Which cluster: 'auto' (default) uses --azchaos-kubeconfig when given, else the embedded cluster; "
     "'in-cluster' is the cluster this pod runs in, through its service account (context 'in-cluster')."),
    ("zone", "string", None, "ZONE|auto|random",
     "Zone to take away. Default 'auto': the first zone in name order, printed at the start. 'random' picks "
     "one with a seed that is printed (and settable with --azchaos-seed)."),
    ("seed", "string", None, "N", "Seed for 'random' choices (zone, victims). Default: a new one, printed."),
    ("namespace-prefix", "string", "azchaos", "PREFIX",
     "Prefix of the per-test namespaces (<prefix>-<run>-<n>). Default: azchaos."),
    ("namespace-label", "append", None, "KEY=VALUE",
     "Label every per-test namespace with KEY=VALUE (repeatable), e.g. "
     "'pod-security.kubernetes.io/enforce=restricted' to run the suites as a locked-down staging namespace "
     "would. Default: none beyond the run's own labels."),
    ("image", "string", None, "REF",
     "The agnhost image the sample apps run instead of registry.k8s.io/e2e-test-images/agnhost:2.52: a mirror's "
     "name, with a tag or an @sha256: digest, e.g. <account>.dkr.ecr.<region>.amazonaws.com/k8s/e2e-test-images/"
     "agnhost:2.52. Default: the repo list's promoterE2eRegistry, else upstream's."),
    ("image-repo-list", "string", None, "FILE",
     "Registry map in upstream e2e's KUBE_TEST_REPO_LIST YAML format (promoterE2eRegistry: <mirror>/e2e-test-images "
     "...) for the sample apps' images. Default: the file the KUBE_TEST_REPO_LIST environment variable names, "
     "else upstream's registries."),
    ("image-pull-secret", "append", None, "[NAMESPACE/]NAME",
     "imagePullSecrets of the sample apps' pods (repeatable; ini key azchaos_image_pull_secrets, one per line). "
     "NAMESPACE/NAME copies the Secret from NAMESPACE into each app's namespace before the app is created; a bare "
     "NAME must already be there. Default: none."),
    ("allow-context", "append", None, "REGEX",
     "Contexts chaos may run against (regular expression, repeatable). Default: only the embedded cluster's "
     "context 'azchaos-embedded'. Example: --azchaos-allow-context '^staging-'."),
    ("dry-run", "bool", False, None,
     "List what destructive tests would touch (nodes, pods, instances) and skip them; change nothing."),
    ("profile", "string", None, "fast|realistic",
     "Timing profile for every wait and timeout. Default: 'fast' on the embedded cluster, 'realistic' "
     "(upstream/AWS defaults) on a real cluster."),
    ("error-budget", "string", "0", "FRACTION",
     "Fraction of requests allowed to fail during a fault before zero-downtime checks fail. Default: 0."),
    ("rate", "string", "50", "RPS", "Requests per second the traffic prober sends (open loop). Default: 50."),
    ("report-dir", "string", "azchaos-report", "DIR",
     "Where evidence (JSON per test, HTML report) is written. Default: ./azchaos-report."),
    ("share-faults", "bool", False, None,
     "Judge the catalogue over one fault per flavour: the shared suite (suites/test_az_shared.py) injects one "
     "drain and one outage observed by every sample app variant and target, and the per-test suites whose checks "
     "it judges are deselected. Fewer faults and load balancers, so much faster under the realistic profile. "
     "Default: off (the shared suite is deselected and every suite injects its own fault)."),
    ("embedded-lb-controller", "string", "", "legacy|lbc|auto-mode",
     "Which controller provisions the embedded cluster's load balancers: 'legacy' (the in-tree NLB, "
     "internet-facing, instance targets, answering on IPs), 'lbc' (the AWS Load Balancer Controller in "
     "kube-system with its webhooks: internal NLBs by default, instance or ip targets, DNS names) or 'auto-mode' "
     "(EKS Auto Mode's eks.amazonaws.com/nlb class). Default: auto-mode with --azchaos-embedded-provisioner "
     "auto-mode (Auto Mode's compute and load balancing are enabled together), else legacy. Ignored with "
     "--azchaos-kubeconfig."),
    ("embedded-provisioner", "string", "node-groups", "node-groups|karpenter|auto-mode",
     "Who adds the embedded cluster's nodes: 'node-groups' (default: per-zone EKS managed node groups), "
     "'karpenter' (Karpenter v1 NodePools and NodeClaims beside a static node group) or 'auto-mode' (EKS Auto "
     "Mode's built-in NodePools). Ignored with --azchaos-kubeconfig."),
    ("embedded-node-groups", "string", "per-zone", "per-zone|regional",
     "Layout of the embedded cluster's node groups (with the node-groups provisioner): 'per-zone' (default: one "
     "EKS managed node group, an Auto Scaling group, per zone, as EKS advises for EBS-backed workloads under the "
     "Cluster Autoscaler) or 'regional' (one group spanning every zone: EC2 balances new instances across zones, so "
     "the autoscaler cannot choose the zone a Pending pod's volume needs). Ignored with --azchaos-kubeconfig."),
    ("embedded-node-group-room", "string", "0", "N",
     "Nodes each of the embedded cluster's node groups may add per zone above its start (MaxSize = start + N), for "
     "the Cluster Autoscaler that runs in it. Default 0 (MaxSize = desired, eksctl's default): the autoscaler can add "
     "nothing, capacity stays fixed and AZ-CAPACITY is not applicable; 2 lets AZ-CAPACITY judge it. Ignored with "
     "--azchaos-kubeconfig."),
    ("lb", "string", "auto", "auto|legacy|lbc-instance|lbc-ip|auto-mode",
     "Load-balancer flavour of the sample app's Service: 'legacy' (in-tree NLB, instance targets), 'lbc-instance' / "
     "'lbc-ip' (AWS Load Balancer Controller, class service.k8s.aws/nlb), 'auto-mode' (EKS Auto Mode, class "
     "eks.amazonaws.com/nlb). Class, scheme and target type are always stated on the Service. Default 'auto': what "
     "the cluster gives a new LoadBalancer Service (the LBC's service webhook, Auto Mode, else legacy), printed."),
    ("lb-scheme", "string", "internet-facing", "internet-facing|internal",
     "Scheme of the sample app's NLB. Default 'internet-facing' (the LBC's own default is internal, which a runner "
     "outside the VPC cannot reach); 'internal' when the run itself is inside the VPC (the in-cluster CronJob)."),
    ("keep-on-failure", "bool", False, None,
     "Keep the per-test namespace of a failed test for inspection (faults are still undone)."),
    ("target", "append", None, "KIND/NAMESPACE/NAME[,key=value...]",
     "Run the suites against your own workload instead of the sample app (repeatable; ini key azchaos_targets, "
     "one per line). KIND is deployment or statefulset; settings say how to reach it (service=NAME, "
     "ingress=NAME or url=URL; default: the LoadBalancer Service selecting its pods) and what to ask (path=, "
     "status=200-299,301, host=, header=NAME:VALUE, scheme=https, ca=FILE, verify=false, keep-alive=true, "
     "echo=/PATH, pod-header=NAME). Nothing about a target is deployed or deleted. Default: none (the sample app)."),
    ("docs-url", "string", None, "URL",
     "Base URL of a built copy of the documentation site: every failure message then ends with "
     "<URL>/checks/<CHECK-ID>/. Default: none, messages name the page in the repository (docs/checks/<CHECK-ID>.md)."),
)
# Ini keys that are not azchaos_<name>: a repeatable list reads better in the plural.
INI_NAMES = {"target": "azchaos_targets", "image-pull-secret": "azchaos_image_pull_secrets"}

# Every marker as `pytest --markers` shows it (signature: help); the reference page is generated from these.
MARKERS: tuple[str, ...] = (
    "azchaos_destructive: the test takes a zone away or kills pods; it runs alone (never in parallel "
    "with another destructive test), only against allowed contexts, and is skipped under --azchaos-dry-run "
    "with a listing of what it would touch.",
    "azchaos_zone(name): take this zone away instead of the --azchaos-zone choice.",
    "azchaos_app(**params): parameters of the sample echo app for this test (replicas, traffic_policy, "
    "spread, pdb_max_unavailable, delay_shutdown, ...; see pytest_azchaos.apps.EchoSpec).",
    "azchaos_check(id): the conformance check this test proves (AZ-DRAIN, AZ-SRCIP ...).",
    "azchaos_shares(fault, covers=(module, ...)): the test judges the checks of the named suite modules over "
    "one shared fault; it runs under --azchaos-share-faults, which deselects the modules it covers.",
)


def _dest(name: str) -> str:
    return "azchaos_" + name.replace("-", "_")


def _ini(name: str) -> str:
    return INI_NAMES.get(name, _dest(name))


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("azchaos", "multi-AZ chaos conformance (pytest-azchaos)")
    for name, kind, default, metavar, text in OPTIONS:
        flag = f"--azchaos-{name}"
        ini_default = default if kind != "append" else []
        if kind == "bool":
            group.addoption(flag, dest=_dest(name), action="store_true", default=None, help=text)
            parser.addini(_dest(name), f"{text} (as {flag})", type="bool", default=False)
        elif kind == "append":
            group.addoption(flag, dest=_dest(name), action="append", default=None, metavar=metavar, help=text)
            parser.addini(_ini(name), f"{text} (as {flag}; one per line)", type="linelist", default=ini_default)
        else:
            group.addoption(flag, dest=_dest(name), default=None, metavar=metavar, help=text)
            parser.addini(_dest(name), f"{text} (as {flag})", default=ini_default if ini_default is not None else "")


def _value(config: pytest.Config, name: str) -> Any:
    opt = config.getoption(_dest(name))
    if opt is not None:
        return opt
    return config.getini(_ini(name))


def _as_given(config: pytest.Config, message: str) -> str:
    """``message`` naming each setting the way the user gave it: the ini key when the value came from the ini
    file (the flag was not passed), so the fix points at the line to change."""
    for name, *_ in OPTIONS:
        flag = f"--azchaos-{name}"
        from_ini = config.getoption(_dest(name)) is None and config.getini(_ini(name)) not in (None, "", [], False)
        if from_ini:  # the whole flag only: --azchaos-image is not the start of --azchaos-image-repo-list
            import re

            message = re.sub(re.escape(flag) + r"(?![-\w])", f"ini key {_ini(name)}", message)
    return message


def pytest_configure(config: pytest.Config) -> None:
    for marker in MARKERS:
        config.addinivalue_line("markers", marker)
    from .settings import SettingsError, build

    try:
        settings = build(
            kubeconfig=_value(config, "kubeconfig") or None, context=_value(config, "context") or None,
            cluster=_value(config, "cluster") or None, zone=_value(config, "zone") or None,
            seed=_value(config, "seed") or None, namespace_prefix=_value(config, "namespace-prefix") or None,
            allow_contexts=list(_value(config, "allow-context") or []), dry_run=bool(_value(config, "dry-run")),
            profile=_value(config, "profile") or None, error_budget=_value(config, "error-budget") or None,
            rate=_value(config, "rate") or None, report_dir=_value(config, "report-dir") or None,
            keep_on_failure=bool(_value(config, "keep-on-failure")),
            namespace_labels=list(_value(config, "namespace-label") or []),
            targets=list(_value(config, "target") or []),
            image=_value(config, "image") or None, image_repo_list=_value(config, "image-repo-list") or None,
            image_pull_secrets=list(_value(config, "image-pull-secret") or []),
            share_faults=bool(_value(config, "share-faults")),
            embedded_lb_controller=_value(config, "embedded-lb-controller") or None,
            embedded_provisioner=_value(config, "embedded-provisioner") or None,
            embedded_node_groups=_value(config, "embedded-node-groups") or None,
            embedded_node_group_room=_value(config, "embedded-node-group-room") or None,
            lb=_value(config, "lb") or None, lb_scheme=_value(config, "lb-scheme") or None,
            docs_url=_value(config, "docs-url") or None,
        )
    except SettingsError as e:
        raise pytest.UsageError(f"pytest-azchaos: {_as_given(config, str(e))}") from None
    config.stash[SETTINGS] = settings
    from .checks.result import set_docs_url

    set_docs_url(settings.docs_url)
    from .parallel import ParallelRunRefused, configure_distribution

    try:
        config.stash[HEADER_NOTES] = configure_distribution(config, shared_cluster=not settings.uses_embedded)
    except ParallelRunRefused as e:
        raise pytest.UsageError(f"pytest-azchaos: {e}") from None
    config.stash[CHECKS] = []
    config.stash[SESSION_EVIDENCE] = []
    from . import fixtures

    if not config.pluginmanager.has_plugin("azchaos-fixtures"):
        config.pluginmanager.register(fixtures, "azchaos-fixtures")
    if not config.pluginmanager.has_plugin("azchaos-results"):
        config.pluginmanager.register(_SessionResults(config), "azchaos-results")


@pytest.hookimpl(optionalhook=True)
def pytest_configure_node(node: Any) -> None:
    from .parallel import tell_worker

    tell_worker(node)


def pytest_report_header(config: pytest.Config) -> list[str]:
    return config.stash.get(HEADER_NOTES, [])


@pytest.hookimpl(tryfirst=True)  # before xdist turns xdist_group markers into node id suffixes
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    # xdist groups, so --dist loadgroup runs them one at a time (pytest_azchaos.parallel).
    settings = config.stash.get(SETTINGS, None)
    if settings is not None:
        from .gameday.sharing import split_shared

        items[:], deselected = split_shared(items, settings.share_faults)
        if deselected:
            config.hook.pytest_deselected(items=deselected)
    if config.pluginmanager.hasplugin("xdist") and settings is not None:
        from .parallel import group_for

        for item in items:
            group = group_for(item, not settings.uses_embedded)
            if group is not None:
                item.add_marker(pytest.mark.xdist_group(group))


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Tests using ``azchaos_target`` (the suites, through ``azchaos_app``) run once per ``--azchaos-target``,
    with ids ``[target=deployment/shop/checkout]``; without targets they run once, on the sample app."""
    settings = metafunc.config.stash.get(SETTINGS, None)
    if settings is None or not settings.targets or "azchaos_target" not in metafunc.fixturenames:
        return
    metafunc.parametrize("azchaos_target", list(settings.targets), indirect=True,
                         ids=[f"target={t.id}" for t in settings.targets])


def pytest_collect_file(file_path: Any, parent: pytest.Collector) -> pytest.Collector | None:
    # chaostoolkit experiments under suites/ are tests too (pytest_azchaos.ctk.items).
    from .ctk.items import ExperimentFile, is_experiment

    if is_experiment(file_path):
        return ExperimentFile.from_parent(parent, path=file_path)
    return None


def pytest_runtest_setup(item: pytest.Item) -> None:
    settings = item.config.stash.get(SETTINGS, None)
    if settings is not None and settings.dry_run and item.get_closest_marker("azchaos_destructive"):
        from .chaos.dry_run import listing_for
        from .chaos.target import ChaosInputError

        try:
            listing = listing_for(item.config, settings, item)
        except ChaosInputError as e:
            pytest.fail(f"dry run of {item.nodeid}: {e}", pytrace=False)
        pytest.skip(listing)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    report = yield
    if report.when == "call" and report.failed and call.excinfo is not None:
        _inconclusive_if_our_side_failed(item, call, report)
    if report.failed:
        item.stash[FAILED] = True
    if report.when == "call" or (report.when == "setup" and report.failed):
        for title, text in sections(item):
            report.sections.append((f"azchaos: {title}", text))
    if report.when == "call":
        _attach_to_pytest_html(item, report)
    if report.when == "teardown":
        # Plain data on the report, so it reaches the controller under pytest-xdist too.
        report.azchaos_checks = item.stash.get(ITEM_CHECKS, [])
        report.azchaos_evidence = item.stash.get(ITEM_EVIDENCE, None)
    return report


def _inconclusive_if_our_side_failed(item: pytest.Item, call: pytest.CallInfo[None], report: Any) -> None:
    """A plugin test that ended on the Kubernetes API failing (429/5xx, broken connection) or on our prober
    crashing observed nothing about the cluster: it is reported skipped as inconclusive, with the reason."""
    if not any(name.startswith("azchaos_") for name in getattr(item, "fixturenames", ())):
        return
    from .kube.retry import api_failure
    from .traffic.generator import ProberCrashed

    error = call.excinfo.value if call.excinfo else None
    reason = api_failure(error) or (str(error) if isinstance(error, ProberCrashed) else "")
    if not reason:
        return
    path, lineno, _ = item.reportinfo()
    report.outcome = "skipped"
    report.longrepr = (str(path), (lineno or 0) + 1, f"azchaos INCONCLUSIVE: {reason}; nothing was judged")
    item.user_properties.append(("azchaos_inconclusive", reason))


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


class _SessionResults:
    """Collects every test's checks and evidence from its teardown report (on the xdist controller too)."""

    def __init__(self, config: pytest.Config) -> None:
        self.config = config

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        checks = getattr(report, "azchaos_checks", None)
        evidence = getattr(report, "azchaos_evidence", None)
        if not checks and not evidence:
            return
        from .checks.result import CheckResult

        for c in checks or []:
            self.config.stash[CHECKS].append((report.nodeid, CheckResult.from_dict(c)))
        if evidence:
            self.config.stash.setdefault(SESSION_EVIDENCE, []).append(evidence)


def pytest_terminal_summary(terminalreporter: Any, exitstatus: int, config: pytest.Config) -> None:
    checks = config.stash.get(CHECKS, [])
    if not checks:
        return
    from .report.summary import summary_lines

    terminalreporter.write_sep("=", "azchaos conformance summary")
    for line in summary_lines(checks):
        terminalreporter.write_line(line)


def pytest_sessionfinish(session: pytest.Session) -> None:
    if hasattr(session.config, "workerinput"):  # an xdist worker: the controller writes the report
        return
    evidences = session.config.stash.get(SESSION_EVIDENCE, [])
    settings = session.config.stash.get(SETTINGS, None)
    if not evidences or settings is None:
        return
    from .report.html import render
    from .report.skips import skipped_tests

    settings.report_dir.mkdir(parents=True, exist_ok=True)
    path = settings.report_dir / "index.html"
    path.write_text(render(evidences, skipped=skipped_tests(session.config)))
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    if reporter is not None:
        reporter.write_line(f"[azchaos] evidence report: {path}")
