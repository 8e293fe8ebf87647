"""Start and stop an embedded cluster as a separate process, and write its kubeconfig.

A separate process keeps the plugin a genuine external client and keeps the emulator's
data plane and the plugin's traffic generator off one interpreter lock.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..timing import DEFAULT_PROFILE
from ..wellknown import EMBEDDED_CONTEXT, EMBEDDED_TOKEN, profile_extension, resolver_extension
from .cloud.endpoint import AwsEndpoint, env_file_for, remove_env_files, write_env_files
from .network.addresses import ADDRESS_IN_USE_EXIT, choose_block, loopback_usable
from .network.dns_port import PORT_ENV as DNS_PORT_ENV
from .network.dns_port import choose as choose_dns_port
from .topology import Topology

CONTEXT_NAME = EMBEDDED_CONTEXT
DEFAULT_KUBECONFIG = Path(".azchaos") / "kubeconfig"
#: Who provisions ``type: LoadBalancer`` Services (``lbc/``): in-tree NLB, AWS Load Balancer Controller, Auto Mode.
LB_CONTROLLERS = ("legacy", "lbc", "auto-mode")
PROVISIONERS = ("node-groups", "karpenter", "auto-mode")  # = provisioners.PROVISIONERS (no import: cheap CLI)

# Clusters this process started, kept so their Popen objects are waited for, not garbage collected.
_CHILDREN: dict[int, subprocess.Popen[bytes]] = {}


class ClusterStartError(RuntimeError):
    """The embedded cluster did not come up; the message says why and what to do."""


@dataclass(frozen=True)
class ClusterHandle:
    """A running embedded cluster: where its API is, its kubeconfig, its process."""

    url: str
    kubeconfig: Path
    pid: int
    topology: Topology
    block: int
    #: The standard AWS settings (AWS_ENDPOINT_URL, dummy keys, AWS_DEFAULT_REGION) of its moto server.
    aws_env: dict[str, str] = field(default_factory=dict, compare=False)
    #: The port its network really serves cluster DNS's port 53 on (53, or 10053 when 53 needs root:
    #: ``network/dns_port.py``); a client outside the cluster dials ``<kube-dns ClusterIP>:<dns_port>``.
    dns_port: int = field(default=53, compare=False)

    @property
    def state_file(self) -> Path:
        return state_file_for(self.kubeconfig)

    @property
    def aws_env_file(self) -> Path:
        """``<kubeconfig>.aws.env``: ``source`` it to point boto3 / the AWS CLI at this cluster's AWS."""
        return env_file_for(self.kubeconfig)


def state_file_for(kubeconfig: Path) -> Path:
    return kubeconfig.with_name(kubeconfig.name + ".state.json")


def kubeconfig_document(url: str, context: str = CONTEXT_NAME, profile: str = DEFAULT_PROFILE,
                        resolver: str | None = None) -> dict[str, Any]:
    """A kubeconfig for the cluster at ``url``; its context declares the cluster's timing ``profile`` and, when
    the cluster runs one, the loopback ``resolver`` (``HOST:PORT``) of its load balancers' DNS names."""
    extensions = [profile_extension(profile)] + ([resolver_extension(resolver)] if resolver else [])
    return {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": context, "cluster": {"server": url}}],
        "users": [{"name": context, "user": {"token": EMBEDDED_TOKEN}}],
        "contexts": [{"name": context, "context": {"cluster": context, "user": context, "namespace": "default",
                                                   "extensions": extensions}}],
        "current-context": context,
        "preferences": {},
    }


