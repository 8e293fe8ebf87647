"""registry.k8s.io/pause: binds nothing, exits 0 on SIGTERM with psignal's line."""

from __future__ import annotations


def test_pause_runs_without_ports(start):
    c = start("registry.k8s.io/pause:3.10")
    assert c.running and c.bound_ports() == []


def test_pause_exits_zero_on_sigterm(start, loop_thread):
    c = start("registry.k8s.io/pause:3.10")
    loop_thread.run(c.signal_term())
    assert loop_thread.run(c.wait()) == 0
    assert c.logs.render() == "Shutting down, got signal: Terminated\n"


def test_pause_sigkill_exits_137(start, loop_thread):
    c = start("registry.k8s.io/pause:3.9")
    loop_thread.run(c.kill())
    assert c.exit_code == 137
