"""Bad input (issue 17): every row of the README's "Bad input" table, run for real.

The README is the source of truth for the messages: each row's "what you see" code spans (split at "…")
must appear in what the user really sees, and a row without a case here (or a case without a row) fails.
Each case runs the real thing: pytest with the plugin in a subprocess, the ``azchaos`` CLI, or a
chaostoolkit action as chaoslib calls it; inputs that reach a cluster reach one of this module's own,
which must look the same before and after (nodes' cordon, annotations and taints, namespaces, the lock
Lease, the run ConfigMaps, the EC2 instances' states).

Rows with an open problem have a second test, ``test_open_problem``, strict-xfail with the problem as its
reason: it asserts what the user should get, so fixing the plugin turns it into an XPASS failure that asks
for the row to be updated.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import yaml
from kubernetes import client

from pytest_azchaos.aws import AwsContext
from pytest_azchaos.embedded.process import ClusterHandle
from pytest_azchaos.kube.cluster import Cluster
from pytest_azchaos.wellknown import aws_settings_path

from . import clusters
from .clusters import own_cluster

README = Path(__file__).resolve().parents[1] / "README.md"
MANAGED = "app.kubernetes.io/managed-by=pytest-azchaos"

# The tiny test file every pytest case runs (one test chosen with -k).
TINY = '''
import pytest


def test_cluster(azchaos_cluster):
    assert azchaos_cluster.nodes_by_zone()


@pytest.mark.azchaos_destructive
def test_cordon(azchaos_chaos, azchaos_zone):
    azchaos_chaos.cordon_zone(azchaos_zone)


@pytest.mark.azchaos_destructive
def test_outage(azchaos_chaos, azchaos_zone, azchaos_aws):
    azchaos_chaos.zone_outage(azchaos_zone, azchaos_aws)


def test_target(azchaos_app):
    assert azchaos_app.addresses
'''

# A chaostoolkit action called as chaoslib calls it (keyword arguments, configuration), then the run ended.
CTK = '''
import json, sys
from pytest_azchaos.ctk import actions
from pytest_azchaos.ctk.context import finish, run_id_of

kwargs = json.loads(sys.argv[2])
try:
    getattr(actions, sys.argv[1])(**kwargs)
except Exception as e:
    print(f"{type(e).__name__}: {e}", file=sys.stderr)
    sys.exit(1)
finally:
    finish(run_id_of(kwargs.get("configuration")))
'''


@dataclass(frozen=True)
class Case:
    """How to run one README row. ``how``: pytest (args after the test file), cli (azchaos args) or ctk
    (action, configuration and arguments). ``files``: what the case's directory holds (see ``_write``).
    ``problem``: the open problem of the row, with ``should``, the check of what the user should get."""

    id: str
    input: str  # the README row's first cell, verbatim
    how: str
    args: tuple[str, ...] = ()
    files: tuple[str, ...] = ()
    ctk: dict[str, Any] = field(default_factory=dict)
    unchanged: bool = True  # the cluster must look the same afterwards (False only for a problem row)
    problem: str = ""
    should: Callable[[Result], None] | None = None


@dataclass
class Result:
    rc: int
    output: str
    before: dict[str, Any]
    after: dict[str, Any]


def _says(*words: str) -> Callable[[Result], None]:
    def check(result: Result) -> None:
        for word in words:
            assert word in result.output, f"the message does not say {word!r}"
    return check


def _never_says(*words: str) -> Callable[[Result], None]:
    def check(result: Result) -> None:
        for word in words:
            assert word not in result.output, f"the message still says {word!r}"
    return check


def _exits(rc: int) -> Callable[[Result], None]:
    def check(result: Result) -> None:
        assert result.rc == rc
    return check


def _refuses(result: Result) -> None:
    assert result.rc != 0, "the run succeeded"


def _touches_nothing(result: Result) -> None:
    assert result.before == result.after


def _all(*checks: Callable[[Result], None]) -> Callable[[Result], None]:
    def check(result: Result) -> None:
        for c in checks:
            c(result)
    return check


def _pytest(id: str, input: str, *args: str, files: tuple[str, ...] = (), **kw: Any) -> Case:
    return Case(id, input, "pytest", args, files, **kw)


CASES: tuple[Case, ...] = (
    # ---- options
    _pytest("profile", "`--azchaos-profile slow`", "--azchaos-profile", "slow"),
    _pytest("error-budget-word", "`--azchaos-error-budget lots`", "--azchaos-error-budget", "lots"),
    _pytest("error-budget-one", "`--azchaos-error-budget 1`", "--azchaos-error-budget", "1"),
    _pytest("rate-zero", "`--azchaos-rate 0`", "--azchaos-rate", "0"),
    _pytest("embedded-lb-controller", "`--azchaos-embedded-lb-controller nginx`", "--azchaos-embedded-lb-controller",
            "nginx"),
    _pytest("embedded-provisioner", "`--azchaos-embedded-provisioner cas`", "--azchaos-embedded-provisioner",
            "cas"),
    _pytest("embedded-auto-mode-lb", "`--azchaos-embedded-provisioner auto-mode --azchaos-embedded-lb-controller "
            "lbc`", "--azchaos-embedded-provisioner", "auto-mode", "--azchaos-embedded-lb-controller", "lbc"),
    _pytest("embedded-node-group-room", "`--azchaos-embedded-node-group-room two`",
            "--azchaos-embedded-node-group-room", "two"),
    _pytest("embedded-node-groups", "`--azchaos-embedded-node-groups zonal`", "--azchaos-embedded-node-groups",
            "zonal"),
    _pytest("seed", "`--azchaos-seed x`", "--azchaos-seed", "x"),
    _pytest("docs-url", "`--azchaos-docs-url docs.example.com`", "--azchaos-docs-url", "docs.example.com"),
    _pytest("namespace-prefix", "`--azchaos-namespace-prefix BAD_`", "--azchaos-namespace-prefix", "BAD_"),
    _pytest("namespace-label", "`--azchaos-namespace-label enforce:restricted`", "--azchaos-namespace-label",
            "enforce:restricted"),
    _pytest("image-uppercase", "`--azchaos-image Agnhost:2.52`", "--azchaos-image", "Agnhost:2.52"),
    _pytest("image-digest", "`--azchaos-image agnhost@sha256:abc`", "--azchaos-image", "agnhost@sha256:abc"),
    _pytest("image-repo-list-missing", "`--azchaos-image-repo-list nope.yaml` (no such file)",
            "--azchaos-image-repo-list", "nope.yaml"),
    _pytest("image-repo-list-not-yaml", "repo list that is not YAML (`promoterE2eRegistry: [oops`)",
            "--azchaos-image-repo-list", "bad-list.yaml", files=("text:bad-list.yaml:promoterE2eRegistry: [oops\n",)),
    _pytest("image-repo-list-unknown-key", "repo list with the key `promoterE2ERegistry` (a typo)",
            "--azchaos-image-repo-list", "typo-list.yaml",
            files=("text:typo-list.yaml:promoterE2ERegistry: mirror.example.com/e2e-test-images\n",)),
    _pytest("image-pull-secret", "`--azchaos-image-pull-secret RegCred`", "--azchaos-image-pull-secret", "RegCred"),
    _pytest("allow-context-regex", "`--azchaos-allow-context '['`", "--azchaos-allow-context", "["),
    _pytest("allow-context-empty", "`--azchaos-allow-context ''` (e.g. an unset CI variable), destructive test on "
            "context `staging`", "--azchaos-kubeconfig", "staging.yaml", "--azchaos-context", "staging",
            "--azchaos-allow-context", "", "-k", "test_cordon", files=("staging.yaml",)),
    _pytest("ini-rate", "ini key `azchaos_rate = fast`", files=("pytest.ini",)),
    _pytest("cluster-choice", "`--azchaos-cluster bogus`", "--azchaos-cluster", "bogus"),
    _pytest("lb-choice", "`--azchaos-lb nlb`", "--azchaos-lb", "nlb"),
    _pytest("lb-scheme", "`--azchaos-lb-scheme public`", "--azchaos-lb-scheme", "public"),
    _pytest("lb-controller-missing", "`--azchaos-lb lbc-ip` on a cluster without the AWS Load Balancer Controller",
            "--azchaos-kubeconfig", "kubeconfig", "--azchaos-lb", "lbc-ip", "-k", "test_target", files=("kubeconfig",)),
    _pytest("cluster-in-cluster-outside-a-pod", "`--azchaos-cluster in-cluster` outside a pod", "--azchaos-cluster",
            "in-cluster"),
    _pytest("cluster-kubeconfig-without-one", "`--azchaos-cluster kubeconfig` without `--azchaos-kubeconfig`",
            "--azchaos-cluster", "kubeconfig"),
    _pytest("cluster-embedded-with-kubeconfig", "`--azchaos-cluster embedded --azchaos-kubeconfig kubeconfig`",
            "--azchaos-cluster", "embedded", "--azchaos-kubeconfig", "kubeconfig", files=("kubeconfig",)),
    # ---- targets (--azchaos-target)
    _pytest("target-kind", "`--azchaos-target deploy/shop/checkout`", "--azchaos-target", "deploy/shop/checkout"),
    _pytest("target-status", "`--azchaos-target deployment/shop/checkout,status=ok`", "--azchaos-target",
            "deployment/shop/checkout,status=ok"),
    _pytest("target-ca-missing", "`--azchaos-target deployment/shop/checkout,scheme=https,ca=missing.pem`",
            "--azchaos-target", "deployment/shop/checkout,scheme=https,ca=missing.pem"),
    _pytest("target-not-found", "`--azchaos-target deployment/shop/nosuch` (no such Deployment)",
            "--azchaos-kubeconfig", "kubeconfig", "--azchaos-target", "deployment/shop/nosuch", "-k", "test_target",
            files=("kubeconfig",)),
    # ---- kubeconfigs
    _pytest("kubeconfig-missing", "`--azchaos-kubeconfig nope.yaml` (no such file)",
            "--azchaos-kubeconfig", "nope.yaml"),
    _pytest("kubeconfig-directory", "`--azchaos-kubeconfig kubeconfigs` (a directory)",
            "--azchaos-kubeconfig", "kubeconfigs", files=("kubeconfigs/",)),
    _pytest("kubeconfig-not-yaml", "kubeconfig that is not YAML (`not: [a kubeconfig`)",
            "--azchaos-kubeconfig", "broken.yaml", "-k", "test_cluster", files=("broken.yaml",)),
    _pytest("kubeconfig-not-a-kubeconfig", "kubeconfig that is YAML but not a kubeconfig (`hello: world`)",
            "--azchaos-kubeconfig", "hello.yaml", "-k", "test_cluster", files=("hello.yaml",)),
    _pytest("kubeconfig-yaml-list", "kubeconfig that is a YAML list (`- 1`)",
            "--azchaos-kubeconfig", "list.yaml", "-k", "test_cluster", files=("list.yaml",)),
    _pytest("kubeconfig-unreachable", "kubeconfig whose server does not answer",
            "--azchaos-kubeconfig", "down.yaml", "-k", "test_cluster", files=("down.yaml",)),
    _pytest("timing-profile", "kubeconfig context declaring timing profile `turbo`",
            "--azchaos-kubeconfig", "turbo.yaml", "-k", "test_cluster", files=("turbo.yaml",)),
    _pytest("timing-profile-overridden", "the same, with `--azchaos-profile fast` as the message says",
            "--azchaos-kubeconfig", "turbo.yaml", "--azchaos-profile", "fast", "-k", "test_cluster",
            files=("turbo.yaml",)),
    # ---- contexts
    _pytest("context-unknown", "`--azchaos-context prod` (not in the kubeconfig)",
            "--azchaos-kubeconfig", "kubeconfig", "--azchaos-context", "prod", "-k", "test_cluster",
            files=("kubeconfig",)),
    _pytest("context-not-allowed", "destructive test on context `staging` (not allowed)",
            "--azchaos-kubeconfig", "staging.yaml", "--azchaos-context", "staging", "-k", "test_cordon",
            files=("staging.yaml",)),
    # ---- zones
    _pytest("zone-unknown", "`--azchaos-zone eu-west-9z`", "--azchaos-kubeconfig", "kubeconfig",
            "--azchaos-zone", "eu-west-9z", "-k", "test_cordon", files=("kubeconfig",)),
    _pytest("zone-unknown-dry-run", "`--azchaos-zone eu-west-9z --azchaos-dry-run`",
            "--azchaos-kubeconfig", "kubeconfig", "--azchaos-zone", "eu-west-9z", "--azchaos-dry-run", "-rs",
            "-k", "test_cordon", files=("kubeconfig",)),
    # ---- AWS settings (<kubeconfig>.aws.json next to the cluster's kubeconfig)
    _pytest("aws-region-unknown", "`<kubeconfig>.aws.json` with region `mars-north-1`",
            "--azchaos-kubeconfig", "aws/kubeconfig", "-rs", "-k", "test_outage",
            files=("aws/kubeconfig", 'aws.json:{"AWS_DEFAULT_REGION": "mars-north-1"}')),
    _pytest("aws-region-other", "`<kubeconfig>.aws.json` with region `eu-west-1` (the cluster is in us-east-1)",
            "--azchaos-kubeconfig", "aws/kubeconfig", "-k", "test_outage",
            files=("aws/kubeconfig", 'aws.json:{"AWS_DEFAULT_REGION": "eu-west-1"}')),
    _pytest("aws-endpoint-unreachable", "`<kubeconfig>.aws.json` with an endpoint that does not answer",
            "--azchaos-kubeconfig", "aws/kubeconfig", "-rs", "-k", "test_outage",
            files=("aws/kubeconfig", 'aws.json:{"AWS_ENDPOINT_URL": "http://127.0.0.1:9"}')),
    _pytest("aws-settings-not-json", "`<kubeconfig>.aws.json` that is not JSON",
            "--azchaos-kubeconfig", "aws/kubeconfig", "-rs", "-k", "test_outage",
            files=("aws/kubeconfig", "aws.json!{oops")),
    _pytest("aws-no-credentials", "`<kubeconfig>.aws.json` without keys (and none in the environment)",
            "--azchaos-kubeconfig", "aws/kubeconfig", "-rs", "-k", "test_outage",
            files=("aws/kubeconfig", 'aws.json:{"AWS_ACCESS_KEY_ID": "", "AWS_SECRET_ACCESS_KEY": ""}')),
    # ---- the azchaos CLI
    Case("restore-kubeconfig-missing", "`azchaos restore --kubeconfig nope.yaml`", "cli",
         ("restore", "--kubeconfig", "nope.yaml")),
    Case("restore-context-unknown", "`azchaos restore --kubeconfig kubeconfig --context prod`", "cli",
         ("restore", "--kubeconfig", "kubeconfig", "--context", "prod"), ("kubeconfig",)),
    Case("restore-not-a-kubeconfig", "`azchaos restore --kubeconfig broken.yaml` (not YAML)", "cli",
         ("restore", "--kubeconfig", "broken.yaml"), ("broken.yaml",)),
    Case("gameday-zone-unknown", "`azchaos gameday --kubeconfig kubeconfig --fault drain --zone eu-west-9z`", "cli",
         ("gameday", "--kubeconfig", "kubeconfig", "--fault", "drain", "--zone", "eu-west-9z"), ("kubeconfig",)),
    Case("gameday-context-not-allowed", "`azchaos gameday --kubeconfig staging.yaml --context staging --fault drain`",
         "cli", ("gameday", "--kubeconfig", "staging.yaml", "--context", "staging", "--fault", "drain"),
         ("staging.yaml",)),
    Case("gameday-shift-no-aws", "`azchaos gameday --kubeconfig kubeconfig --fault shift` (no AWS access)", "cli",
         ("gameday", "--kubeconfig", "kubeconfig", "--fault", "shift"), ("kubeconfig",)),
    Case("gameday-rate", "`azchaos gameday --kubeconfig kubeconfig --fault drain --rate 0`", "cli",
         ("gameday", "--kubeconfig", "kubeconfig", "--fault", "drain", "--rate", "0"), ("kubeconfig",)),
    Case("gameday-suspend-processes-unknown",
         "`azchaos gameday --kubeconfig kubeconfig --fault outage --suspend-processes Lunch`", "cli",
         ("gameday", "--kubeconfig", "kubeconfig", "--fault", "outage", "--suspend-processes", "Lunch"),
         ("kubeconfig",)),
    Case("api-faults-fraction", "`azchaos local api-faults --error500 2`", "cli",
         ("local", "api-faults", "--kubeconfig", "{kubeconfig}", "--error500", "2")),
    Case("api-faults-filter-only", "`azchaos local api-faults --seed 3` (no fault)", "cli",
         ("local", "api-faults", "--kubeconfig", "{kubeconfig}", "--seed", "3")),
    Case("node-unknown", "`azchaos local node stop nosuch`", "cli",
         ("local", "node", "stop", "nosuch", "--kubeconfig", "{kubeconfig}")),
    Case("local-up-zones", "`azchaos local up --zones 0`", "cli",
         ("local", "up", "--zones", "0", "--kubeconfig", "never/kubeconfig")),
    Case("local-up-registry-mirror", "`azchaos local up --registry-mirror mirror/k8s`", "cli",
         ("local", "up", "--registry-mirror", "mirror/k8s", "--kubeconfig", "never/kubeconfig")),
    # ---- chaostoolkit actions (pytest_azchaos.ctk.actions)
    Case("ctk-zone-unknown", "chaostoolkit `cordon_zone` with `zone: eu-west-9z`", "ctk", files=("kubeconfig",),
         ctk={"action": "cordon_zone", "zone": "eu-west-9z", "configuration": {"kubeconfig_path": "kubeconfig"}}),
    Case("ctk-context-not-allowed", "chaostoolkit `cordon_zone` with `kubernetes_context: staging` (not allowed)",
         "ctk", files=("staging.yaml",),
         ctk={"action": "cordon_zone", "zone": "auto",
              "configuration": {"kubeconfig_path": "staging.yaml", "kubernetes_context": "staging"}}),
    Case("ctk-context-unknown", "chaostoolkit `cordon_zone` with `kubernetes_context: prod` (not in the kubeconfig)",
         "ctk", files=("kubeconfig",),
         ctk={"action": "cordon_zone", "zone": "us-east-1a",
              "configuration": {"kubeconfig_path": "kubeconfig", "kubernetes_context": "prod"}}),
    Case("ctk-kubeconfig-missing", "chaostoolkit `cordon_zone` with `kubeconfig_path: nope.yaml`", "ctk",
         ctk={"action": "cordon_zone", "zone": "auto", "configuration": {"kubeconfig_path": "nope.yaml"}}),
)
BY_ID = {c.id: c for c in CASES}


# ---------------------------------------------------------------------- the README table


def _cell_fragments(cell: str) -> list[str]:
    """The text of the code spans of a README cell, split at '…' (what the output must contain)."""
    spans = [m.group(2).strip() for m in re.finditer(r"(`+)(.+?)\1", cell)]
    return [" ".join(part.split()) for span in spans for part in span.split("…") if part.strip()]


def readme_rows() -> dict[str, tuple[int, list[str]]]:
    """input cell -> (exit status, message fragments) of its "what you see" cell ("exit N: `message`"), from
    the README's "Bad input" table."""
    text = README.read_text()
    section = re.search(r"^### Bad input\n(.*?)(?=^#)", text, re.S | re.M)
    assert section, "README.md has no '### Bad input' section"
    rows: dict[str, tuple[int, list[str]]] = {}
    for line in section.group(1).splitlines():
        if not line.startswith("| ") or line.startswith("| input ") or set(line) <= set("|- "):
            continue
        cells = [c.strip() for c in re.split(r"(?<!\\)\|", line.strip())[1:-1]]
        assert len(cells) == 3, f"a Bad input row needs 3 cells: {line}"
        assert cells[0] not in rows, f"two rows for {cells[0]}"
        status = re.match(r"exit (\d+)\b", cells[1])
        assert status, f"the row {cells[0]} does not start with its exit status ('exit N')"
        rows[cells[0]] = (int(status.group(1)), _cell_fragments(cells[1]))
        assert rows[cells[0]][1], f"the row {cells[0]} quotes no message"
    return rows


