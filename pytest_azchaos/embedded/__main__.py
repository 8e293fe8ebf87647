"""``python -m pytest_azchaos.embedded serve ...``: the cluster process's entry point."""

from __future__ import annotations

import argparse
import errno
import json
import os
import signal
import sys
import threading
import time
from pathlib import Path

from ..timing import DEFAULT_PROFILE, NAMES
from .cluster import serve
from .images.mirror import SPEC_FORMAT, MirrorSpecError, RegistryMirror
from .network.addresses import ADDRESS_IN_USE_EXIT
from .topology import Topology


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(prog="python -m pytest_azchaos.embedded")
    sub = p.add_subparsers(dest="cmd", required=True)
    s = sub.add_parser("serve", help="run an embedded cluster in the foreground")
    s.add_argument("--topology", required=True, help="JSON of the topology")
    s.add_argument("--block", type=int, required=True, help="loopback block (127.<block>.0.0/16)")
    s.add_argument("--ready-file", required=True, type=Path, help="written with the URL once serving")
    s.add_argument("--port", type=int, default=6443)
    s.add_argument("--profile", choices=NAMES, default=DEFAULT_PROFILE, help="timing profile")
    s.add_argument("--registry-mirror", action="append", default=[], metavar=SPEC_FORMAT,
                   help="serve the built-in images under this registry's names too (repeatable; images.mirror)")
    s.add_argument("--lb-controller", choices=("legacy", "lbc", "auto-mode"), default="legacy",
                   help="who provisions LoadBalancer Services (lbc/)")
    s.add_argument("--exit-with-parent", action="store_true",
                   help="stop (as on SIGTERM) once the process that started this one is gone, e.g. killed -9")
    args = p.parse_args(argv)
    if args.exit_with_parent:
        _watch_parent()
    try:
        mirrors = tuple(RegistryMirror.parse(spec) for spec in args.registry_mirror)
    except MirrorSpecError as e:
        p.error(str(e))
    try:
        serve(Topology.from_dict(json.loads(args.topology)), args.block, args.ready_file, args.port, args.profile,
              mirrors, args.lb_controller)
    except OSError as e:
        if e.errno != errno.EADDRINUSE:
            raise
        print(f"embedded cluster: {e}; the starter will choose another loopback block", file=sys.stderr)
        sys.exit(ADDRESS_IN_USE_EXIT)


def _watch_parent(interval: float = 1.0) -> None:
    """SIGTERM ourselves once reparented: the pytest session or test that owned this cluster died without stopping
    it (kill -9, a crash), and nobody else will."""
    parent = os.getppid()

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(interval)
        print(f"embedded cluster: its owner (pid {parent}) is gone; stopping", file=sys.stderr, flush=True)
        os.kill(os.getpid(), signal.SIGTERM)

    threading.Thread(target=watch, name="parent-watch", daemon=True).start()


if __name__ == "__main__":
    main()
