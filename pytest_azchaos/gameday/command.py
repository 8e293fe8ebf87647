"""``azchaos gameday``: one fault on one zone, every applicable check over the same window, a live view, the
HTML/JSON report. Refuses bad input before anything is deployed or touched."""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from ..timing import NAMES as PROFILE_NAMES
from ..wellknown import EMBEDDED_CONTEXT
from .scenario import FAULTS

DESCRIPTION = """\
Inject ONE fault into one zone while traffic flows to every target, then judge every check that applies to
that fault over the same window: AZ-TOPO and AZ-HCNP before the fault, AZ-BALANCE and AZ-SRCIP on the steady
state, then AZ-DRAIN + AZ-RESCHED (drain) or AZ-OUTAGE (outage) or AZ-PARTITION (partition).

With --target, your own workloads are observed: found, never deployed, changed or deleted (AZ-SRCIP and
AZ-BALANCE need the target's echo= and pod-header= settings). Without --target the sample echo app is
deployed twice (externalTrafficPolicy Cluster and Local) in a namespace of its own, deleted afterwards. The
fault is undone at the end, also on Ctrl-C or SIGTERM; after a kill -9 run `azchaos restore`. Exit status:
0 every check passed, 1 a check failed, 2 bad input (nothing touched), 3 no check failed but one was
inconclusive (our side failed while observing).

example:
  azchaos gameday --kubeconfig ~/.kube/staging --allow-context '^staging$' --zone us-east-1a --fault drain \\
      --target deployment/shop/checkout,path=/healthz
"""


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--kubeconfig", default=None, help="kubeconfig of the cluster (default: $KUBECONFIG, else "
                   "~/.kube/config)")
    p.add_argument("--context", default=None, help="kubeconfig context (default: its current context)")
    p.add_argument("--zone", default="auto", help="zone to take away: a zone name, 'auto' (first in name order, "
                   "default) or 'random'")
    p.add_argument("--fault", required=True, choices=FAULTS,
                   help="drain (cordon + evict), outage (stop the zone's instances), partition (deny-all network "
                        "ACL on the zone's subnets) or shift (ARC zonal shift)")
    p.add_argument("--target", action="append", default=None, metavar="KIND/NAMESPACE/NAME[,key=value...]",
                   help="your own workload to observe instead of the sample app (repeatable; the syntax of "
                        "pytest's --azchaos-target: service=, ingress=, url=, path=, status=, host=, header=, "
                        "scheme=https, ca=, verify=false, keep-alive=true, echo=, pod-header=); never deployed, "
                        "changed or deleted")
    p.add_argument("--allow-context", action="append", default=None, metavar="REGEX",
                   help=f"contexts that may lose a zone (repeatable; default: only ^{EMBEDDED_CONTEXT}$)")
    p.add_argument("--profile", choices=PROFILE_NAMES, default=None,
                   help="timing profile (default: what the kubeconfig context declares, else realistic)")
    p.add_argument("--rate", default=None, help="requests per second per target (default: 50)")
    p.add_argument("--error-budget", default=None, help="fraction of requests a drain may fail (default: 0)")
    p.add_argument("--report-dir", default="azchaos-report", help="where the HTML/JSON report goes "
                   "(default: azchaos-report)")
    p.add_argument("--namespace-label", action="append", default=None, metavar="KEY=VALUE",
                   help="label for the sample app's namespace (repeatable), e.g. "
                        "pod-security.kubernetes.io/enforce=restricted")
    p.add_argument("--image", default=None, metavar="REF",
                   help="the agnhost image the sample app runs (a mirror's name, tag or @sha256: digest)")
    p.add_argument("--image-repo-list", default=None, metavar="FILE",
                   help="registry map in upstream e2e's KUBE_TEST_REPO_LIST format (default: $KUBE_TEST_REPO_LIST)")
    p.add_argument("--image-pull-secret", action="append", default=None, metavar="[NAMESPACE/]NAME",
                   help="imagePullSecrets of the sample app's pods (repeatable; NAMESPACE/NAME is copied in)")
    p.add_argument("--suspend-processes", action="append", default=None, metavar="NAME[,NAME...]",
                   help="with --fault outage: the Auto Scaling processes the outage suspends in the zone's groups "
                        "(default: Launch,Terminate,AZRebalance,HealthCheck,ReplaceUnhealthy; the undo resumes "
                        "exactly what it suspended). Leaving HealthCheck or ReplaceUnhealthy active lets a group "
                        "terminate the stopped instances, which AZ-OUTAGE then fails naming")
    p.add_argument("--seed", default=None, help="seed for random choices (--zone random)")
    p.add_argument("--view-interval", type=float, default=5.0,
                   help="seconds between two blocks of the live view (default: 5)")


