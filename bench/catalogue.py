"""Benchmark: the whole catalogue under the ``realistic`` profile on the embedded cluster, wall time with one
fault per test ("before") and with the faults shared (``--azchaos-share-faults``, "after").

Run: ``.venv/bin/python bench/catalogue.py [--mode before|after|both] [-n 2] [--out DIR]``.
Target (issue 16): the catalogue under ``realistic`` in at most 15 minutes once faults are shared.

Method: ``pytest suites -n N --azchaos-profile realistic`` (plus ``--azchaos-share-faults`` for "after") in a
subprocess, each mode on its own fresh embedded cluster (the plugin starts one per worker), the clock around
the whole subprocess. Printed per mode: wall time, tests passed/failed/skipped, the faults injected (phases
named drain/outage/partition/cordon/kill in the evidence JSON) and the ten slowest tests from the JUnit XML.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ET
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
FAULT_WORDS = ("drain", "outage", "partition", "cordon", "kill", "shift")


def run(mode: str, workers: int, out: Path) -> dict[str, object]:
    report = out / f"report-{mode}"
    junit = out / f"junit-{mode}.xml"
    cmd = [sys.executable, "-m", "pytest", "suites", "-n", str(workers), "-p", "no:cacheprovider", "-q",
           "--azchaos-profile", "realistic", "--azchaos-report-dir", str(report), f"--junitxml={junit}"]
    if mode == "after":
        cmd.append("--azchaos-share-faults")
    started = time.monotonic()
    proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True)
    wall = time.monotonic() - started
    tests = ET.parse(junit).getroot().iter("testcase") if junit.exists() else iter(())
    durations = []
    outcome = {"passed": 0, "failed": 0, "skipped": 0}
    for case in tests:
        kind = ("failed" if case.find("failure") is not None or case.find("error") is not None
                else "skipped" if case.find("skipped") is not None else "passed")
        outcome[kind] += 1
        durations.append((float(case.get("time", 0)), f"{case.get('classname')}::{case.get('name')}"))
    faults = 0
    for path in report.glob("*.json"):
        for phase in json.loads(path.read_text()).get("phases", []):
            faults += phase["name"].split(" ", 1)[0] in FAULT_WORDS
    return {"mode": mode, "wall_s": round(wall, 1), "rc": proc.returncode, **outcome, "faults": faults,
            "slowest": sorted(durations, reverse=True)[:10], "tail": proc.stdout.splitlines()[-3:]}


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--mode", choices=("before", "after", "both"), default="both")
    p.add_argument("-n", type=int, default=2, help="pytest-xdist workers (default 2, as CI)")
    p.add_argument("--out", type=Path, default=None, help="where reports go (default: a temporary directory)")
    args = p.parse_args()
    out = args.out or Path(tempfile.mkdtemp(prefix="azchaos-bench-catalogue-"))
    out.mkdir(parents=True, exist_ok=True)
    modes = ["before", "after"] if args.mode == "both" else [args.mode]
    results = []
    for mode in modes:
        r = run(mode, args.n, out)
        results.append(r)
        print(f"{mode}: {r['wall_s']:.0f} s wall ({r['wall_s'] / 60:.1f} min), rc {r['rc']}, "
              f"{r['passed']} passed, {r['failed']} failed, {r['skipped']} skipped, {r['faults']} faults injected")
        for seconds, name in r["slowest"]:  # type: ignore[attr-defined]
            print(f"    {seconds:7.1f} s  {name}")
        for line in r["tail"]:  # type: ignore[attr-defined]
            print(f"    | {line}")
    if len(results) == 2:
        before, after = (float(r["wall_s"]) for r in results)  # type: ignore[arg-type]
        print(f"fault sharing: {before / 60:.1f} min -> {after / 60:.1f} min ({after / before:.0%}); target <= 15 min")
    print(f"reports in {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
