"""The run's settings, from command-line options and ini keys, validated once (pytest-free).

Each setting is an option ``--azchaos-<name>`` and an ini key ``azchaos_<name>``; the option wins.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from .apps.images import ImageConfigError, SampleImages, resolve
from .kube.kubeconfig import PROFILE_EXTENSION, declared_profile
from .targets import Target, TargetError, parse_targets
from .timing import DEFAULT_PROFILE, REAL_CLUSTER_PROFILE
from .timing import NAMES as PROFILE_NAMES
from .wellknown import EMBEDDED_CONTEXT

__all__ = ["EMBEDDED_CONTEXT", "Settings", "SettingsError", "build"]

ClusterChoice = Literal["auto", "embedded", "kubeconfig", "in-cluster"]


class SettingsError(ValueError):
    """An option value or combination that cannot work; the message names the fix."""


@dataclass(frozen=True)
class Settings:
    """A run's validated settings (``build()`` makes them from options and ini keys; the option wins)."""

    kubeconfig: Path | None = None
    context: str | None = None
    cluster: ClusterChoice = "auto"
    zone: str | None = None  # None/"auto": chosen; "random": seeded choice
    seed: int | None = None
    namespace_prefix: str = "azchaos"
    allow_contexts: tuple[str, ...] = (f"^{EMBEDDED_CONTEXT}$",)
    dry_run: bool = False
    profile: str | None = None  # None: what the kubeconfig context declares, else fast (embedded) / realistic
    declared_profile: str | None = None  # the kubeconfig context's timing-profile extension (kube.kubeconfig)
    error_budget: float = 0.0
    rate: float = 50.0
    report_dir: Path = Path("azchaos-report")
    keep_on_failure: bool = False
    namespace_labels: tuple[tuple[str, str], ...] = ()  # set on every per-test namespace
    targets: tuple[Target, ...] = ()  # --azchaos-target: the user's own workloads; none: the sample app
    # The sample apps' images and pull secrets (--azchaos-image*).
    images: SampleImages = field(default_factory=SampleImages)
    share_faults: bool = False  # --azchaos-share-faults: one fault per flavour judged by every check that fits
    embedded_zones: int = 3
    embedded_nodes_per_zone: int = 2
    embedded_lb_controller: str | None = None  # --azchaos-embedded-lb-controller: legacy|lbc|auto-mode (None: follow
    # the provisioner, embedded.process.default_lb_controller)
    embedded_provisioner: str = "node-groups"  # --azchaos-embedded-provisioner: node-groups|karpenter|auto-mode
    embedded_node_groups: str = "per-zone"  # --azchaos-embedded-node-groups: per-zone|regional
    embedded_node_group_room: int = 0  # --azchaos-embedded-node-group-room: MaxSize above the start, per zone
    # --azchaos-lb: the load-balancer flavour the sample Service asks for (auto: the one the cluster's controllers
    # give a class-less Service, lb.detect); --azchaos-lb-scheme: internet-facing or internal.
    lb: str = "auto"
    lb_scheme: str = "internet-facing"
    # --azchaos-docs-url: the site failure messages link to (<url>/checks/<ID>/); None: docs/checks/<ID>.md
    docs_url: str | None = None
    extra: dict[str, str] = field(default_factory=dict)

    @property
    def uses_embedded(self) -> bool:
        return self.cluster == "embedded" or (self.cluster == "auto" and self.kubeconfig is None)

    def effective_profile(self) -> str:
        """--azchaos-profile, else the profile the cluster's kubeconfig context declares, else fast for the
        embedded cluster the plugin starts and realistic (upstream and AWS defaults) for any other."""
        if self.uses_embedded:
            return self.profile or DEFAULT_PROFILE
        return self.profile or self.declared_profile or REAL_CLUSTER_PROFILE

    def context_allowed(self, context: str) -> bool:
        return any(re.search(p, context) for p in self.allow_contexts)


def _in_cluster_kubeconfig(path: Path | None, context: str | None) -> tuple[Path, str]:
    """--azchaos-cluster=in-cluster: the pod's own cluster through its service account, written as a kubeconfig
    (context ``in-cluster``) for everything that reads one; ``SettingsError`` naming the fix outside a pod."""
    import tempfile

    from .kube.cluster import IN_CLUSTER_CONTEXT, in_cluster_problem, write_in_cluster_kubeconfig

    if path is not None or context:
        raise SettingsError("--azchaos-cluster=in-cluster uses the pod's service account: drop --azchaos-kubeconfig "
                            "and --azchaos-context")
    problem = in_cluster_problem()
    if problem:
        raise SettingsError(problem)
    directory = Path(tempfile.mkdtemp(prefix="azchaos-in-cluster-"))
    return write_in_cluster_kubeconfig(directory / "kubeconfig"), IN_CLUSTER_CONTEXT


