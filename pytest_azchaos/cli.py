"""The ``azchaos`` command: ``local up|down|node`` for the embedded cluster, ``restore`` to undo a killed run,
``gameday`` for one fault observed by every check."""

from __future__ import annotations

import argparse
import signal
import sys
import time
from pathlib import Path

from .embedded import api_faults_client
from .embedded.process import DEFAULT_KUBECONFIG, ClusterStartError, start_cluster, stop_cluster
from .embedded.topology import Topology
from .gameday import command as gameday_command
from .timing import DEFAULT_PROFILE, NAMES


def _local_up(args: argparse.Namespace) -> int:
    if args.zones < 1 or args.nodes_per_zone < 1:
        print("azchaos: --zones and --nodes-per-zone must be at least 1", file=sys.stderr)
        return 2
    if args.zones > 26:
        print("azchaos: --zones can be at most 26 (zones are named <region>a..z)", file=sys.stderr)
        return 2
    from .embedded.images.mirror import MirrorSpecError, RegistryMirror

    try:
        mirrors = [RegistryMirror.parse(spec) for spec in args.registry_mirror]
    except MirrorSpecError as e:
        print(f"azchaos: {e}", file=sys.stderr)
        return 2
    topology = Topology.make(zones=args.zones, nodes_per_zone=args.nodes_per_zone, region=args.region,
                             max_nodes_per_zone=args.nodes_per_zone + args.node_group_room,
                             extra={"node_groups": args.node_groups})
    kubeconfig = Path(args.kubeconfig)
    try:
        handle = start_cluster(kubeconfig, topology, profile=args.profile, registry_mirrors=args.registry_mirror,
                               lb_controller=args.lb_controller, provisioner=args.provisioner,
                               exit_with_parent=not args.detach)
    except ClusterStartError as e:
        print(f"azchaos: {e}", file=sys.stderr)
        return 1
    n = len(topology.zones) * topology.nodes_per_zone
    print(f"embedded cluster up at {handle.url}: {n} nodes in {', '.join(topology.zones)}")
    print(f"kubeconfig: {handle.kubeconfig}")
    for m in mirrors:
        print(f"registry mirror {m.host}{'/' + m.prefix if m.prefix else ''} of {m.upstream}"
              + (f" (pull secret for user {m.credentials[0]} required)" if m.credentials else ""))
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


def _room(text: str) -> int:
    """A node-group room: a whole number of nodes, 0 or more."""
    if not text.strip().isdigit():
        raise argparse.ArgumentTypeError(f"must be a whole number of nodes (0 or more), not {text!r}")
    return int(text)


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


def _restore(args: argparse.Namespace) -> int:
    """Undo what unfinished azchaos runs left in a cluster (a killed pytest, a crashed game day)."""
    import os

    from .chaos.ledger import restore
    from .kube.cluster import Cluster

    path = args.kubeconfig or (os.environ.get("KUBECONFIG", "").split(os.pathsep)[0] or None) \
        or str(Path.home() / ".kube" / "config")
    kubeconfig = Path(path).expanduser()
    if not kubeconfig.is_file():
        print(f"azchaos: kubeconfig {kubeconfig} does not exist: pass --kubeconfig PATH of the cluster to restore "
              "(the one the run used)", file=sys.stderr)
        return 1
    cluster = Cluster(kubeconfig, args.context)
    error = _check_cluster(cluster, kubeconfig, args.context)
    if error:
        print(f"azchaos: {error}", file=sys.stderr)
        return 1
    try:
        plan = restore(cluster, args.run_id, namespace=args.namespace, local_dir=args.ledger_dir, dry_run=True)
        if not plan.runs:
            print("no unfinished azchaos runs" + (f" with id {args.run_id}" if args.run_id else "")
                  + ": nothing to restore")
            return 0
        print("will undo:" if not args.dry_run else "would undo (dry run, nothing changed):")
        print(plan.describe())
        if args.dry_run:
            return 0 if plan.ok else 1
        report = restore(cluster, args.run_id, namespace=args.namespace, local_dir=args.ledger_dir)
        print("result:")
        print(report.describe())
    finally:
        cluster.close()
    if report.ok:
        print("cluster restored")
        return 0
    print("azchaos: the cluster is NOT fully restored; see the lines marked FAIL or skipped above", file=sys.stderr)
    return 1


