"""RBAC proof: the ClusterRole/Role shipped in ci/cronjob/rbac.yaml grant exactly what a run of every suite
in suites/ and an ``azchaos restore`` after a killed run use, namespace by namespace, and nothing more.

What was used comes from the embedded API server's own audit (``/azchaos/v1/audit``: verb, apiGroup,
resource[/subresource], namespace of every resource request it served). Its controllers and kubelets run
in-process, so the audit holds only what our clients asked for. A ClusterRole rule covers every namespace and
cluster-scoped requests; a Role rule covers its own namespace only. A use in a namespace that has a Role
(kube-system: the run ledger and the lock) must be granted there, unless the ClusterRole grants it anyway
for the per-test namespaces; a ClusterRole rule used only inside such a namespace is over-broad.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests
import yaml

from pytest_azchaos.chaos.ledger import CORDONED_BY
from pytest_azchaos.embedded.process import ClusterHandle
from pytest_azchaos.embedded.topology import Topology

from .. import clusters

ROOT = Path(__file__).resolve().parents[2]
RBAC = ROOT / "ci" / "cronjob" / "rbac.yaml"
CRONJOB = ROOT / "ci" / "cronjob" / "cronjob.yaml"
SUITES = ROOT / "suites"
RESTORE = "azchaos restore"

Use = tuple[str, str, str, str]  # (verb, apiGroup, resource[/sub], namespace; "" = cluster-scoped/all namespaces)
Rule = tuple[str, str, str]  # (verb, apiGroup, resource[/sub])

# Loaded into the suite run (-p rbac_audit): takes the audit around every test, so each use is attributed to
# the suite that made it ("session" for what happens outside tests), and records every item's outcome.
AUDIT_PLUGIN = '''
import json, os, urllib.request
import pytest

URL, OUT = os.environ["RBAC_AUDIT_URL"], os.environ["RBAC_AUDIT_OUT"]
used, outcomes = {}, {}


def take(who):
    with urllib.request.urlopen(urllib.request.Request(URL, method="DELETE"), timeout=30) as r:
        for i in json.load(r)["items"]:
            used.setdefault(json.dumps([i["verb"], i["apiGroup"], i["resource"], i["namespace"]]), set()).add(who)


def pytest_collection_finish(session):
    outcomes.update({item.nodeid: "not run" for item in session.items})


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_protocol(item, nextitem):
    take("session")
    yield
    take(item.nodeid.split("::")[0])


def pytest_runtest_logreport(report):
    if report.failed or (report.when == "call" and report.passed) or report.skipped:
        if outcomes.get(report.nodeid) in (None, "not run", "passed"):
            outcomes[report.nodeid] = report.outcome


@pytest.hookimpl(trylast=True)
def pytest_unconfigure(config):
    take("session")
    with open(OUT, "w") as f:
        json.dump({"used": {k: sorted(v) for k, v in used.items()}, "outcomes": outcomes}, f)
'''


@dataclass(frozen=True)
class Grants:
    """What rbac.yaml grants the CronJob's ServiceAccount: cluster-wide rules and per-namespace Role rules."""

    cluster: frozenset[Rule]
    roles: frozenset[Use]

    @property
    def role_namespaces(self) -> set[str]:
        return {ns for *_, ns in self.roles}

    def covers(self, use: Use) -> bool:
        verb, group, resource, ns = use
        return (verb, group, resource) in self.cluster or (bool(ns) and use in self.roles)

    def needed(self, uses: set[Use]) -> Grants:
        """The least grants covering ``uses``: cluster-wide what is used cluster-scoped or in a namespace
        without a Role (the per-test ones); in a Role what is used only in its namespace."""
        cluster = {(v, g, r) for v, g, r, ns in uses if not ns or ns not in self.role_namespaces}
        roles = {(v, g, r, ns) for v, g, r, ns in uses if ns in self.role_namespaces and (v, g, r) not in cluster}
        return Grants(frozenset(cluster), frozenset(roles))


def service_account() -> tuple[str, str]:
    """(namespace, name) of the ServiceAccount the CronJob runs as."""
    job = yaml.safe_load(CRONJOB.read_text())
    return job["metadata"]["namespace"], job["spec"]["jobTemplate"]["spec"]["template"]["spec"]["serviceAccountName"]


