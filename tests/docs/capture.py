"""The failure output each check page shows, captured from its negative control rather than typed by hand.

A negative control calls ``capture_failure(check_id, failure)`` with the failed ``CheckResult`` (or the
``CheckFailed`` it raised). The message is normalised (run ids, namespaces, pod names, addresses, ports, times,
request counts become placeholders) and then:

- normally, compared with ``docs/checks/_captured/<ID>.txt``: a message whose wording or shape changed fails
  the test, naming the command that rewrites the snippet; figures that differ from run to run (how many
  requests failed, how long a window lasted) are compared as ``#``, and runs of lines of one shape as one, so
  the comparison does not flake on a loaded machine;
- with ``AZCHAOS_DOCS_CAPTURE=1``, the snippet is rewritten from this run.

``python -m tests.docs.capture [pytest args]`` runs every test that calls ``capture_failure`` with the variable
set (the regeneration command). The check pages include the snippets (pymdownx.snippets), and
``tests/docs/test_site.py`` fails when a check id has no snippet.
"""

from __future__ import annotations

import ast
import os
import re
import subprocess
import sys
from pathlib import Path

from pytest_azchaos.checks.result import CheckResult

ROOT = Path(__file__).resolve().parents[2]
CAPTURED = ROOT / "docs" / "checks" / "_captured"
ENV = "AZCHAOS_DOCS_CAPTURE"
REGENERATE = ".venv/bin/python -m tests.docs.capture"

# Order matters: whole names before the numbers inside them.
_RULES: tuple[tuple[str, str], ...] = (
    (r"azchaos-\d{8}-\d{6}-[0-9a-f]{6}", "<run-id>"),
    (r"\bazchaos-[0-9a-f]{6}-[0-9a-f]{5}\b", "<namespace>"),
    (r"\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b", "<uid>"),
    (r"\bi-[0-9a-f]{8,17}\b", "i-<instance>"),
    (r"\bvol-[0-9a-f]{8,17}\b", "vol-<volume>"),
    (r"\bpvc-[0-9a-z-]{8,}\b", "pvc-<volume>"),
    (r"\bacl-[0-9a-f]{8,17}\b", "acl-<acl>"),
    (r"\bsubnet-[0-9a-f]{8,17}\b", "subnet-<subnet>"),
    (r"\bt-[0-9a-f]{10}\b", "<namespace>"),  # tests/conftest.py's namespaces
    (r"\b([a-z][a-z0-9-]*?)-[0-9a-z]{8,10}-[0-9a-z]{5}\b", r"\1-<pod>"),  # Deployment pods: <rs hash>-<suffix>
    (r"\b(replicaset/[a-z][a-z0-9-]*?)-[bcdfghjklmnpqrstvwxz2456789]{8,10}\b", r"\1-<hash>"),
    (r"\b([a-z][a-z0-9-]*?)-[bcdfghjklmnpqrstvwxz2456789]{5}\b(?!-)", r"\1-<pod>"),  # generateName suffixes
    (r"\b\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)?", "<time>"),
    (r"\b\d\d:\d\d:\d\d(\.\d+)?\b", "<time>"),
    (r"\b(?:\d{1,3}\.){3}\d{1,3}(:\d+)?\b", "<address>"),
    (r"\b[a-z0-9-]+(\.[a-z0-9-]+)?\.elb\.amazonaws\.com\b", "<nlb-dns-name>"),
    (r"\ba[0-9a-f]{31}\b", "<nlb-name>"),  # the in-tree controller's load-balancer name
    (r"\bk8s-[a-z0-9]+-[a-z0-9]+-[0-9a-f]{10}\b", "<target-group>"),
    (r"\b3\d{4}\b", "<node-port>"),
)


def normalise(text: str) -> str:
    """``text`` with what differs between two runs of the same negative control replaced by placeholders."""
    for pattern, repl in _RULES:
        text = re.sub(pattern, repl, text)
    return "\n".join(line.rstrip() for line in text.strip().splitlines()) + "\n"