def test_every_readme_row_has_a_case_and_every_case_a_row() -> None:
    rows = readme_rows()
    assert len(rows) >= 15
    assert sorted(rows) == sorted(c.input for c in CASES)


# ---------------------------------------------------------------------- the cluster


@pytest.fixture(scope="module")
def handle(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ClusterHandle]:
    with own_cluster(tmp_path_factory.mktemp("bad-input")) as h:
        yield h


@pytest.fixture(scope="module")
def cluster(handle: ClusterHandle) -> Iterator[Cluster]:
    with clusters.plugin_cluster(handle) as c:
        yield c


@pytest.fixture(scope="module")
def ec2(handle: ClusterHandle) -> Any:
    return AwsContext.for_kubeconfig(handle.kubeconfig).ec2


def snapshot(cluster: Cluster, ec2: Any) -> dict[str, Any]:
    """What a bad input must not change: nodes' cordon, annotations and taints, the namespaces, the lock
    Lease, the run ConfigMaps, and the EC2 instances' states."""
    nodes = {n.metadata.name: {"unschedulable": bool(n.spec.unschedulable),
                               "annotations": dict(n.metadata.annotations or {}),
                               "taints": sorted(t.key for t in n.spec.taints or [])}
             for n in cluster.core.list_node().items}
    try:
        lease = client.CoordinationV1Api(cluster.api).read_namespaced_lease("azchaos-lock", "kube-system")
        lock: Any = {"resourceVersion": lease.metadata.resource_version, "holder": lease.spec.holder_identity}
    except client.ApiException as e:
        lock = e.status
    runs = {m.metadata.name: m.metadata.resource_version
            for m in cluster.core.list_namespaced_config_map("kube-system", label_selector=MANAGED).items}
    instances = {i["InstanceId"]: i["State"]["Name"]
                 for r in ec2.describe_instances()["Reservations"] for i in r["Instances"]}
    return {"nodes": nodes, "namespaces": sorted(n.metadata.name for n in cluster.core.list_namespace().items),
            "lock": lock, "runs": runs, "instances": instances}


