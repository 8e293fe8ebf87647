"""Issue 12's drain negative control through the plugin, as a user runs it: the session cluster started with the
AWS Load Balancer Controller (``--azchaos-embedded-lb-controller lbc``), the sample app with ip targets
(``--azchaos-lb lbc-ip``) but no preStop and no delay after SIGTERM. The NLB keeps sending new connections to the
drained pods after deregistration, so AZ-DRAIN fails showing the failure window and AZ-LBCONF names the preStop."""

from __future__ import annotations

import pytest

pytest_plugins = ["pytester"]

TEST = '''
import pytest

from pytest_azchaos.apps import EchoSpec
from pytest_azchaos.checks.downtime import zero_downtime
from pytest_azchaos.checks.lb_config import lb_config_of_app
from pytest_azchaos.traffic.window import fault_window, settle


@pytest.mark.azchaos_destructive
def test_drain_ip_targets_without_prestop(azchaos_cluster, azchaos_deploy, azchaos_traffic, azchaos_chaos,
                                          azchaos_zone, azchaos_aws, azchaos_profile, azchaos_check):
    app = azchaos_deploy(EchoSpec(prestop_sleep=0, delay_shutdown=0))
    print("LBCONF", lb_config_of_app(app, azchaos_aws, azchaos_profile).message())
    prober = azchaos_traffic.start(app, rate=100)
    settle(1)
    with fault_window(prober) as window:
        azchaos_chaos.drain_zone(azchaos_zone)
    settle(3)
    recording = prober.stop()
    azchaos_check(zero_downtime(recording, 0.0, during=(window[0], None), check_id="AZ-DRAIN"))
'''


def test_ip_targets_without_prestop_fail_az_drain_with_the_window_and_az_lbconf_names_the_prestop(
        pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_drain=TEST)
    result = pytester.runpytest_subprocess("-s", "-p", "no:cacheprovider", "--azchaos-embedded-lb-controller", "lbc",
                                           "--azchaos-lb", "lbc-ip", timeout=600)
    out = result.stdout.str()
    assert "the sample Service asks for lbc-ip (ip targets, internet-facing)" in out
    assert "LBCONF AZ-LBCONF FAILED: the app stops serving 0s after termination starts" in out
    assert "set the preStop sleep to at least" in out
    result.assert_outcomes(failed=1)
    assert "AZ-DRAIN FAILED" in out and "window" in out, out[-3000:]
