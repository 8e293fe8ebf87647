"""The ``azchaos`` command: ``local up|down`` for the embedded cluster (more verbs come with the plugin)."""

from __future__ import annotations

import argparse
import signal
import sys
import time
from pathlib import Path

from .embedded.process import DEFAULT_KUBECONFIG, ClusterStartError, start_cluster, stop_cluster
from .embedded.topology import Topology


def _local_up(args: argparse.Namespace) -> int:
    if args.zones < 1 or args.nodes_per_zone < 1:
        print("azchaos: --zones and --nodes-per-zone must be at least 1", file=sys.stderr)
        return 2
    if args.zones > 26:
        print("azchaos: --zones can be at most 26 (zones are named <region>a..z)", file=sys.stderr)
        return 2
    topology = Topology.make(zones=args.zones, nodes_per_zone=args.nodes_per_zone, region=args.region)
    kubeconfig = Path(args.kubeconfig)
    try:
        handle = start_cluster(kubeconfig, topology, profile=args.profile)
    except ClusterStartError as e:
        print(f"azchaos: {e}", file=sys.stderr)
        return 1
    n = len(topology.zones) * topology.nodes_per_zone
    print(f"embedded cluster up at {handle.url}: {n} nodes in {', '.join(topology.zones)}")
    print(f"kubeconfig: {handle.kubeconfig}")
    print(f"  kubectl --kubeconfig {args.kubeconfig} get nodes -L topology.kubernetes.io/zone")
    if args.detach:
        print(f"stop it with: azchaos local down --kubeconfig {args.kubeconfig}")
        return 0
    print("press Ctrl-C to stop")
    stopping = False

    def _stop(signum: int, frame: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, _stop)
    signal.signal(signal.SIGTERM, _stop)
    try:
        while not stopping:
            time.sleep(0.2)
    finally:
        stop_cluster(kubeconfig)
        print("embedded cluster stopped")
    return 0


def _local_down(args: argparse.Namespace) -> int:
    if stop_cluster(Path(args.kubeconfig)):
        print(f"embedded cluster for {args.kubeconfig} stopped")
        return 0
    print(f"azchaos: no running embedded cluster was started with {args.kubeconfig}", file=sys.stderr)
    return 1


def _local_node(args: argparse.Namespace) -> int:
    import urllib.error

    from .embedded.heartbeat import set_node_power
    from .embedded.process import read_state

    state = read_state(Path(args.kubeconfig))
    if state is None:
        print(f"azchaos: no running embedded cluster was started with {args.kubeconfig}; start one with "
              f"`azchaos local up --detach --kubeconfig {args.kubeconfig}`", file=sys.stderr)
        return 1
    running = args.node_command == "start"
    try:
        result = set_node_power(state["url"], args.name, running)
    except urllib.error.HTTPError as e:
        if e.code == 404:
            print(f"azchaos: the embedded cluster has no node {args.name!r}; list them with "
                  f"`kubectl --kubeconfig {args.kubeconfig} get nodes`", file=sys.stderr)
            return 1
        raise
    except OSError as e:
        print(f"azchaos: cannot reach the embedded cluster at {state['url']}: {e}", file=sys.stderr)
        return 1
    print(f"node {result['node']} {'started' if result['running'] else 'stopped'}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="azchaos", description="Multi-AZ chaos conformance for Kubernetes clusters.")
    sub = p.add_subparsers(dest="command", required=True)
    local = sub.add_parser("local", help="the embedded multi-zone cluster")
    lsub = local.add_subparsers(dest="local_command", required=True)
    up = lsub.add_parser("up", help="start the embedded cluster and write a kubeconfig")
    up.add_argument("--zones", type=int, default=3, help="number of availability zones (default: 3)")
    up.add_argument("--nodes-per-zone", type=int, default=2, help="nodes in each zone (default: 2)")
    up.add_argument("--region", default="us-east-1", help="AWS region the zones belong to (default: us-east-1)")
    up.add_argument("--profile", choices=("fast", "realistic"), default="fast",
                    help="timing profile: fast (seconds, default) or realistic (upstream/AWS defaults)")
    up.add_argument("--kubeconfig", default=str(DEFAULT_KUBECONFIG),
                    help=f"where to write the kubeconfig (default: {DEFAULT_KUBECONFIG})")
    up.add_argument("--detach", action="store_true",
                    help="return once the API answers and leave the cluster running (stop: azchaos local down)")
    up.set_defaults(func=_local_up)
    down = lsub.add_parser("down", help="stop a cluster started with --detach")
    down.add_argument("--kubeconfig", default=str(DEFAULT_KUBECONFIG),
                      help=f"kubeconfig the cluster was started with (default: {DEFAULT_KUBECONFIG})")
    down.set_defaults(func=_local_down)
    node = lsub.add_parser("node", help="stop or start one node of the embedded cluster (kubelet, heartbeat, network)")
    nsub = node.add_subparsers(dest="node_command", required=True)
    for verb, text in (("stop", "take the node away: it goes NotReady and its pods become unreachable"),
                       ("start", "bring a stopped node back")):
        cmd = nsub.add_parser(verb, help=text)
        cmd.add_argument("name", help="node name (kubectl get nodes)")
        cmd.add_argument("--kubeconfig", default=str(DEFAULT_KUBECONFIG),
                         help=f"kubeconfig the cluster was started with (default: {DEFAULT_KUBECONFIG})")
        cmd.set_defaults(func=_local_node)
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return int(args.func(args))


if __name__ == "__main__":
    sys.exit(main())