# ---------------------------------------------------------------------- running a case


def _write(directory: Path, spec: str, kubeconfig: Path) -> None:
    """One file of a case's directory (relative paths, so the messages read as in the README)."""
    doc = yaml.safe_load(kubeconfig.read_text())
    if spec == "kubeconfig":
        shutil.copy(kubeconfig, directory / "kubeconfig")
    elif spec == "kubeconfigs/":
        (directory / "kubeconfigs").mkdir()
    elif spec == "broken.yaml":
        (directory / spec).write_text("not: [a kubeconfig\n")
    elif spec == "hello.yaml":
        (directory / spec).write_text("hello: world\n")
    elif spec == "list.yaml":
        (directory / spec).write_text("- 1\n")
    elif spec == "down.yaml":
        doc["clusters"][0]["cluster"]["server"] = "http://127.0.0.1:9"
        (directory / spec).write_text(yaml.safe_dump(doc))
    elif spec == "turbo.yaml":
        doc["contexts"][0]["context"]["extensions"][0]["extension"]["profile"] = "turbo"
        (directory / spec).write_text(yaml.safe_dump(doc))
    elif spec == "staging.yaml":
        doc["contexts"].append({"name": "staging", "context": dict(doc["contexts"][0]["context"], extensions=[])})
        (directory / spec).write_text(yaml.safe_dump(doc))
    elif spec == "pytest.ini":
        (directory / spec).write_text("[pytest]\nazchaos_rate = fast\n")
    elif spec == "aws/kubeconfig":
        (directory / "aws").mkdir()
        shutil.copy(kubeconfig, directory / "aws" / "kubeconfig")
    elif spec.startswith("aws.json:"):  # the cluster's AWS settings with these changed
        settings = json.loads(aws_settings_path(kubeconfig).read_text()) | json.loads(spec.split(":", 1)[1])
        aws_settings_path(directory / "aws" / "kubeconfig").write_text(json.dumps(settings))
    elif spec.startswith("aws.json!"):  # these bytes instead
        aws_settings_path(directory / "aws" / "kubeconfig").write_text(spec.split("!", 1)[1])
    elif spec.startswith("text:"):  # text:NAME:CONTENT, a file of its own
        _, name, content = spec.split(":", 2)
        (directory / name).write_text(content)
    else:
        raise AssertionError(f"unknown case file {spec}")


