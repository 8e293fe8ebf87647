"""AZ-LBCONF: the shutdown an NLB's configuration needs, judged against the app's; and its negative control on the
embedded cluster (a preStop shorter than the window fails, naming the preStop it needs)."""

from __future__ import annotations

import pytest

from pytest_azchaos.apps import EchoSpec
from pytest_azchaos.aws.lb_config import LbConfig, TargetGroupConfig
from pytest_azchaos.checks import CheckFailed
from pytest_azchaos.checks.lb_config import lb_config_check, lb_config_of_app
from pytest_azchaos.lb.service import Shutdown
from pytest_azchaos.lb.window import LbClock
from pytest_azchaos.timing import REALISTIC

from ..docs.capture import capture_failure

AWS = LbClock.of(REALISTIC)  # AWS's seconds as they are


def _config(target_type: str = "ip", cross_zone: bool = False, scheme: str = "internet-facing",
            termination: str = "true") -> LbConfig:
    tg = TargetGroupConfig("arn:tg", "k8s-shop-echo-0123456789", target_type, 8080, "TCP", "traffic-port", None,
                           10, 10, 3, 3, {"deregistration_delay.timeout_seconds": "300",
                                          "target_health_state.unhealthy.connection_termination.enabled": termination})
    return LbConfig("arn:lb", "k8s-shop-echo", "k8s-shop-echo.elb.amazonaws.com", scheme, cross_zone,
                    ("us-east-1a", "us-east-1b"), (tg,))


def test_ip_targets_with_a_short_prestop_fail_naming_prestop_grace_and_the_time_saved() -> None:
    result = lb_config_check(_config("ip"), Shutdown(15, 5, 30), "Cluster", AWS, readiness_gates=[])
    assert not result.passed
    text = result.message()
    assert "AZ-LBCONF FAILED: the app stops serving 20s after termination starts, but its load balancer keeps " \
           "sending new connections for 122s" in text
    assert "set the preStop sleep to at least 123s" in text and "terminationGracePeriodSeconds to at least 1" in text
    assert "saves up to 102.0s of failed new connections" in text
    assert "readiness gates" in text  # advice: ip targets and no gate found on the pods
    assert result.figures["short_by_s"] == 102


def test_grace_period_cuts_a_long_prestop() -> None:
    result = lb_config_check(_config("ip"), Shutdown(180, 5, 30), "Cluster", AWS)
    assert not result.passed and result.figures["serving_s"] == 30


def test_ip_targets_with_sleep_180_grace_200_pass() -> None:  # EKS Best Practices' figures
    result = lb_config_check(_config("ip"), Shutdown(180, 0, 200), "Cluster", AWS, readiness_gates=["g"])
    assert result.passed, result.message()
    assert "readiness gates" not in result.message()


def test_advice_names_cross_zone_termination_and_scheme_without_failing() -> None:
    result = lb_config_check(_config("instance", scheme="internal"), Shutdown(30, 5, 60), "Cluster", AWS)
    assert result.passed
    text = result.message()
    assert "cross-zone load balancing is off" in text and "connection_termination.enabled=true" in text
    assert "scheme internal" in text


@pytest.mark.azchaos_check("AZ-LBCONF")
def test_negative_control_prestop_shorter_than_the_window_fails_naming_the_prestop_it_needs(
        azchaos_deploy, azchaos_aws, azchaos_profile, azchaos_check):
    app = azchaos_deploy(EchoSpec(traffic_policy="Local", prestop_sleep=1, delay_shutdown=0, replicas=3))
    with pytest.raises(CheckFailed, match=r"AZ-LBCONF FAILED: the app stops serving 1s after termination starts") as e:
        azchaos_check(lb_config_of_app(app, azchaos_aws, azchaos_profile))
    text = str(e.value)
    needed = azchaos_profile.nlb_local_interval * azchaos_profile.nlb_local_unhealthy_threshold
    assert f"for {needed + 2 * azchaos_profile.endpoint_propagation_delay:g}s" in text
    assert "set the preStop sleep to at least" in text and "lifecycle.preStop.sleep.seconds" in text
    capture_failure("AZ-LBCONF", e.value)


def test_internal_nlb_with_client_ip_preservation_warns_of_hairpin_timeouts() -> None:
    result = lb_config_check(_config("instance", scheme="internal"), Shutdown(30, 5, 60), "Cluster", AWS)
    assert "do not support hairpinning" in result.message()
    assert "hairpinning" not in lb_config_check(_config("instance"), Shutdown(30, 5, 60), "Cluster", AWS).message()


def test_a_target_groups_own_cross_zone_attribute_overrides_the_load_balancers() -> None:
    config = _config("instance")
    tg = config.target_groups[0]
    on = TargetGroupConfig(tg.arn, tg.name, tg.target_type, tg.port, tg.health_protocol, tg.health_port, None,
                           tg.interval, tg.timeout, tg.healthy_threshold, tg.unhealthy_threshold,
                           {**tg.attributes, "load_balancing.cross_zone.enabled": "true"})
    with_override = LbConfig(config.arn, config.name, config.dns_name, config.scheme, False, config.zones, (on,))
    assert "cross-zone load balancing is off" in lb_config_check(config, Shutdown(30, 5, 60), "Cluster", AWS).message()
    assert "cross-zone load balancing is off" not in lb_config_check(with_override, Shutdown(30, 5, 60), "Cluster",
                                                                     AWS).message()