def shipped_grants() -> Grants:
    """Rules of the roles in rbac.yaml that a binding there gives the CronJob's ServiceAccount."""
    docs = [d for d in yaml.safe_load_all(RBAC.read_text()) if d]
    sa_ns, sa = service_account()
    bound = {(d["roleRef"]["kind"], d["roleRef"]["name"], d["metadata"].get("namespace", ""))
             for d in docs if d["kind"] in ("ClusterRoleBinding", "RoleBinding")
             and {"kind": "ServiceAccount", "name": sa, "namespace": sa_ns} in d["subjects"]}
    cluster: set[Rule] = set()
    roles: set[Use] = set()
    for d in docs:
        if d["kind"] not in ("ClusterRole", "Role"):
            continue
        ns = d["metadata"].get("namespace", "")
        if (d["kind"], d["metadata"]["name"], ns) not in bound:
            continue
        for rule in d["rules"]:
            assert not {"resourceNames", "nonResourceURLs"} & set(rule), f"this proof cannot check {rule}"
            rules = {(v, g, r) for v in rule["verbs"] for g in rule["apiGroups"] for r in rule["resources"]}
            assert not any("*" in x for x in rules), f"{RBAC.name}: no wildcards in a least-privilege role: {rule}"
            if d["kind"] == "ClusterRole":
                cluster |= rules
            else:
                roles |= {(v, g, r, ns) for v, g, r in rules}
    return Grants(frozenset(cluster), frozenset(roles))


def show(grants: Grants, users: dict[Use, set[str]]) -> str:
    """One line per rule with who used it."""
    lines = []
    for rule in sorted(grants.cluster):
        who = sorted({u for use, us in users.items() if use[:3] == rule for u in us})
        lines.append(f"  {rule[0]} {rule[1] or 'core'}/{rule[2]} (ClusterRole){_by(who)}")
    for v, g, r, ns in sorted(grants.roles):
        lines.append(f"  {v} {g or 'core'}/{r} in {ns} (Role){_by(sorted(users.get((v, g, r, ns), ())))}")
    return "\n".join(lines) or "  none"


def _by(who: list[str]) -> str:
    return f"  <- {', '.join(who)}" if who else ""


def mismatch(uses: dict[Use, set[str]], grants: Grants, *, exact: bool) -> str:
    """'' when ``grants`` cover ``uses`` (and, when ``exact``, grant nothing else); else what to change."""
    need = grants.needed(set(uses))
    if exact:
        missing = Grants(need.cluster - grants.cluster, need.roles - grants.roles)
        unused = Grants(grants.cluster - need.cluster, grants.roles - need.roles)
    else:
        lacking = grants.needed({u for u in uses if not grants.covers(u)})
        missing, unused = lacking, Grants(frozenset(), frozenset())
    if not (missing.cluster or missing.roles or unused.cluster or unused.roles):
        return ""
    return (f"{RBAC.relative_to(ROOT)} does not match what the run used.\nmissing:\n{show(missing, uses)}\n"
            f"granted but unused (or broader than needed):\n{show(unused, uses)}")


def audit_take(url: str) -> set[Use]:
    """Read and clear the API server's audit."""
    resp = requests.delete(url + "/azchaos/v1/audit", timeout=30)
    resp.raise_for_status()
    return {(i["verb"], i["apiGroup"], i["resource"], i["namespace"]) for i in resp.json()["items"]}