def _env() -> dict[str, str]:
    """This environment without anything that would point a run elsewhere (AWS, kubeconfig, pytest)."""
    return {k: v for k, v in os.environ.items()
            if not k.startswith(("AWS_", "PYTEST_", "KUBE")) and k != "KUBECONFIG"}


def _command(case: Case, directory: Path, kubeconfig: Path) -> list[str]:
    if case.how == "pytest":
        (directory / "test_tiny.py").write_text(TINY)
        return [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q", "test_tiny.py", *case.args]
    if case.how == "cli":
        return [sys.executable, "-m", "pytest_azchaos.cli",
                *(a.replace("{kubeconfig}", str(kubeconfig)) for a in case.args)]
    arguments = {k: v for k, v in case.ctk.items() if k != "action"}
    return [sys.executable, "-c", CTK, case.ctk["action"], json.dumps(arguments)]


_RESULTS: dict[str, Result] = {}


def run_case(case: Case, directory: Path, handle: ClusterHandle, cluster: Cluster, ec2: Any) -> Result:
    """Run ``case`` once (its result is kept for ``test_open_problem``), snapshotting the cluster around it."""
    if case.id in _RESULTS:
        return _RESULTS[case.id]
    for spec in case.files:
        _write(directory, spec, handle.kubeconfig)
    before = snapshot(cluster, ec2)
    done = subprocess.run(_command(case, directory, handle.kubeconfig), cwd=directory, env=_env(),
                          capture_output=True, text=True, timeout=60)
    result = _RESULTS[case.id] = Result(done.returncode, " ".join((done.stdout + done.stderr).split()),
                                        before, snapshot(cluster, ec2))
    return result


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_bad_input(case: Case, tmp_path: Path, handle: ClusterHandle, cluster: Cluster, ec2: Any) -> None:
    """What the README row says is what the user sees, with its exit status; nothing in the cluster changed
    (except where the row's open problem is that something does: see ``test_open_problem``)."""
    status, fragments = readme_rows()[case.input]
    result = run_case(case, tmp_path, handle, cluster, ec2)
    for fragment in fragments:
        assert fragment in result.output, f"README says {fragment!r}; the output was:\n{result.output[-3000:]}"
    assert result.rc == status, f"README says exit {status}; the output was:\n{result.output[-3000:]}"
    if case.unchanged:
        assert result.after == result.before


PROBLEMS = [pytest.param(c, id=c.id, marks=pytest.mark.xfail(strict=True, reason=c.problem))
            for c in CASES if c.problem]


if PROBLEMS:  # every problem the table found so far is fixed; a new one gets `problem=` and `should=`

    @pytest.mark.parametrize("case", PROBLEMS)
    def test_open_problem(case: Case, tmp_path: Path, handle: ClusterHandle, cluster: Cluster, ec2: Any) -> None:
        """What the user should get for a row with an open problem (strict xfail until the plugin is fixed)."""
        assert case.should is not None
        case.should(run_case(case, tmp_path, handle, cluster, ec2))
