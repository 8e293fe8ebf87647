"""Which port stands for cluster DNS's 53: 53 when this process may bind it (decided by trying), else an
unprivileged one; AZCHAOS_EMBEDDED_DNS_PORT overrides (a test aid) and a bad value is refused with the fix."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from pytest_azchaos.embedded.network import dns_port
from pytest_azchaos.embedded.process import ClusterStartError, start_cluster


def test_root_may_bind_port_53_and_an_ordinary_user_below_the_sysctl_may_not() -> None:
    privileged = os.geteuid() != 0 and dns_port.unprivileged_port_start() > 53
    assert dns_port.port_53_bindable() is not privileged, (os.geteuid(), dns_port.unprivileged_port_start())


def test_without_the_variable_the_choice_follows_what_can_be_bound(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(dns_port.PORT_ENV, raising=False)
    expected = 53 if dns_port.port_53_bindable() else dns_port.fallback_port()
    assert dns_port.choose() == expected


def test_the_fallback_is_an_unprivileged_port() -> None:
    assert dns_port.fallback_port() >= max(dns_port.unprivileged_port_start(), 10053)


def test_the_variable_forces_the_port(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(dns_port.PORT_ENV, "10053")
    assert dns_port.choose() == 10053
    monkeypatch.setattr(dns_port, "_chosen", None)  # this process's choice is made once; start afresh
    assert (dns_port.wire_port(53), dns_port.wire_port(8080), dns_port.wire_port(9153)) == (10053, 8080, 9153)


@pytest.mark.parametrize("value", ["dns", "0", "70000"])
def test_a_bad_value_names_the_fix(value: str) -> None:
    with pytest.raises(ValueError, match=f"AZCHAOS_EMBEDDED_DNS_PORT='{value}' is not a port; set it to a port "
                                         "number \\(e.g. 10053"):
        dns_port.parse(value)


def test_start_cluster_refuses_a_bad_value_before_starting_anything(monkeypatch: pytest.MonkeyPatch,
                                                                     tmp_path: Path) -> None:
    monkeypatch.setenv(dns_port.PORT_ENV, "dns")
    with pytest.raises(ClusterStartError, match="AZCHAOS_EMBEDDED_DNS_PORT='dns' is not a port"):
        start_cluster(tmp_path / "kubeconfig")
    assert not list(tmp_path.iterdir()), "nothing written"
