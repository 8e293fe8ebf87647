"""The suites that depend most on the load balancer pass on the flavours other than the default (legacy, which
``test_suites_under_api_faults`` and ``test_rbac`` run fully): drain under traffic (deregistration, readiness
gates), the client's source address (target type, client-IP preservation), the load balancer's configuration
(AZ-LBCONF) and the chaostoolkit experiment (its actions' flavour and resolver), once on an LBC cluster with ip
targets and once on EKS Auto Mode. A representative subset inside CI's time budget; every flavour runs fully with
``./dev suites --azchaos-embedded-lb-controller ... --azchaos-lb ...`` (issue 12)."""

from __future__ import annotations

from pathlib import Path

import pytest

from .suite_runs import run_suites

SUITES = ("test_az_drain.py", "test_az_srcip.py", "test_az_lbconf.py", "az_drain.experiment.yaml")


@pytest.mark.parametrize(("controller", "flavour"), [("lbc", "lbc-ip"), ("auto-mode", "auto-mode")])
def test_load_balancer_suites_pass_on_the_flavour(controller: str, flavour: str, tmp_path: Path) -> None:
    run = run_suites(SUITES, ["-n", "2", "--azchaos-embedded-lb-controller", controller, "--azchaos-lb", flavour],
                     tmp_path, timeout=600)
    tail = run.tail
    assert run.process.returncode == 0, run.explained()
    assert " passed" in run.last_line and "skipped" not in run.last_line, tail  # no verdict skipped as inconclusive
    for check in ("AZ-DRAIN", "AZ-SRCIP", "AZ-LBCONF"):
        assert any(line.startswith(check + " ") and " PASS " in line for line in tail.splitlines()), tail
    reports = "".join(p.read_text(errors="replace") for p in (tmp_path / "report").rglob("*.json"))
    assert f'"lb": "{flavour} (' in reports, f"the experiment's journal does not show the app deployed as {flavour}"
