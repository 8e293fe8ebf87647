"""Who gets which loopback address.

Each cluster owns a block of 127.0.0.0/8 so that two clusters on one machine never share an
address: nodes, ClusterIPs and load balancers live in ``127.<block>.0.0/16`` and pods in
``127.<block+1>.0.0/16``. On Linux the whole 127/8 answers locally without configuration.
"""

from __future__ import annotations

import errno
import ipaddress
import random
import socket
from collections.abc import Collection
from dataclasses import dataclass


@dataclass(frozen=True)
class AddressPlan:
    block: int

    def node(self, index: int) -> str:
        return f"127.{self.block}.{1 + index // 250}.{index % 250 + 1}"

    @property
    def service_cidr(self) -> str:
        return f"127.{self.block}.96.0/20"

    def load_balancer(self, index: int) -> str:
        return f"127.{self.block}.{200 + index // 250}.{index % 250 + 1}"

    def pod(self, index: int) -> str:
        return str(ipaddress.ip_address(f"127.{self.block + 1}.0.0") + 1 + index)

    @property
    def api_host(self) -> str:
        return f"127.{self.block}.0.1"


def loopback_usable(host: str) -> bool:
    """Whether we can bind ``host`` (Linux answers all of 127/8; macOS only 127.0.0.1 by default)."""
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
            s.bind((host, 0))
        return True
    except OSError as e:
        if e.errno in (errno.EADDRNOTAVAIL,):
            return False
        raise


def _block_free(block: int) -> bool:
    """A block is taken while another cluster holds its API address's marker port."""
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            s.bind((f"127.{block}.0.1", 6443))
        return True
    except OSError:
        return False


#: The cluster process's exit code when one of its addresses is taken: two clusters starting at the same moment can
#: both find a block free before either binds it; the loser exits with this and its starter picks another block.
ADDRESS_IN_USE_EXIT = 98


def choose_block(seed: int | None = None, exclude: Collection[int] = ()) -> int:
    """A free even block in 10..248, not in ``exclude`` (the API server binds 127.<block>.0.1:6443 while it runs)."""
    rng = random.Random(seed)  # None: seeded from the OS, so concurrent starters rarely try the same order
    candidates = [b for b in range(10, 250, 2) if b not in exclude]
    rng.shuffle(candidates)
    for block in candidates:
        if _block_free(block):
            return block
    raise RuntimeError("no free loopback block for an embedded cluster (is 127.0.0.0/8 usable here?)")