def start_cluster(
    kubeconfig: Path = DEFAULT_KUBECONFIG,
    topology: Topology | None = None,
    timeout: float = 30.0,
    log_file: Path | None = None,
    profile: str = DEFAULT_PROFILE,
    registry_mirrors: Sequence[str] = (),
    lb_controller: str | None = None,
    provisioner: str = "node-groups",
    exit_with_parent: bool = False,
) -> ClusterHandle:
    """Start a detached embedded cluster; return once its API answers and the kubeconfig is written.

    ``registry_mirrors``: ``[USER:PASSWORD@]HOST[/PREFIX][=UPSTREAM]`` registries that serve the built-in images
    under their own names (``images.mirror``), e.g. an ECR pull-through cache of registry.k8s.io.
    ``lb_controller``: who provisions LoadBalancer Services, one of ``LB_CONTROLLERS`` (default: as the
    provisioner implies, ``default_lb_controller``). ``exit_with_parent``: the cluster stops by itself once this
    process is gone (a pytest session's cluster must not outlive a kill -9 of the session; `azchaos local up
    --detach` leaves it running on purpose)."""
    lb_controller = lb_controller or default_lb_controller(provisioner)
    if lb_controller not in LB_CONTROLLERS:
        raise ClusterStartError(f"lb_controller must be one of {', '.join(LB_CONTROLLERS)}, not {lb_controller!r}")
    if provisioner not in PROVISIONERS:  # who adds nodes: embedded/provisioners/
        raise ClusterStartError(f"provisioner must be one of {', '.join(PROVISIONERS)}, not {provisioner!r}")
    if provisioner == "auto-mode" and lb_controller != "auto-mode":
        raise ClusterStartError(
            f"an EKS Auto Mode cluster has Auto Mode's load balancing too (compute, block storage and load balancing "
            f"are enabled together), so lb_controller {lb_controller!r} cannot serve it: use auto-mode, the default "
            f"with the auto-mode provisioner")
    from .images.mirror import MirrorSpecError, RegistryMirror

    try:
        mirrors = [RegistryMirror.parse(spec).to_spec() for spec in registry_mirrors]
    except MirrorSpecError as e:
        raise ClusterStartError(str(e)) from None
    topology = topology or Topology()
    if provisioner != "node-groups":
        topology = dataclasses.replace(topology, extra={**topology.extra, "provisioner": provisioner})
    kubeconfig = Path(kubeconfig).absolute()
    kubeconfig.parent.mkdir(parents=True, exist_ok=True)
    existing = read_state(kubeconfig)
    if existing is not None and _alive(existing["pid"]):
        raise ClusterStartError(
            f"an embedded cluster (pid {existing['pid']}) already uses {kubeconfig}; stop it with "
            f"`azchaos local down --kubeconfig {kubeconfig}` or pass another --kubeconfig")
    if not loopback_usable("127.10.0.1"):
        raise ClusterStartError(
            "this machine cannot bind loopback addresses beyond 127.0.0.1 (macOS: add aliases with "
            "`sudo ifconfig lo0 alias 127.x.y.z`); the embedded cluster gives every node and pod its own address")
    try:  # decided here, by trying port 53, and handed to the cluster process so both agree
        served_dns_port = choose_dns_port()
    except ValueError as e:
        raise ClusterStartError(str(e)) from None
    ready = kubeconfig.with_name(kubeconfig.name + ".ready")
    log_path = log_file or kubeconfig.with_name(kubeconfig.name + ".log")
    tried: list[int] = []
    for _attempt in range(BLOCK_ATTEMPTS):
        block = choose_block(exclude=tried)
        tried.append(block)
        proc = _launch(topology, block, ready, profile, lb_controller, mirrors, served_dns_port, log_path,
                       exit_with_parent)
        if _await_ready(proc, ready, log_path, time.monotonic() + timeout, timeout):
            break
    else:
        raise ClusterStartError(f"loopback blocks {', '.join(map(str, tried))} were each taken by another cluster "
                                f"while this one started; stop stray clusters (`pgrep -af 'embedded serve'`) or retry")
    info = json.loads(ready.read_text())
    ready.unlink()
    doc = kubeconfig_document(info["url"], profile=profile, resolver=info.get("resolver"))
    tmp = kubeconfig.with_name(kubeconfig.name + ".tmp")
    tmp.write_text(json.dumps(doc, indent=2) + "\n")
    tmp.replace(kubeconfig)
    aws_env = write_env_files(kubeconfig, AwsEndpoint.from_dict(info["aws"])) if info.get("aws") else {}
    handle = ClusterHandle(info["url"], kubeconfig, info["pid"], topology, block, aws_env, served_dns_port)
    state_file_for(kubeconfig).write_text(json.dumps({"url": handle.url, "pid": handle.pid, "block": block,
                                                      "topology": topology.to_dict(), "dns_port": served_dns_port},
                                                     indent=2) + "\n")
    return handle