def run(args: argparse.Namespace, write: Callable[[str], None] = print) -> int:
    """The command; returns the exit status (see ``DESCRIPTION``)."""
    from ..kube.cluster import Cluster
    from ..settings import SettingsError, build

    processes = _suspend_processes(args)
    if isinstance(processes, str):
        return _refuse(processes)
    kubeconfig = args.kubeconfig or (os.environ.get("KUBECONFIG", "").split(os.pathsep)[0] or None) \
        or str(Path.home() / ".kube" / "config")
    try:
        settings = build(kubeconfig=kubeconfig, context=args.context, cluster="kubeconfig", zone=args.zone,
                         seed=args.seed, namespace_prefix=None, allow_contexts=args.allow_context, dry_run=False,
                         profile=args.profile, error_budget=args.error_budget, rate=args.rate,
                         report_dir=args.report_dir, keep_on_failure=False, namespace_labels=args.namespace_label,
                         image=args.image, image_repo_list=args.image_repo_list,
                         image_pull_secrets=args.image_pull_secret, targets=args.target)
    except SettingsError as e:
        return _refuse(_flags(str(e)))
    if args.view_interval <= 0:
        return _refuse("--view-interval must be a positive number of seconds")
    from ..cli import _check_cluster

    assert settings.kubeconfig is not None
    cluster = Cluster(settings.kubeconfig, settings.context)
    try:
        problem = _check_cluster(cluster, settings.kubeconfig, settings.context)
        if problem:
            return _refuse(problem)
        return _run(args, settings, cluster, write, processes)
    finally:
        cluster.close()


def _suspend_processes(args: argparse.Namespace) -> tuple[str, ...] | str | None:
    """``--suspend-processes`` as validated process names (None: the outage's default), or why it is refused."""
    from ..aws.asg import validate_processes

    given = getattr(args, "suspend_processes", None)
    if given is None:
        return None
    if args.fault != "outage":
        return (f"--suspend-processes only applies to --fault outage (it picks the Auto Scaling processes the "
                f"outage suspends), not --fault {args.fault}: drop it or use --fault outage")
    names = [n.strip() for value in given for n in value.split(",") if n.strip()]
    if not names:
        return "--suspend-processes needs at least one process name, e.g. --suspend-processes Launch,Terminate"
    try:
        return validate_processes(names)
    except ValueError as e:
        return (str(e).replace("in suspend_processes", "in --suspend-processes")
                .replace("; nothing was changed", "")) + ": pass --suspend-processes with names from them"


def _flags(message: str) -> str:
    """A settings message names pytest's flags; the command's flags are the same without ``azchaos-``."""
    return (message.replace("--azchaos-", "--").replace(" (or the azchaos_allow_context ini key)", "")
            .replace(", or leave it unset to use the embedded cluster", " (default: $KUBECONFIG, else ~/.kube/config)"))


def _refuse(message: str) -> int:
    print(f"azchaos gameday: {message}; nothing was touched", file=sys.stderr)
    return 2


def _run(args: argparse.Namespace, settings: Any, cluster: Any, write: Callable[[str], None],
         processes: tuple[str, ...] | None = None) -> int:

    from ..aws import AwsConfigError, AwsContext
    from ..chaos.facade import Chaos
    from ..chaos.target import ChaosInputError, choose_zone
    from ..kube.topology import ZoneMap
    from ..report.evidence import Evidence
    from ..report.progress import TerminalProgress
    from ..run import Run
    from ..timing import Profile
    from .live import LiveView
    from .scenario import Scenario, ScenarioError

    context = cluster.context_name
    if not settings.context_allowed(context):
        return _refuse(f"context {context!r} is not allowed for chaos: allow it with --allow-context '^{context}$' "
                       "if this cluster may lose a zone")
    run = Run.start(settings.seed, TerminalProgress(write), settings.report_dir)
    try:
        zone = choose_zone(ZoneMap.read(cluster.core), settings.zone, run.rng)
    except ChaosInputError as e:
        return _refuse(_flags(str(e)).replace("(--zone, the azchaos_zone marker, or the action's zone argument)",
                                              "(--zone)"))
    profile = Profile.by_name(settings.effective_profile())
    aws = None
    if args.fault in ("outage", "partition", "shift"):
        try:
            aws = AwsContext.for_kubeconfig(settings.kubeconfig)
        except AwsConfigError as e:
            return _refuse(f"the fault {args.fault!r} needs AWS access for this cluster: {e}")
    phases = Evidence(nodeid="gameday")
    chaos = Chaos(cluster, settings, run, profile, f"gameday {args.fault} {zone}", phases)
    try:
        scenario = Scenario(cluster, chaos, profile, zone, args.fault, settings.rate, settings.error_budget, aws,
                            run.progress, suspend_processes=processes)
    except ScenarioError as e:
        return _refuse(str(e))
    write(f"[gameday] {args.fault} of {zone} on context {context!r}, profile {profile.name}, run {run.run_id}")
    view = LiveView(scenario, write, args.view_interval)
    with _subjects(cluster, settings, run, profile, scenario, phases) as problem, _sigterm_interrupts():
        if problem:
            write(f"[gameday] {problem}")
            return 1
        view.start()
        try:
            scenario.run()
        finally:
            view.stop()
            for line in view.lines():
                write(line)
    write_report(scenario, settings.report_dir, write)
    return scenario.exit_code()