def _check_cluster(cluster: object, kubeconfig: Path, context: str | None) -> str:
    """'' when the kubeconfig, context and API server are usable; else the problem and its fix."""
    from kubernetes import client

    from .kube.cluster import ClusterConfigError
    from .kube.kubeconfig import context_names

    try:
        names = context_names(kubeconfig)
    except Exception as e:
        return f"cannot read kubeconfig {kubeconfig}: {e}; pass --kubeconfig PATH of a valid kubeconfig"
    if context is not None and context not in names:
        return (f"kubeconfig {kubeconfig} has no context {context!r}; its contexts are: {', '.join(names) or 'none'} "
                "(pass one with --context)")
    try:
        api = cluster.api  # type: ignore[attr-defined]
        client.VersionApi(api).get_code(_request_timeout=5)
    except ClusterConfigError as e:
        return f"{e}"
    except Exception as e:
        host = getattr(getattr(cluster, "_api", None), "configuration", None)
        where = getattr(host, "host", "the API server")
        return (f"cannot reach the Kubernetes API at {where} ({type(e).__name__}); check that the cluster is running "
                f"and that --kubeconfig/--context point at it")
    return ""


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="azchaos", description="Multi-AZ chaos conformance for Kubernetes clusters.")
    sub = p.add_subparsers(dest="command", required=True)
    local = sub.add_parser("local", help="the embedded multi-zone cluster")
    lsub = local.add_subparsers(dest="local_command", required=True)
    up = lsub.add_parser("up", help="start the embedded cluster and write a kubeconfig")
    up.add_argument("--zones", type=int, default=3, help="number of availability zones (default: 3)")
    up.add_argument("--nodes-per-zone", type=int, default=2, help="nodes in each zone (default: 2)")
    up.add_argument("--region", default="us-east-1", help="AWS region the zones belong to (default: us-east-1)")
    up.add_argument("--profile", choices=NAMES, default=DEFAULT_PROFILE,
                    help="timing profile: fast (seconds, default) or realistic (upstream/AWS defaults)")
    up.add_argument("--kubeconfig", default=str(DEFAULT_KUBECONFIG),
                    help=f"where to write the kubeconfig (default: {DEFAULT_KUBECONFIG})")
    up.add_argument("--registry-mirror", action="append", default=[],
                    metavar="[USER:PASSWORD@]HOST[/PREFIX][=UPSTREAM]",
                    help="a registry that serves the built-in images under its own names, as an air-gapped "
                    "cluster's mirror (repeatable): HOST/PREFIX/<path> is UPSTREAM/<path> (default upstream: "
                    "registry.k8s.io), e.g. 123456789012.dkr.ecr.us-east-1.amazonaws.com/k8s; with USER:PASSWORD@ a "
                    "pod pulls only with a matching kubernetes.io/dockerconfigjson imagePullSecret")
    up.add_argument("--lb-controller", choices=("legacy", "lbc", "auto-mode"), default=None,
                    help="who provisions LoadBalancer Services: legacy (in-tree NLB, internet-facing, IPs), "
                    "lbc (AWS Load Balancer Controller: webhook, internal by default, instance|ip targets, DNS "
                    "names) or auto-mode (EKS Auto Mode's eks.amazonaws.com/nlb). Default: auto-mode with "
                    "--provisioner auto-mode (Auto Mode enables compute and load balancing together), else legacy")
    up.add_argument("--provisioner", choices=("node-groups", "karpenter", "auto-mode"), default="node-groups",
                    help="who adds nodes: node-groups (per-zone EKS managed node groups; default), karpenter "
                    "(Karpenter v1 NodePool/NodeClaim/EC2NodeClass and its controller beside a static node group) or "
                    "auto-mode (EKS Auto Mode's built-in NodePools; EC2 stop/terminate on its instances refused)")
    up.add_argument("--node-group-room", type=_room, default=0, metavar="N",
                    help="nodes each node group may add per zone above its start, for the Cluster Autoscaler "
                    "(MaxSize = start + N; default 0: eksctl's min = max = desired, the autoscaler adds nothing)")
    up.add_argument("--node-groups", choices=("per-zone", "regional"), default="per-zone",
                    help="node-group layout (node-groups provisioner): per-zone (one Auto Scaling group per zone; "
                    "default) or regional (one group spanning every zone, instances balanced across zones)")
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
    faults = lsub.add_parser("api-faults", help="make the embedded API server fail, throttle, slow down or cut a "
                             "fraction of requests, as a real one under load does",
                             description=api_faults_client.DESCRIPTION,
                             formatter_class=argparse.RawDescriptionHelpFormatter)
    api_faults_client.add_arguments(faults)
    faults.set_defaults(func=api_faults_client.run)
    restore = sub.add_parser("restore", help="undo what unfinished (killed) azchaos runs left in a cluster")
    restore.add_argument("--kubeconfig", default=None,
                         help="kubeconfig of the cluster (default: $KUBECONFIG, else ~/.kube/config)")
    restore.add_argument("--context", default=None, help="kubeconfig context (default: its current context)")
    restore.add_argument("--run-id", default=None, help="restore only this run (default: every unfinished run)")
    restore.add_argument("--dry-run", action="store_true", help="print what would be undone, change nothing")
    restore.add_argument("--namespace", default="kube-system",
                         help="namespace of the run objects and the lock (default: kube-system)")
    restore.add_argument("--ledger-dir", default=".azchaos",
                         help="directory of local ledger files to consider too (default: .azchaos)")
    restore.set_defaults(func=_restore)
    gameday = sub.add_parser("gameday", help="one fault on one zone, every applicable check over the same window, "
                             "with a live view and the HTML/JSON report", description=gameday_command.DESCRIPTION,
                             formatter_class=argparse.RawDescriptionHelpFormatter)
    gameday_command.add_arguments(gameday)
    gameday.set_defaults(func=gameday_command.run)
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return int(args.func(args))


if __name__ == "__main__":
    sys.exit(main())
