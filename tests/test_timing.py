"""The timing profiles: realistic carries the upstream/AWS defaults, fast scales the durations down."""

from __future__ import annotations

import dataclasses

import pytest

from pytest_azchaos.timing import FAST, REALISTIC, SOURCES, Profile

# Values fixed by upstream code and AWS defaults (facts §C4, §E1, §E3).
UPSTREAM = {
    "node_lease_duration": 40.0,
    "node_lease_renew_interval": 10.0,
    "node_monitor_period": 5.0,
    "node_monitor_grace_period": 50.0,
    "default_not_ready_toleration_seconds": 300,
    "default_unreachable_toleration_seconds": 300,
    "endpoint_propagation_delay": 1.0,
    "nlb_cluster_interval": 30.0,
    "nlb_cluster_healthy_threshold": 3,
    "nlb_cluster_unhealthy_threshold": 3,
    "nlb_local_interval": 10.0,
    "nlb_local_healthy_threshold": 2,
    "nlb_local_unhealthy_threshold": 2,
    "nlb_deregistration_delay": 300.0,
    "max_wait_for_unmount": 360.0,
    "node_eviction_rate": 0.1,
}
# Values that come from the pod spec or are counts, not waits: the same in both profiles.
UNSCALED = {"unhealthy_zone_threshold", "large_cluster_size_threshold", "nlb_cluster_healthy_threshold",
            "nlb_cluster_unhealthy_threshold", "nlb_local_healthy_threshold", "nlb_local_unhealthy_threshold",
            "node_eviction_period", "attach_detach_reconcile_period"}


def test_by_name_returns_each_profile() -> None:
    assert Profile.by_name("fast") is FAST
    assert Profile.by_name("realistic") is REALISTIC


def test_unknown_profile_names_the_choices() -> None:
    with pytest.raises(ValueError, match="unknown timing profile 'slow'; choose one of: fast, realistic"):
        Profile.by_name("slow")


@pytest.mark.parametrize("field,value", sorted(UPSTREAM.items()))
def test_realistic_matches_upstream_default(field: str, value: float) -> None:
    assert getattr(REALISTIC, field) == value


def test_fast_waits_are_shorter_than_realistic() -> None:
    for f in dataclasses.fields(Profile):
        if f.name in ("name", "app_node_loss_toleration") or f.name in UNSCALED or f.name.startswith("default_"):
            continue
        fast, real = getattr(FAST, f.name), getattr(REALISTIC, f.name)
        if f.name.endswith("_rate"):
            assert fast > real, f.name
        else:
            assert fast < real, f.name


def test_only_fast_shortens_the_sample_apps_node_loss_toleration() -> None:
    assert FAST.app_node_loss_toleration == 2
    assert REALISTIC.app_node_loss_toleration is None  # the API server's default 300 s stays


@pytest.mark.parametrize("profile", [FAST, REALISTIC], ids=lambda p: p.name)
def test_wait_budgets_cover_what_the_cluster_takes(profile: Profile) -> None:
    assert profile.lb_ready_timeout > profile.lb_healthy_after(local=False)
    assert profile.volume_wait_timeout >= profile.scheduler_unschedulable_retry
    assert profile.drain_timeout > profile.drain_evict_retry * 3
    assert profile.zone_return_timeout > profile.node_startup_grace_period


def test_fast_keeps_pod_spec_defaults_and_thresholds() -> None:
    for name in UNSCALED - {"node_eviction_period", "attach_detach_reconcile_period"}:
        assert getattr(FAST, name) == getattr(REALISTIC, name), name
    assert FAST.default_unreachable_toleration_seconds == 300
    assert FAST.default_not_ready_toleration_seconds == 300


def test_fast_heartbeat_loss_is_seen_within_five_seconds() -> None:
    assert FAST.heartbeat_loss_detection() == 4.5
    assert REALISTIC.heartbeat_loss_detection() == 55.0


def test_lease_renewal_is_well_inside_the_grace_period() -> None:
    for p in (FAST, REALISTIC):
        assert p.node_lease_renew_interval * 3 < p.node_monitor_grace_period


def test_lb_figures_derive_from_interval_and_thresholds() -> None:
    assert REALISTIC.lb_unhealthy_after(local=True) == 20.0
    assert REALISTIC.lb_unhealthy_after(local=False) == 90.0
    assert REALISTIC.lb_healthy_after(local=False) == 90.0


def test_taint_eviction_time_adds_the_toleration() -> None:
    assert REALISTIC.taint_eviction_after() == pytest.approx(55.0 + 0.1 + 300)
    assert FAST.taint_eviction_after(1) == pytest.approx(4.5 + 0.1 + 1)


def test_every_setting_documents_its_source() -> None:
    names = {f.name for f in dataclasses.fields(Profile)} - {"name"}
    assert names == set(SOURCES)


def test_describe_lists_every_setting_with_both_values() -> None:
    table = FAST.describe()
    lines = table.splitlines()
    assert lines[0].split()[:3] == ["setting", "fast", "realistic"]
    grace = next(line for line in lines if line.startswith("node_monitor_grace_period "))
    assert grace.split()[1:3] == ["4", "50"]
    assert "v1.32" in grace
    assert len(lines) == len(SOURCES) + 1


def test_profiles_are_frozen() -> None:
    with pytest.raises(dataclasses.FrozenInstanceError):
        FAST.node_monitor_grace_period = 1.0  # type: ignore[misc]
