"""The window a load balancer's configuration implies, and the sample app's preStop and grace derived from it, on
the timing profile's clock (realistic: AWS's seconds as they are)."""

from __future__ import annotations

from pytest_azchaos.apps.echo import EchoSpec, fitted
from pytest_azchaos.aws.lb_config import TargetGroupConfig
from pytest_azchaos.lb.flavours import LbFlavour
from pytest_azchaos.lb.window import LbClock, nominal, window_for
from pytest_azchaos.timing import FAST, REALISTIC


def _tg(target_type: str = "ip", protocol: str = "TCP", interval: float = 10, unhealthy: int = 3,
        delay: str = "300") -> TargetGroupConfig:
    return TargetGroupConfig("arn", "tg", target_type, 8080, protocol, "traffic-port", None, interval, 10, 3,
                             unhealthy, {"deregistration_delay.timeout_seconds": delay})


def test_realistic_clock_is_aws_seconds() -> None:
    assert LbClock.of(REALISTIC).identity
    assert not LbClock.of(FAST).identity


def test_ip_targets_need_the_deregistration_propagation_not_the_health_check() -> None:
    w = window_for(_tg("ip"), "Cluster", LbClock.of(REALISTIC))
    assert w.required_serving == 120 + 2 * REALISTIC.endpoint_propagation_delay
    assert w.detection == 30 and w.recommended_prestop == 123


def test_ip_targets_never_need_more_than_the_deregistration_delay() -> None:
    assert window_for(_tg("ip", delay="30"), "Local", LbClock.of(REALISTIC)).aws_required_serving == 30 + 2


def test_instance_local_needs_the_health_check_detection() -> None:
    w = window_for(_tg("instance", "HTTP", 10, 2), "Local", LbClock.of(REALISTIC))
    assert w.aws_detection == 20 and w.required_serving == 22


def test_instance_cluster_needs_only_propagation_but_the_app_sleeps_through_detection() -> None:
    w = window_for(_tg("instance", "TCP", 30, 3), "Cluster", LbClock.of(REALISTIC))
    assert w.required_serving == 2 and w.recommended_prestop == 93


def test_fast_profile_runs_the_same_configuration_on_its_clock() -> None:
    w = window_for(_tg("instance", "TCP", 30, 3), "Cluster", LbClock.of(FAST))
    assert w.aws_detection == 90 and w.detection == FAST.nlb_cluster_interval * 3
    assert any("runs them at" in n for n in w.notes)


def test_sample_app_prestop_and_grace_follow_the_flavour() -> None:
    legacy = fitted(EchoSpec(), REALISTIC)
    ip = fitted(EchoSpec(lb=LbFlavour("lbc-ip")), REALISTIC)
    assert legacy.prestop_sleep == nominal("instance", "Cluster", REALISTIC).recommended_prestop == 93
    assert ip.prestop_sleep == 123 and ip.grace_seconds is not None and ip.grace_seconds >= 123 + ip.delay_shutdown
    # the grace period covers preStop and the shutdown after SIGTERM (the kubelet kills at its end)
    assert legacy.grace_seconds is not None and legacy.grace_seconds >= 93 + legacy.delay_shutdown
    assert fitted(EchoSpec(), FAST).grace_seconds == 30  # fast: short sleeps, the API's default grace suffices


def test_lbc_target_groups_run_on_the_profiles_lbc_clock() -> None:
    tg = _tg("ip", "TCP", 10, 3)
    fast = window_for(tg, "Cluster", LbClock.of(FAST), "lbc")
    assert fast.detection == 10 * (FAST.lbc_health_check_interval / REALISTIC.lbc_health_check_interval) * 3
    # new connections after deregistration: the profile's own figure, never past the delay on its clock
    assert fast.required_serving == min(FAST.nlb_deregistration_new_connections, FAST.nlb_deregistration_delay) + \
        2 * FAST.endpoint_propagation_delay
    assert window_for(tg, "Cluster", LbClock.of(REALISTIC), "lbc").detection == 30


def test_lbc_instance_sample_app_sleeps_through_the_lbcs_shorter_detection() -> None:
    assert fitted(EchoSpec(lb=LbFlavour("lbc-instance")), REALISTIC).prestop_sleep == 33
