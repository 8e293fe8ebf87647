"""Running the shipped suites in a pytest of their own, as CI's whole-suite tests do, keeping what explains a failure.

The inner run's embedded clusters log to ``<basetemp>/.../kubeconfig.log``; a basetemp under the test's own
``tmp_path`` keeps those logs (pytest's default basetemp is rotated away by later runs), and a failed run's
message carries their warnings: a relay that failed, a controller sync that raised, a load balancer not made.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SUITES = ROOT / "suites"
#: Lines of an embedded cluster's log worth showing with a failed run (logging's level names, and tracebacks).
NOTEWORTHY = ("WARNING", "ERROR", "CRITICAL", "Traceback", "Error:")


@dataclass
class SuiteRun:
    """One inner pytest run of suites: its process and where its embedded clusters logged."""

    process: subprocess.CompletedProcess[str]
    basetemp: Path

    @property
    def tail(self) -> str:
        return self.process.stdout[-6000:]

    @property
    def last_line(self) -> str:
        lines = self.tail.splitlines()
        return lines[-1] if lines else ""

    def explained(self) -> str:
        """The run's output tail, its stderr tail and its clusters' noteworthy log lines (for an assert message)."""
        return f"{self.tail}{self.process.stderr[-2000:]}{cluster_warnings(self.basetemp)}"


def cluster_warnings(basetemp: Path, limit: int = 40) -> str:
    """The noteworthy lines of every embedded-cluster log under ``basetemp``, the last ``limit`` of each."""
    out = []
    for log in sorted(basetemp.rglob("kubeconfig.log")):
        lines = [ln for ln in log.read_text(errors="replace").splitlines() if any(w in ln for w in NOTEWORTHY)]
        if lines:
            out.append(f"\n--- {log} ({len(lines)} noteworthy line(s), last {min(limit, len(lines))}):\n"
                       + "\n".join(lines[-limit:]))
    return "".join(out) or f"\n(no warning in the embedded clusters' logs under {basetemp})"


def run_suites(suites: Sequence[str], options: Sequence[str], tmp_path: Path, *, timeout: float,
               env: Mapping[str, str] | None = None) -> SuiteRun:
    """``pytest <suites> <options>`` from the repository's root (every suite when ``suites`` is empty), reports and
    basetemp under ``tmp_path``."""
    basetemp = tmp_path / "basetemp"
    targets = [str(SUITES / s) for s in suites] or [str(SUITES)]
    process = subprocess.run([sys.executable, "-m", "pytest", *targets,
                              "-q", "-p", "no:cacheprovider", "-rs", *options,
                              "--azchaos-report-dir", str(tmp_path / "report"), "--basetemp", str(basetemp)],
                             cwd=ROOT, env=dict(env) if env is not None else dict(os.environ), capture_output=True,
                             text=True, timeout=timeout)
    return SuiteRun(process, basetemp)
