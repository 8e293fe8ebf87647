"""``python -m pytest_azchaos.embedded serve ...``: the cluster process's entry point."""

from __future__ import annotations

import argparse
import errno
import json
import sys
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
    args = p.parse_args(argv)
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


if __name__ == "__main__":
    main()
