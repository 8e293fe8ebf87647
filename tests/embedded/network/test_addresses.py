"""Loopback blocks: two clusters starting at once never end up sharing one."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from pytest_azchaos.embedded.network.addresses import ADDRESS_IN_USE_EXIT, choose_block
from pytest_azchaos.embedded.topology import Topology


@pytest.fixture
def held_api_address() -> Iterator[int]:
    """A block whose API address another process already listens on (the loser's view of a start race)."""
    block = choose_block()
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((f"127.{block}.0.1", 6443))
        s.listen()
        yield block


def test_choose_block_skips_excluded_and_taken_blocks(held_api_address: int) -> None:
    excluded = set(range(10, 240, 2))
    block = choose_block(exclude=excluded)
    assert block not in excluded
    assert block != held_api_address
    free = choose_block(exclude={held_api_address})  # not a fixed block: other workers' clusters hold some
    assert choose_block(exclude=set(range(10, 250, 2)) - {held_api_address, free}) == free


def test_a_cluster_whose_address_is_taken_exits_with_the_retry_code(held_api_address: int, tmp_path: Path) -> None:
    run = subprocess.run([sys.executable, "-m", "pytest_azchaos.embedded", "serve", "--topology",
                          json.dumps(Topology().to_dict()), "--block", str(held_api_address),
                          "--ready-file", str(tmp_path / "ready")],
                         capture_output=True, text=True, timeout=120)
    assert run.returncode == ADDRESS_IN_USE_EXIT, run.stderr[-3000:]
    assert "choose another loopback block" in run.stderr
    assert not (tmp_path / "ready").exists()