def default_lb_controller(provisioner: str) -> str:
    """Who provisions load balancers when not chosen: Auto Mode's own on Auto Mode, whose compute, block storage and
    load balancing capabilities are enabled together (eksctl's ``autoModeConfig.enabled`` passes all three to the
    EKS API: eksctl user guide, "EKS Auto Mode"), the in-tree NLB otherwise."""
    return "auto-mode" if provisioner == "auto-mode" else "legacy"


#: Starts tried before giving up when other clusters keep taking the chosen loopback block first.
BLOCK_ATTEMPTS = 5


def _launch(topology: Topology, block: int, ready: Path, profile: str, lb_controller: str, mirrors: list[str],
            dns_port: int, log_path: Path, exit_with_parent: bool) -> subprocess.Popen[bytes]:
    """The detached cluster process on ``block`` (it writes ``ready`` once its API answers)."""
    with contextlib.suppress(FileNotFoundError):
        ready.unlink()
    cmd = [sys.executable, "-m", "pytest_azchaos.embedded", "serve", "--topology", json.dumps(topology.to_dict()),
           "--block", str(block), "--ready-file", str(ready), "--profile", profile,
           "--lb-controller", lb_controller]
    for spec in mirrors:
        cmd += ["--registry-mirror", spec]
    if exit_with_parent:
        cmd.append("--exit-with-parent")
    with open(log_path, "ab") as log:
        proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                start_new_session=True, env={**os.environ, DNS_PORT_ENV: str(dns_port)})
    _CHILDREN[proc.pid] = proc
    return proc


def _await_ready(proc: subprocess.Popen[bytes], ready: Path, log_path: Path, deadline: float, timeout: float) -> bool:
    """True once ``ready`` exists; False when the process lost its block to another cluster; raises otherwise."""
    while not ready.exists():
        if proc.poll() is not None:
            if proc.returncode == ADDRESS_IN_USE_EXIT:
                return False
            tail = log_path.read_text(errors="replace")[-2000:]
            raise ClusterStartError(f"the embedded cluster exited with code {proc.returncode}; its log "
                                    f"({log_path}) ends with:\n{tail}")
        if time.monotonic() > deadline:
            proc.terminate()
            proc.wait()
            raise ClusterStartError(f"the embedded cluster did not answer within {timeout:.0f}s; see {log_path}")
        time.sleep(0.02)
    return True


def read_state(kubeconfig: Path) -> dict[str, Any] | None:
    path = state_file_for(Path(kubeconfig).absolute())
    try:
        return json.loads(path.read_text())
    except (FileNotFoundError, ValueError):
        return None


def _alive(pid: int) -> bool:
    proc = _CHILDREN.get(pid)
    if proc is not None:
        return proc.poll() is None
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def stop_cluster(kubeconfig: Path = DEFAULT_KUBECONFIG, timeout: float = 10.0) -> bool:
    """Stop the cluster started with ``kubeconfig``; False if none was running."""
    kubeconfig = Path(kubeconfig).absolute()
    state = read_state(kubeconfig)
    if state is None:
        return False
    pid = int(state["pid"])
    stopped = False
    if _alive(pid):
        os.kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + timeout
        while _alive(pid) and time.monotonic() < deadline:
            _reap(pid)
            time.sleep(0.05)
        if _alive(pid):
            os.kill(pid, signal.SIGKILL)
        _reap(pid)
        stopped = True
    with contextlib.suppress(FileNotFoundError):
        state_file_for(kubeconfig).unlink()
    remove_env_files(kubeconfig)
    return stopped


def _reap(pid: int) -> None:
    proc = _CHILDREN.get(pid)
    if proc is not None:
        if proc.poll() is not None:
            del _CHILDREN[pid]
        return
    with contextlib.suppress(ChildProcessError, OSError):
        os.waitpid(pid, os.WNOHANG)