def shape(text: str) -> str:
    """What a snippet and a new capture must share, so that a changed message fails but a loaded machine does
    not: the verdict and the first words of the summary, and the kinds of evidence line (their first three
    words), figures as ``#`` and zones as ``<zone>``. Lines that come and go with timing (each event, each failed
    or offending request listed, our own side's stalls, the "... and N more" line) are left out."""
    def words(line: str, n: int) -> str:
        line = re.sub(r"\b[a-z]{2}(-[a-z]+)+-\d[a-z]\b", "<zone>", line)  # which surviving zone comes first varies
        return " ".join(re.sub(r"\d+(\.\d+)?", "#", line).split()[:n])

    head, *rest = text.strip().splitlines()
    kinds = set()
    for line in rest:
        item = line.strip().removeprefix("- ").strip()
        if not item.startswith(("event ", "failed request", "offending request", "own-side", "...")):
            kinds.add(words(item, 3))
    return "\n".join([words(head, 5), *sorted(kinds)])


def message_of(failure: CheckResult | BaseException | str) -> tuple[str, str | None]:
    """The message a user reads and the check id it carries (None for plain text)."""
    value = getattr(failure, "value", failure)  # a pytest.ExceptionInfo
    result = getattr(value, "result", value)
    if isinstance(result, CheckResult):
        return result.message(), result.check_id
    return str(value), None


def snippet_path(check_id: str, name: str = "") -> Path:
    return CAPTURED / (f"{check_id}--{name}.txt" if name else f"{check_id}.txt")


def capture_failure(check_id: str, failure: CheckResult | BaseException | str, name: str = "") -> None:
    """Compare the failure message of ``check_id``'s negative control with its captured snippet (``name``
    tells a second control of one check apart), or rewrite the snippet when ``AZCHAOS_DOCS_CAPTURE=1``."""
    message, carried = message_of(failure)
    assert carried in (None, check_id), f"capture_failure({check_id!r}) was given a result of {carried}"
    assert f"{check_id} " in message, f"not a message of {check_id}:\n{message}"
    text = normalise(message)
    path = snippet_path(check_id, name)
    if os.environ.get(ENV) == "1":
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        return
    rel = path.relative_to(ROOT)
    assert path.is_file(), f"{rel} is missing: capture it with `{REGENERATE}` and commit it"
    stored = path.read_text()
    assert shape(stored) == shape(text), (
        f"{check_id}'s failure message no longer matches {rel} (the page shows it): regenerate with "
        f"`{REGENERATE}` and commit the snippet\n--- {rel}\n{stored}\n--- this run\n{text}")


def capturing_tests() -> list[str]:
    """The node ids of the tests that call ``capture_failure`` (the negative controls the pages show)."""
    found = []
    for path in sorted((ROOT / "tests").rglob("test_*.py")):
        if path.parent == ROOT / "tests" / "docs":
            continue  # the capture's own tests
        source = path.read_text()
        if "capture_failure(" not in source:
            continue
        for node in ast.parse(source).body:
            if isinstance(node, ast.FunctionDef) and node.name.startswith("test") and \
                    "capture_failure(" in (ast.get_source_segment(source, node) or ""):
                found.append(f"{path.relative_to(ROOT)}::{node.name}")
    return found


def main(argv: list[str]) -> int:
    """Run every capturing test with ``AZCHAOS_DOCS_CAPTURE=1``; extra arguments go to pytest."""
    files = capturing_tests()
    env = {**os.environ, ENV: "1"}
    cmd = [sys.executable, "-m", "pytest", *files, "-q", "-p", "no:cacheprovider", *argv]
    print("capturing:", " ".join(cmd[2:]), flush=True)
    before = {p.name: p.read_text() for p in CAPTURED.glob("*.txt")}
    code = subprocess.call(cmd, cwd=ROOT, env=env)
    after = {p.name: p.read_text() for p in CAPTURED.glob("*.txt")}
    changed = sorted(n for n in after if before.get(n) != after[n])
    print(f"{len(changed)} snippet(s) rewritten in {CAPTURED.relative_to(ROOT)}: {', '.join(changed) or 'none'}"
          + ("" if code == 0 else f"; pytest exited {code}: a control that did not fail wrote nothing"))
    return code


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