def build(
    *,
    kubeconfig: str | None,
    context: str | None,
    cluster: str | None,
    zone: str | None,
    seed: str | None,
    namespace_prefix: str | None,
    allow_contexts: list[str] | None,
    dry_run: bool,
    profile: str | None,
    error_budget: str | None,
    rate: str | None,
    report_dir: str | None,
    keep_on_failure: bool,
    namespace_labels: list[str] | None = None,
    targets: list[str] | None = None,
    share_faults: bool = False,
    image: str | None = None,
    image_repo_list: str | None = None,
    image_pull_secrets: list[str] | None = None,
    embedded_lb_controller: str | None = None,
    embedded_provisioner: str | None = None,
    embedded_node_groups: str | None = None,
    embedded_node_group_room: str | None = None,
    lb: str | None = None,
    lb_scheme: str | None = None,
    docs_url: str | None = None,
) -> Settings:
    """Validate raw option values; raise ``SettingsError`` naming the fix."""
    choice = (cluster or "auto").strip()
    if choice not in ("auto", "embedded", "kubeconfig", "in-cluster"):
        raise SettingsError(f"--azchaos-cluster must be auto, embedded, kubeconfig or in-cluster, not {choice!r}")
    path = Path(kubeconfig).expanduser() if kubeconfig else None
    if choice == "in-cluster":
        path, context = _in_cluster_kubeconfig(path, context)
    if choice == "kubeconfig" and path is None:
        raise SettingsError("--azchaos-cluster=kubeconfig needs --azchaos-kubeconfig PATH (or the "
                            "azchaos_kubeconfig ini key)")
    if choice == "embedded" and path is not None:
        raise SettingsError("--azchaos-cluster=embedded starts its own cluster; drop --azchaos-kubeconfig, or use "
                            "--azchaos-cluster=kubeconfig")
    if path is not None and path.is_dir():
        raise SettingsError(f"kubeconfig {path} is a directory, not a kubeconfig file: pass the file's path to "
                            "--azchaos-kubeconfig")
    if path is not None and not path.is_file():
        raise SettingsError(f"kubeconfig {path} does not exist: pass an existing file to --azchaos-kubeconfig, or "
                            "leave it unset to use the embedded cluster")
    lb_controller = (embedded_lb_controller or "").strip() or None
    if lb_controller is not None and lb_controller not in ("legacy", "lbc", "auto-mode"):
        raise SettingsError("--azchaos-embedded-lb-controller must be legacy, lbc or auto-mode, not "
                            f"{lb_controller!r}")
    provisioner = (embedded_provisioner or "node-groups").strip()
    if provisioner not in ("node-groups", "karpenter", "auto-mode"):
        raise SettingsError("--azchaos-embedded-provisioner must be node-groups, karpenter or auto-mode, not "
                            f"{provisioner!r}")
    if provisioner == "auto-mode" and lb_controller not in (None, "auto-mode"):
        raise SettingsError(f"--azchaos-embedded-provisioner auto-mode comes with Auto Mode's load balancing (EKS "
                            f"enables them together), so --azchaos-embedded-lb-controller {lb_controller} cannot "
                            "serve it: leave --azchaos-embedded-lb-controller unset (or auto-mode)")
    node_groups = (embedded_node_groups or "per-zone").strip()
    if node_groups not in ("per-zone", "regional"):
        raise SettingsError(f"--azchaos-embedded-node-groups must be per-zone or regional, not {node_groups!r}")
    room_text = (embedded_node_group_room or "0").strip()
    if not room_text.isdigit():
        raise SettingsError("--azchaos-embedded-node-group-room must be a whole number of nodes (0 or more), not "
                            f"{embedded_node_group_room!r}")
    lb_choice, lb_scheme_value = _lb(lb, lb_scheme)
    if profile and profile not in PROFILE_NAMES:
        raise SettingsError(f"--azchaos-profile must be {' or '.join(PROFILE_NAMES)}, not {profile!r}")
    declared = declared_profile(path, context or None) if path is not None and choice != "embedded" else None
    if declared is not None and profile:
        declared = None  # --azchaos-profile wins over what the context declares, whatever that is
    if declared is not None and declared not in PROFILE_NAMES:
        raise SettingsError(f"kubeconfig {path} declares the timing profile {declared!r} (extension "
                            f"{PROFILE_EXTENSION}); it must be {' or '.join(PROFILE_NAMES)}, or pass "
                            "--azchaos-profile")
    patterns = tuple(allow_contexts or ()) or (f"^{EMBEDDED_CONTEXT}$",)
    for p in patterns:
        if not p.strip():  # an unset CI variable: re.search("", ...) would allow chaos on every context
            raise SettingsError("--azchaos-allow-context '' is empty, which would allow chaos on every context: "
                                "pass a pattern for the contexts that may lose a zone, e.g. '^staging$' (in CI, "
                                "fail on an unset variable: \"${ALLOW_CONTEXT:?}\")")
        try:
            re.compile(p)
        except re.error as e:
            raise SettingsError(f"--azchaos-allow-context {p!r} is not a valid regular expression: {e}") from None
    try:
        budget = float(error_budget) if error_budget not in (None, "") else 0.0
    except ValueError:
        raise SettingsError(f"--azchaos-error-budget must be a fraction like 0.001, not {error_budget!r}") from None
    if not 0.0 <= budget < 1.0:
        raise SettingsError(f"--azchaos-error-budget must be in [0, 1), not {budget}")
    try:
        request_rate = float(rate) if rate not in (None, "") else 50.0
    except ValueError:
        raise SettingsError(f"--azchaos-rate must be requests per second, not {rate!r}") from None
    if not 0 < request_rate <= 5000:
        raise SettingsError(f"--azchaos-rate must be between 0 and 5000 requests per second, not {request_rate}")
    try:
        seed_value = int(seed) if seed not in (None, "") else None
    except ValueError:
        raise SettingsError(f"--azchaos-seed must be an integer, not {seed!r}") from None
    prefix = (namespace_prefix or "azchaos").strip()
    if not re.fullmatch(r"[a-z0-9]([-a-z0-9]{0,30}[a-z0-9])?", prefix):
        raise SettingsError(f"--azchaos-namespace-prefix {prefix!r} must be a short DNS label (a-z, 0-9, '-')")
    zone_value = (zone or "").strip() or None
    try:
        parsed_targets = parse_targets(targets or ())
    except TargetError as e:
        raise SettingsError(str(e)) from None
    try:  # image_repo_list None: the KUBE_TEST_REPO_LIST environment variable, as upstream e2e reads it
        images = resolve(image or None, image_repo_list or None, image_pull_secrets or ())
    except ImageConfigError as e:
        raise SettingsError(str(e)) from None
    docs = (docs_url or "").strip() or None
    if docs is not None and not re.fullmatch(r"(https?|file)://\S+", docs):
        raise SettingsError(f"--azchaos-docs-url must be the URL of the documentation site, such as "
                            f"https://docs.example.com/azchaos, not {docs!r}")
    return Settings(
        kubeconfig=path, context=(context or None), cluster=choice,  # type: ignore[arg-type]
        zone=None if zone_value == "auto" else zone_value, seed=seed_value, namespace_prefix=prefix,
        allow_contexts=patterns, dry_run=dry_run, profile=profile or None, declared_profile=declared,
        error_budget=budget,
        rate=request_rate, report_dir=Path(report_dir or "azchaos-report"), keep_on_failure=keep_on_failure,
        namespace_labels=tuple(_label(item) for item in namespace_labels or ()), targets=parsed_targets,
        images=images, share_faults=share_faults, embedded_lb_controller=lb_controller,
        embedded_provisioner=provisioner, embedded_node_groups=node_groups,
        embedded_node_group_room=int(room_text), lb=lb_choice, lb_scheme=lb_scheme_value,
        docs_url=docs,
    )