@contextlib.contextmanager
def _subjects(cluster: Any, settings: Any, run: Any, profile: Any, scenario: Any, phases: Any) -> Iterator[str]:
    """Every ``--target`` (found, never changed), else the sample echo app, Cluster and Local, in a namespace of
    this run (deleted afterwards). Yields '' or why a subject cannot be observed (nothing is injected then)."""
    from ..apps.app import AppError
    from ..wellknown import RUN_ID_LABEL
    from .subjects import run_namespace, sample_subjects, target_subject

    if settings.targets:
        try:
            subjects = [target_subject(cluster, t, profile, progress=run.progress) for t in settings.targets]
        except AppError as e:
            yield f"a target cannot be observed, so nothing was injected: {e}"
            return
        _add(scenario, subjects, phases)
        yield ""
        return
    with run_namespace(cluster, settings.namespace_prefix, run.run_id, dict(settings.namespace_labels)) as namespace:
        try:
            subjects = sample_subjects(cluster, namespace, profile, labels={RUN_ID_LABEL: run.run_id},
                                       progress=run.progress, images=settings.images)
        except AppError as e:
            yield f"the sample app is not ready, so nothing was injected: {e}"
            return
        _add(scenario, subjects, phases)
        yield ""


def _add(scenario: Any, subjects: list[Any], phases: Any) -> None:
    for subject in subjects:
        subject.evidence.phases = phases.phases  # one fault: its phases in every subject's evidence
        scenario.add(subject)


@contextlib.contextmanager
def _sigterm_interrupts() -> Iterator[None]:
    """SIGTERM unwinds like Ctrl-C, so the fault is undone."""
    def handler(signum: int, frame: Any) -> None:
        raise KeyboardInterrupt("SIGTERM")

    try:
        previous = signal.signal(signal.SIGTERM, handler)
    except ValueError:  # not the main thread
        yield
        return
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def write_report(scenario: Any, report_dir: Path, write: Callable[[str], None]) -> Path:
    """The verdict table on the terminal, every failure's evidence, and the HTML/JSON report."""
    import time

    from ..report.html import render

    rows = [(r.check_id, s.label, r.verdict, r.summary) for s, r in scenario.results()]
    rows += [(k.check_id, s.label, "not applicable", k.reason) for s in scenario.observed for k in s.skipped]
    width = max([len(r[1]) for r in rows] + [6])
    write("")
    write(f"{'check':<13} {'target':<{width}} {'verdict':<14} summary")
    for check_id, label, verdict, summary in rows:
        write(f"{check_id:<13} {label:<{width}} {verdict:<14} {summary}")
    for s, r in scenario.results():
        if r.verdict != "passed":
            write("")
            write(f"{s.label}: {r.message()}")
    evidences = []
    for s in scenario.observed:
        s.evidence.finished = time.time()
        s.evidence.outcome = {0: "passed", 1: "failed", 3: "skipped"}[_code({r.verdict for r in s.results})]
        s.evidence.write_json(report_dir)
        evidences.append(s.evidence.to_dict())
    report_dir.mkdir(parents=True, exist_ok=True)
    path = report_dir / "index.html"
    path.write_text(render(evidences, title=f"pytest-azchaos game day: {scenario.fault} {scenario.zone}"))
    write(f"[gameday] report: {path}")
    return path


def _code(verdicts: set[str]) -> int:
    return 1 if "failed" in verdicts else 3 if "inconclusive" in verdicts else 0