def clean_env(**extra: str) -> dict[str, str]:
    """This environment without the outer pytest's variables (xdist worker, addopts), plus ``extra``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST_")}
    return {**env, **extra}


def pytest_args(cluster: ClusterHandle, report: Path) -> list[str]:
    """Options a run against the dedicated cluster needs (its kubeconfig declares the fast timing profile, as
    any kubeconfig may: pytest_azchaos.kube.kubeconfig)."""
    return ["-p", "no:cacheprovider", "--azchaos-kubeconfig", str(cluster.kubeconfig),
            "--azchaos-report-dir", str(report)]


@dataclass
class SuiteRun:
    uses: dict[Use, set[str]]
    outcomes: dict[str, str]
    output: str


@dataclass
class RestoreRun:
    uses: dict[Use, set[str]]
    result: subprocess.CompletedProcess[str]
    left_cordoned: list[str]
    still_cordoned: list[str]


@pytest.fixture(scope="module")
def rbac_cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ClusterHandle]:
    # node groups with room for the Cluster Autoscaler, so AZ-CAPACITY is judged (and its reads audited) too
    with clusters.own_cluster(tmp_path_factory.mktemp("rbac"), topology=Topology.make(max_nodes_per_zone=4)) as handle:
        yield handle


@pytest.fixture(scope="module")
def suite_run(rbac_cluster: ClusterHandle, tmp_path_factory: pytest.TempPathFactory) -> SuiteRun:
    """Every suite, serially (they fault the whole cluster, so two at once would disturb each other)."""
    work = tmp_path_factory.mktemp("suites")
    (work / "rbac_audit.py").write_text(AUDIT_PLUGIN)
    out = work / "audit.json"
    audit_take(rbac_cluster.url)
    env = clean_env(PYTHONPATH=os.pathsep.join(filter(None, [str(work), os.environ.get("PYTHONPATH")])),
                    RBAC_AUDIT_URL=rbac_cluster.url + "/azchaos/v1/audit", RBAC_AUDIT_OUT=str(out))
    proc = subprocess.run([sys.executable, "-m", "pytest", str(SUITES), "-p", "rbac_audit", "-q",
                           *pytest_args(rbac_cluster, work / "report")],
                          cwd=work, env=env, capture_output=True, text=True, timeout=420)
    output = proc.stdout + proc.stderr
    assert out.is_file(), f"the suite run wrote no audit (exit {proc.returncode}):\n{output[-4000:]}"
    data = json.loads(out.read_text())
    uses = {tuple(json.loads(k)): set(v) for k, v in data["used"].items()}
    return SuiteRun(uses, data["outcomes"], output)  # type: ignore[arg-type]


def cordoned_by_anyone(url: str) -> list[str]:
    nodes = requests.get(url + "/api/v1/nodes", timeout=10).json()["items"]
    return sorted(n["metadata"]["name"] for n in nodes if CORDONED_BY in n["metadata"].get("annotations", {}))


@pytest.fixture(scope="module")
def restore_run(rbac_cluster: ClusterHandle, tmp_path_factory: pytest.TempPathFactory) -> RestoreRun:
    """A drain suite killed with SIGKILL mid-drain (as when the CronJob's pod dies), then ``azchaos restore``
    from another directory: it has only what the run left in the cluster (run object, lock, node annotations)."""
    work = tmp_path_factory.mktemp("killed")
    args = [sys.executable, "-m", "pytest", str(SUITES / "test_az_drain.py"), "-k", "Cluster", "-q",
            *pytest_args(rbac_cluster, work / "report")]
    log = work / "run.log"
    with log.open("w") as out, subprocess.Popen(args, cwd=work, env=clean_env(), stdout=out,
                                                stderr=subprocess.STDOUT, start_new_session=True) as run:
        try:
            deadline = time.monotonic() + 120
            while not (left := cordoned_by_anyone(rbac_cluster.url)):
                assert run.poll() is None, f"the run ended before it cordoned:\n{log.read_text()[-4000:]}"
                assert time.monotonic() < deadline, "the drain suite never cordoned a node"
                time.sleep(0.1)
        finally:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(run.pid, signal.SIGKILL)  # the whole pod: pytest and anything it started
            run.wait(timeout=30)
    ledger_dir = tmp_path_factory.mktemp("sre")
    audit_take(rbac_cluster.url)
    result = subprocess.run([sys.executable, "-m", "pytest_azchaos.cli", "restore", "--kubeconfig",
                             str(rbac_cluster.kubeconfig)], cwd=ledger_dir, env=clean_env(), capture_output=True,
                            text=True, timeout=120)
    uses = {use: {RESTORE} for use in audit_take(rbac_cluster.url)}
    return RestoreRun(uses, result, left, cordoned_by_anyone(rbac_cluster.url))


def test_audit_records_verb_resource_subresource_and_namespace(api_url: str):
    audit_take(api_url)
    requests.get(api_url + "/api/v1/nodes", timeout=10)
    requests.get(api_url + "/api/v1/pods", timeout=10)
    requests.get(api_url + "/api/v1/namespaces/default/pods?watch=1&timeoutSeconds=1", timeout=10)
    requests.post(api_url + "/api/v1/namespaces/default/pods/nope/eviction", json={
        "apiVersion": "policy/v1", "kind": "Eviction", "metadata": {"name": "nope"}}, timeout=10)
    requests.get(api_url + "/apis/coordination.k8s.io/v1/namespaces/kube-system/leases/nope", timeout=10)
    assert {("list", "", "nodes", ""), ("list", "", "pods", ""), ("watch", "", "pods", "default"),
            ("create", "", "pods/eviction", "default"),
            ("get", "coordination.k8s.io", "leases", "kube-system")} <= audit_take(api_url)
    assert audit_take(api_url) == set()  # the DELETE that answered also cleared


def test_exec_over_websocket_is_recorded_as_get_and_create(api_url: str):
    """v1.35+ authorizes create as well for a WebSocket exec (AuthorizePodWebsocketUpgradeCreatePermission)."""
    audit_take(api_url)
    requests.get(api_url + "/api/v1/namespaces/default/pods/nope/exec?command=true&stdout=true", timeout=10)
    assert {("get", "", "pods/exec", "default"), ("create", "", "pods/exec", "default")} <= audit_take(api_url)


def test_a_grant_only_used_in_the_roles_namespace_must_not_be_cluster_wide():
    grants = Grants(frozenset({("patch", "", "configmaps")}), frozenset({("get", "", "pods", "kube-system")}))
    message = mismatch({("patch", "", "configmaps", "kube-system"): {"x"}}, grants, exact=True)
    assert "missing:\n  patch core/configmaps in kube-system (Role)  <- x" in message
    assert "patch core/configmaps (ClusterRole)" in message and "get core/pods in kube-system (Role)" in message


def test_every_suite_passes_against_one_cluster(suite_run: SuiteRun):
    collected = {Path(n.split("::")[0]).name for n in suite_run.outcomes}
    # test_az_shared.py runs only with --azchaos-share-faults (deselected here); it makes the requests of the
    # suites it covers, which run here, and tests/gameday/test_sharing.py runs it.
    shipped = {p.name for p in SUITES.iterdir() if (p.name.startswith("test_") and p.suffix == ".py"
                                                    and p.name != "test_az_shared.py")
               or p.name.endswith(".experiment.yaml")}
    assert collected == shipped, suite_run.output[-4000:]
    failed = {n: o for n, o in suite_run.outcomes.items() if o != "passed"}
    assert not failed, f"{failed}\n{suite_run.output[-6000:]}"


def test_shipped_rbac_grants_everything_the_suites_use(suite_run: SuiteRun):
    assert not (message := mismatch(suite_run.uses, shipped_grants(), exact=False)), message


def test_restore_after_a_killed_run_succeeds_with_the_shipped_rbac(restore_run: RestoreRun):
    result = restore_run.result
    assert restore_run.left_cordoned, "the killed run left nothing to restore"
    assert result.returncode == 0 and "cluster restored" in result.stdout, result.stdout + result.stderr
    assert restore_run.still_cordoned == []
    assert not (message := mismatch(restore_run.uses, shipped_grants(), exact=False)), message


# Grants the suites use on real clusters in an API group the proof's embedded cluster does not serve (its requests
# there answer 404 and are not audited): AZ-ADDONS lists the webhook configurations (EKS always serves them), and
# on Karpenter clusters the outage fences the NodePools.
# Excused as unused only while the proof's cluster does not serve the group; once it does, the audit must show them.
UNSERVED_HERE: dict[str, frozenset[Rule]] = {
    "admissionregistration.k8s.io/v1": frozenset({
        ("list", "admissionregistration.k8s.io", "mutatingwebhookconfigurations"),
        ("list", "admissionregistration.k8s.io", "validatingwebhookconfigurations")}),
    # Karpenter clusters: the provisioner's detection and the outage's NodePool fence (the proof's default cluster
    # runs node groups, so the group is not served there).
    "karpenter.sh/v1": frozenset({("list", "karpenter.sh", "nodepools"), ("patch", "karpenter.sh", "nodepools")}),
}


def excused(url: str) -> frozenset[Rule]:
    """The ``UNSERVED_HERE`` grants whose group the cluster at ``url`` does not serve."""
    out: set[Rule] = set()
    for group_version, rules in UNSERVED_HERE.items():
        if requests.get(f"{url}/apis/{group_version}", timeout=10).status_code == 404:
            out |= rules
    return frozenset(out)


def test_shipped_rbac_grants_nothing_the_suites_and_restore_do_not_use(suite_run: SuiteRun,
                                                                       restore_run: RestoreRun,
                                                                       rbac_cluster: ClusterHandle):
    uses = dict(suite_run.uses)
    for use, who in restore_run.uses.items():
        uses[use] = uses.get(use, set()) | who
    shipped = shipped_grants()
    unserved = excused(rbac_cluster.url)
    assert unserved <= shipped.cluster, "an excused grant is no longer in rbac.yaml: drop it from UNSERVED_HERE"
    grants = Grants(shipped.cluster - unserved, shipped.roles)
    assert not (message := mismatch(uses, grants, exact=True)), message