def _lb(lb: str | None, scheme: str | None) -> tuple[str, str]:
    """--azchaos-lb and --azchaos-lb-scheme, or ``SettingsError`` naming the choices."""
    from .lb.flavours import CHOICES, SCHEMES

    choice = (lb or "auto").strip()
    if choice not in CHOICES:
        raise SettingsError(f"--azchaos-lb must be one of {', '.join(CHOICES)}, not {choice!r} (auto: the controller "
                            "the cluster gives a new LoadBalancer Service)")
    value = (scheme or "internet-facing").strip()
    if value not in SCHEMES:
        raise SettingsError(f"--azchaos-lb-scheme must be internet-facing or internal, not {value!r} (internal only "
                            "when the run itself is inside the cluster's VPC)")
    return choice, value


_LABEL_NAME = re.compile(r"([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*/)?"
                         r"[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?")
_LABEL_VALUE = re.compile(r"([A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)?")


def _label(item: str) -> tuple[str, str]:
    """``KEY=VALUE`` as a Kubernetes label (the API server's syntax), or ``SettingsError`` naming the fix."""
    key, sep, value = item.partition("=")
    if not sep or not _LABEL_NAME.fullmatch(key) or not _LABEL_VALUE.fullmatch(value) or len(key) > 316:
        raise SettingsError(f"--azchaos-namespace-label {item!r} is not a label KEY=VALUE: write it as "
                            "'pod-security.kubernetes.io/enforce=restricted' (a label name, '=', a value of at most "
                            "63 letters, digits, '-', '_' or '.')")
    return key, value
