"""Pod Security admission, as upstream's ``k8s.io/pod-security-admission`` (v1.36) with its default config.

Namespace labels ``pod-security.kubernetes.io/{enforce,warn,audit}[-version]`` choose a level
(``privileged``/``baseline``/``restricted``) and a policy version (``latest`` or ``v1.X``).

* **enforce** applies to Pod creates only: a violation is 403 ``pods "x" is forbidden: violates PodSecurity
  "restricted:latest": <reason> (<detail>), ...``, so controllers creating pods get it as their FailedCreate.
* **warn** applies to Pods and to pod-template workloads: ``would violate PodSecurity "…": …`` as a
  ``Warning`` header; never added to a request enforce already rejects.
* **audit** only annotates audit events upstream; the embedded cluster keeps no audit log, so it is parsed
  and accepted but has no visible effect.
* Invalid labels on a Namespace create/update are 422 (``must be one of privileged, baseline, restricted`` /
  ``must be "latest" or "v1.x"``).

The checks, their order, reasons and details follow ``policy/check_*.go`` (checks registered in file-name
order; baseline checks first, then the restricted ones, which replace the overlapping baseline
``capabilities_baseline`` and ``hostPathVolumes``). A namespace that sets enforce but not warn/audit also
warns at the enforce level (what the recorded v1.36 server does for a Deployment in an enforce-only namespace).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

Obj = dict[str, Any]
Result = tuple[str, str]  # (forbidden reason, forbidden detail)

PREFIX = "pod-security.kubernetes.io/"
MODES = ("enforce", "audit", "warn")
LEVELS = ("privileged", "baseline", "restricted")
#: Newest policy version with its own checks (hostProbesAndHostLifecycle, runAsNonRoot_1_34); "latest" is newer.
_LATEST = (1, 10_000)
_VERSION = re.compile(r"^v1\.([0-9]|[1-9][0-9]*)$")
LEVEL_ERROR = "must be one of privileged, baseline, restricted"
VERSION_ERROR = 'must be "latest" or "v1.x"'

#: Kinds whose pod template warn/audit evaluate (upstream's DefaultPodSpecExtractor).
WORKLOAD_TEMPLATES: dict[str, tuple[str, ...]] = {
    "Deployment": ("spec", "template"),
    "ReplicaSet": ("spec", "template"),
    "StatefulSet": ("spec", "template"),
    "DaemonSet": ("spec", "template"),
    "ReplicationController": ("spec", "template"),
    "Job": ("spec", "template"),
    "CronJob": ("spec", "jobTemplate", "spec", "template"),
    "PodTemplate": ("template",),
}


# ------------------------------------------------------------------------------------------ labels

def parse_version(v: str) -> tuple[int, int] | None:
    """``latest`` → the newest version, ``v1.X`` → (1, X), anything else → None."""
    if v == "latest":
        return _LATEST
    m = _VERSION.match(v)
    return (1, int(m.group(1))) if m else None


def label_errors(labels: dict[str, str] | None) -> list[tuple[str, str, str]]:
    """(label, value, message) for every invalid PodSecurity label, in upstream's order."""
    out = []
    for mode in MODES:
        for key, ok, msg in ((PREFIX + mode, lambda v: v in LEVELS, LEVEL_ERROR),
                             (PREFIX + mode + "-version", lambda v: parse_version(v) is not None, VERSION_ERROR)):
            if labels and key in labels and not ok(labels[key]):
                out.append((key, labels[key], msg))
    return out


def policy(labels: dict[str, str] | None) -> dict[str, tuple[str, str]]:
    """mode → (level, version label) for a namespace's labels (api.PolicyToEvaluate; privileged:latest default).

    An invalid enforce level means restricted, an invalid warn/audit level privileged (fail open); an
    invalid version means latest."""
    labels = labels or {}
    out: dict[str, tuple[str, str]] = {}
    for mode in MODES:
        level = labels.get(PREFIX + mode)
        version = labels.get(PREFIX + mode + "-version")
        if level is not None and level not in LEVELS:
            level = "restricted" if mode == "enforce" else "privileged"
        if version is not None and parse_version(version) is None:
            version = "latest"
        out[mode] = (level or "", version or "")
    enforce_level, enforce_version = out["enforce"]
    for mode in ("audit", "warn"):
        level, version = out[mode]
        if not level and enforce_level:  # v1.36: warn/audit follow an explicit enforce level
            level, version = enforce_level, version or enforce_version
        out[mode] = (level or "privileged", version or "latest")
    out["enforce"] = (enforce_level or "privileged", enforce_version or "latest")
    return out


# ------------------------------------------------------------------------------------------ checks

def _plural(singular: str, plural: str, n: int) -> str:
    return singular if n == 1 else plural


def _join_quote(items: list[str]) -> str:
    return '"' + '", "'.join(items) + '"' if items else ""


def _containers(spec: Obj) -> list[Obj]:
    """visitContainers: init containers, containers, ephemeral containers."""
    return [*(spec.get("initContainers") or []), *(spec.get("containers") or []),
            *(spec.get("ephemeralContainers") or [])]


def _sc(c: Obj) -> Obj:
    return c.get("securityContext") or {}


def _named(n: int, names: list[str], singular: str = "container", plural: str = "containers") -> str:
    return f"{_plural(singular, plural, n)} {_join_quote(names)}"


def _setters(pod_bad: bool, containers: list[str]) -> list[str]:
    out = ["pod"] if pod_bad else []
    if containers:
        out.append(_named(len(containers), containers))
    return out


def _windows(spec: Obj) -> bool:
    return ((spec.get("os") or {}).get("name")) == "windows"


Check = Callable[[Obj, Obj, tuple[int, int]], "Result | None"]


def _allow_privilege_escalation(meta: Obj, spec: Obj, v: tuple[int, int]) -> Result | None:
    if v >= (1, 25) and _windows(spec):
        return None
    bad = [c.get("name", "") for c in _containers(spec) if _sc(c).get("allowPrivilegeEscalation") is not False]
    if bad:
        return ("allowPrivilegeEscalation != false",
                f"{_named(len(bad), bad)} must set securityContext.allowPrivilegeEscalation=false")
    return None


def _app_armor_profile(meta: Obj, spec: Obj, v: tuple[int, int]) -> Result | None:
    allowed = ("RuntimeDefault", "Localhost")
    values: set[str] = set()
    pod_profile = (spec.get("securityContext") or {}).get("appArmorProfile")
    pod_bad = bool(pod_profile) and pod_profile.get("type") not in allowed
    if pod_bad:
        values.add(str(pod_profile.get("type")))
    bad = []
    for c in _containers(spec):
        prof = _sc(c).get("appArmorProfile")
        if prof and prof.get("type") not in allowed:
            bad.append(c.get("name", ""))
            values.add(str(prof.get("type")))
    setters = _setters(pod_bad, bad)
    annotations = sorted(
        f'{k}="{val}"' for k, val in ((meta.get("annotations") or {}).items())
        if k.startswith("container.apparmor.security.beta.kubernetes.io/")
        and not (not val or val == "runtime/default" or val.startswith("localhost/")))
    bad_values = sorted(values) + annotations
    if annotations:
        setters.append(_plural("annotation", "annotations", len(annotations)))
    if setters:
        return (_plural("forbidden AppArmor profile", "forbidden AppArmor profiles", len(bad_values)),
                f"{' and '.join(setters)} must not set AppArmor profile type to {_join_quote(bad_values)}")
    return None


_DEFAULT_CAPS = {"AUDIT_WRITE", "CHOWN", "DAC_OVERRIDE", "FOWNER", "FSETID", "KILL", "MKNOD", "NET_BIND_SERVICE",
                 "SETFCAP", "SETGID", "SETPCAP", "SETUID", "SYS_CHROOT"}


def _capabilities_baseline(meta: Obj, spec: Obj, v: tuple[int, int]) -> Result | None:
    bad, caps = [], set()
    for c in _containers(spec):
        added = [a for a in ((_sc(c).get("capabilities") or {}).get("add") or []) if a not in _DEFAULT_CAPS]
        if added:
            bad.append(c.get("name", ""))
            caps.update(added)
    if bad:
        return ("non-default capabilities",
                f"{_named(len(bad), bad)} must not include {_join_quote(sorted(caps))} in "
                "securityContext.capabilities.add")
    return None


def _capabilities_restricted(meta: Obj, spec: Obj, v: tuple[int, int]) -> Result | None:
    if v < (1, 22) or (v >= (1, 25) and _windows(spec)):
        return None
    missing_drop, adding, caps = [], [], set()
    for c in _containers(spec):
        capabilities = _sc(c).get("capabilities")
        if capabilities is None:
            missing_drop.append(c.get("name", ""))
            continue
        if "ALL" not in (capabilities.get("drop") or []):
            missing_drop.append(c.get("name", ""))
        added = [a for a in (capabilities.get("add") or []) if a != "NET_BIND_SERVICE"]
        if added:
            adding.append(c.get("name", ""))
            caps.update(added)
    details = []
    if missing_drop:
        details.append(f'{_named(len(missing_drop), missing_drop)} must set securityContext.capabilities.drop=["ALL"]')
    if adding:
        details.append(f"{_named(len(adding), adding)} must not include {_join_quote(sorted(caps))} in "
                       "securityContext.capabilities.add")
    return ("unrestricted capabilities", "; ".join(details)) if details else None


def _host_namespaces(meta: Obj, spec: Obj, v: tuple[int, int]) -> Result | None:
    used = [f"{k}=true" for k in ("hostNetwork", "hostPID", "hostIPC") if spec.get(k)]
    return ("host namespaces", ", ".join(used)) if used else None


def _host_path_volumes(meta: Obj, spec: Obj, v: tuple[int, int]) -> Result | None:
    names = [vol.get("name", "") for vol in spec.get("volumes") or [] if vol.get("hostPath") is not None]
    return ("hostPath volumes", _named(len(names), names, "volume", "volumes")) if names else None


def _host_ports(meta: Obj, spec: Obj, v: tuple[int, int]) -> Result | None:
    bad, ports = [], set()
    for c in _containers(spec):
        used = [str(p["hostPort"]) for p in c.get("ports") or [] if p.get("hostPort")]
        if used:
            bad.append(c.get("name", ""))
            ports.update(used)
    if bad:
        return ("hostPort", f"{_named(len(bad), bad)} {_plural('uses', 'use', len(bad))} "
                            f"{_plural('hostPort', 'hostPorts', len(ports))} {', '.join(sorted(ports))}")
    return None


def _host_probes_and_lifecycle(meta: Obj, spec: Obj, v: tuple[int, int]) -> Result | None:
    if v < (1, 34):
        return None
    bad: set[str] = set()
    hosts: set[str] = set()
    for c in _containers(spec):
        handlers = [c.get("livenessProbe"), c.get("readinessProbe"), c.get("startupProbe"),
                    *((c.get("lifecycle") or {}).get(k) for k in ("postStart", "preStop"))]
        for h in handlers:
            for kind in ("httpGet", "tcpSocket"):
                host = ((h or {}).get(kind) or {}).get("host")
                if host:
                    bad.add(c.get("name", ""))
                    hosts.add(host)
    if bad:
        return ("probe or lifecycle host",
                f"{_named(len(bad), sorted(bad))} {_plural('uses', 'use', len(bad))} "
                f"{_plural('probe or lifecycle host', 'probe or lifecycle hosts', len(hosts))} "
                f"{_join_quote(sorted(hosts))}")
    return None


def _privileged(meta: Obj, spec: Obj, v: tuple[int, int]) -> Result | None:
    bad = [c.get("name", "") for c in _containers(spec) if _sc(c).get("privileged") is True]
    return ("privileged", f"{_named(len(bad), bad)} must not set securityContext.privileged=true") if bad else None


def _proc_mount(meta: Obj, spec: Obj, v: tuple[int, int]) -> Result | None:
    bad, types = [], set()
    for c in _containers(spec):
        pm = _sc(c).get("procMount")
        if pm is not None and pm != "Default":
            bad.append(c.get("name", ""))
            types.add(pm)
    if bad:
        return ("procMount",
                f"{_named(len(bad), bad)} must not set securityContext.procMount to {_join_quote(sorted(types))}")
    return None


_VOLUME_OK = ("configMap", "csi", "downwardAPI", "emptyDir", "ephemeral", "persistentVolumeClaim", "projected",
              "secret")


def _restricted_volumes(meta: Obj, spec: Obj, v: tuple[int, int]) -> Result | None:
    names = sorted({vol.get("name", "") for vol in spec.get("volumes") or []
                    if not any(vol.get(k) is not None for k in _VOLUME_OK)})
    if names:  # Go's %q of a []string: ["a" "b"]
        return ("restricted volume types", "volumes [" + " ".join(f'"{n}"' for n in names) + "] have restricted types")
    return None


def _run_as_non_root(meta: Obj, spec: Obj, v: tuple[int, int]) -> Result | None:
    # The hostUsers=false relaxation is behind the UserNamespacesPodSecurityStandards gate (off by default).
    if v >= (1, 25) and _windows(spec):
        return None
    pod = (spec.get("securityContext") or {}).get("runAsNonRoot")
    explicit, implicit = [], []
    for c in _containers(spec):
        value = _sc(c).get("runAsNonRoot")
        if value is not None:
            if value is False:
                explicit.append(c.get("name", ""))
        elif pod is not True:
            implicit.append(c.get("name", ""))
    setters = _setters(pod is False, explicit)
    if setters:
        return ("runAsNonRoot != true", f"{' and '.join(setters)} must not set securityContext.runAsNonRoot=false")
    if implicit:
        return ("runAsNonRoot != true",
                f"pod or {_named(len(implicit), implicit)} must set securityContext.runAsNonRoot=true")
    return None


def _run_as_user(meta: Obj, spec: Obj, v: tuple[int, int]) -> Result | None:
    if v < (1, 23) or (v >= (1, 25) and _windows(spec)):
        return None
    bad = [c.get("name", "") for c in _containers(spec) if _sc(c).get("runAsUser") == 0]
    setters = _setters((spec.get("securityContext") or {}).get("runAsUser") == 0, bad)
    return ("runAsUser=0", f"{' and '.join(setters)} must not set runAsUser=0") if setters else None


_SELINUX_TYPES = ("", "container_t", "container_init_t", "container_kvm_t")


def _se_linux_options(meta: Obj, spec: Obj, v: tuple[int, int]) -> Result | None:
    types: set[str] = set()
    flags = {"user": False, "role": False}

    def valid(opts: Obj) -> bool:
        ok = True
        if opts.get("type", "") not in _SELINUX_TYPES:
            ok = False
            types.add(opts.get("type", ""))
        for k in ("user", "role"):
            if opts.get(k):
                ok, flags[k] = False, True
        return ok

    pod_opts = (spec.get("securityContext") or {}).get("seLinuxOptions")
    pod_bad = pod_opts is not None and not valid(pod_opts)
    bad = [c.get("name", "") for c in _containers(spec)
           if _sc(c).get("seLinuxOptions") is not None and not valid(_sc(c)["seLinuxOptions"])]
    setters = _setters(pod_bad, bad)
    if not setters:
        return None
    data = []
    if types:  # upstream only lists user/role alongside a bad type
        data.append(f"{_plural('type', 'types', len(types))} {_join_quote(sorted(types))}")
        data += [f"{k} may not be set" for k in ("user", "role") if flags[k]]
    return ("seLinuxOptions", f"{' and '.join(setters)} set forbidden securityContext.seLinuxOptions: "
                              f"{'; '.join(data)}")


def _seccomp(spec: Obj, restricted: bool) -> Result | None:
    ok = ("RuntimeDefault", "Localhost")
    values: set[str] = set()
    pod_profile = (spec.get("securityContext") or {}).get("seccompProfile")
    pod_bad = pod_profile is not None and pod_profile.get("type") not in ok
    if pod_bad:
        values.add(str(pod_profile.get("type")))
    pod_set = pod_profile is not None and not pod_bad
    explicit, implicit = [], []
    for c in _containers(spec):
        prof = _sc(c).get("seccompProfile")
        if prof is not None:
            if prof.get("type") not in ok:
                explicit.append(c.get("name", ""))
                values.add(str(prof.get("type")))
        elif not pod_set:
            implicit.append(c.get("name", ""))
    setters = _setters(pod_bad, explicit)
    if setters:
        return ("seccompProfile", f"{' and '.join(setters)} must not set securityContext.seccompProfile.type to "
                                  f"{_join_quote(sorted(values))}")
    if restricted and implicit:
        return ("seccompProfile", f"pod or {_named(len(implicit), implicit)} must set "
                                  'securityContext.seccompProfile.type to "RuntimeDefault" or "Localhost"')
    return None


def _seccomp_baseline(meta: Obj, spec: Obj, v: tuple[int, int]) -> Result | None:
    if v < (1, 19):
        return None  # the v1.0-1.18 annotation form is not modelled
    return _seccomp(spec, restricted=False)


def _seccomp_restricted(meta: Obj, spec: Obj, v: tuple[int, int]) -> Result | None:
    if v < (1, 19) or (v >= (1, 25) and _windows(spec)):
        return None
    return _seccomp(spec, restricted=True)


_SYSCTLS = [((1, 0), {"kernel.shm_rmid_forced", "net.ipv4.ip_local_port_range", "net.ipv4.tcp_syncookies",
                      "net.ipv4.ping_group_range", "net.ipv4.ip_unprivileged_port_start"}),
            ((1, 27), {"net.ipv4.ip_local_reserved_ports"}),
            ((1, 29), {"net.ipv4.tcp_keepalive_time", "net.ipv4.tcp_fin_timeout", "net.ipv4.tcp_keepalive_intvl",
                       "net.ipv4.tcp_keepalive_probes"})]


def _sysctls(meta: Obj, spec: Obj, v: tuple[int, int]) -> Result | None:
    allowed = set().union(*(names for since, names in _SYSCTLS if v >= since))
    bad = [s.get("name", "") for s in (spec.get("securityContext") or {}).get("sysctls") or []
           if s.get("name") not in allowed]
    return ("forbidden sysctls", ", ".join(bad)) if bad else None


def _windows_host_process(meta: Obj, spec: Obj, v: tuple[int, int]) -> Result | None:
    def on(sc: Obj) -> bool:
        return (sc.get("windowsOptions") or {}).get("hostProcess") is True

    bad = [c.get("name", "") for c in _containers(spec) if on(_sc(c))]
    setters = _setters(on(spec.get("securityContext") or {}), bad)
    if setters:
        return ("hostProcess", f"{' and '.join(setters)} must not set securityContext.windowsOptions.hostProcess=true")
    return None


# (check, level, overlap) in upstream's registration (file-name) order.
_CHECKS: list[tuple[Check, str, bool]] = [
    (_allow_privilege_escalation, "restricted", False),
    (_app_armor_profile, "baseline", False),
    (_capabilities_baseline, "baseline", True),
    (_capabilities_restricted, "restricted", False),
    (_host_namespaces, "baseline", False),
    (_host_path_volumes, "baseline", True),
    (_host_ports, "baseline", False),
    (_host_probes_and_lifecycle, "baseline", False),
    (_privileged, "baseline", False),
    (_proc_mount, "baseline", False),
    (_restricted_volumes, "restricted", False),
    (_run_as_non_root, "restricted", False),
    (_run_as_user, "restricted", False),
    (_se_linux_options, "baseline", False),
    (_seccomp_baseline, "baseline", False),
    (_seccomp_restricted, "restricted", False),
    (_sysctls, "baseline", False),
    (_windows_host_process, "baseline", False),
]


def evaluate(pod_spec: Obj, level: str, version: str = "latest", pod_meta: Obj | None = None) -> list[Result]:
    """The (reason, detail) of every check ``pod_spec`` fails at ``level``/``version`` (checkRegistry.EvaluatePod)."""
    if level == "privileged":
        return []
    v = parse_version(version) or _LATEST
    meta, spec = pod_meta or {}, pod_spec or {}
    plan = [c for c, lvl, overlap in _CHECKS if lvl == "baseline" and not overlap]
    if level == "baseline":
        plan += [c for c, lvl, overlap in _CHECKS if overlap]
    else:
        plan += [c for c, lvl, _ in _CHECKS if lvl == "restricted"]
    return [r for r in (check(meta, spec, v) for check in plan) if r is not None]


def format_results(results: list[Result]) -> str:
    """AggregateCheckResult.ForbiddenDetail: ``reason (detail), reason, ...``."""
    return ", ".join(f"{r} ({d})" if d else r for r, d in results)


# ------------------------------------------------------------------------------------------ admission

def _namespace_labels(store: Any, namespace: str) -> dict[str, str]:
    entry = store._bucket("namespaces").get(("", namespace))
    return ((entry.obj.get("metadata") or {}).get("labels") or {}) if entry is not None else {}


def enforce(store: Any, namespace: str, pod: Obj) -> None:
    """Raise 403 if the namespace's enforce level rejects ``pod`` (ValidatePod, enforce part)."""
    level, version = policy(_namespace_labels(store, namespace))["enforce"]
    if level == "privileged":
        return
    results = evaluate(pod.get("spec") or {}, level, version, pod.get("metadata"))
    if results:
        from . import errors

        raise errors.forbidden("", "pods", (pod.get("metadata") or {}).get("name", ""),
                               f'violates PodSecurity "{level}:{version}": {format_results(results)}')


def warnings(store: Any, kind: str, namespace: str, obj: Obj) -> list[str]:
    """The ``would violate PodSecurity`` warning texts for a created Pod or pod-template workload."""
    if kind == "Pod":
        meta, spec = obj.get("metadata"), obj.get("spec")
    elif kind in WORKLOAD_TEMPLATES:
        template: Any = obj
        for k in WORKLOAD_TEMPLATES[kind]:
            template = (template or {}).get(k)
        if not template:
            return []
        meta, spec = template.get("metadata"), template.get("spec")
    else:
        return []
    pol = policy(_namespace_labels(store, namespace))
    level, version = pol["warn"]
    if level == "privileged":
        return []
    if kind == "Pod" and pol["enforce"] == pol["warn"]:
        return []  # same evaluation as enforce, which let the pod through
    results = evaluate(spec or {}, level, version, meta)
    return [f'would violate PodSecurity "{level}:{version}": {format_results(results)}'] if results else []


def namespace_causes(new: Obj, old: Obj | None = None) -> list[Any]:
    """422 causes for invalid PodSecurity labels (ValidateNamespace); on update only if they changed."""
    from .errors import Cause

    errs = label_errors((new.get("metadata") or {}).get("labels"))
    if old is not None and errs and errs == label_errors((old.get("metadata") or {}).get("labels")):
        return []
    return [Cause("FieldValueInvalid", f'Invalid value: "{value}": {msg}', f"metadata.labels[{key}]")
            for key, value, msg in errs]


def _stricter_or_other_version(new: tuple[str, str], old: tuple[str, str]) -> bool:
    if new == old or new[0] == "privileged":
        return False
    return new[1] != old[1] or LEVELS.index(new[0]) > LEVELS.index(old[0])


def namespace_update_warnings(store: Any, name: str, old_labels: dict[str, str] | None,
                              new_labels: dict[str, str] | None) -> list[str]:
    """ValidateNamespace on update: a new, stricter enforce policy dry-runs the namespace's pods
    (EvaluatePodsInNamespace: one line for the namespace, then ``pod (and N other pods): reasons``)."""
    new, old = policy(new_labels)["enforce"], policy(old_labels)["enforce"]
    if label_errors(new_labels) or not _stricter_or_other_version(new, old):
        return []
    pods = list(store.scan("pods", name))
    # prioritizePods: one pod per controller first, then the other replicas.
    first, rest, seen = [], [], set()
    for p in pods:
        ctrl = next((o.get("uid") for o in (p["metadata"].get("ownerReferences") or []) if o.get("controller")),
                    None)
        if ctrl is not None and ctrl in seen:
            rest.append(p)
        else:
            first.append(p)
            if ctrl is not None:
                seen.add(ctrl)
    counts: dict[str, list[Any]] = {}  # reasons -> [lexically first pod name, count]
    order: list[str] = []
    for p in first + rest:
        results = evaluate(p.get("spec") or {}, new[0], new[1], p.get("metadata"))
        if not results:
            continue
        reasons = ", ".join(r for r, _ in results)
        pname = p["metadata"]["name"]
        if reasons not in counts:
            counts[reasons] = [pname, 0]
            order.append(reasons)
        elif pname < counts[reasons][0]:
            counts[reasons][0] = pname
        counts[reasons][1] += 1
    if not order:
        return []
    decorated = []
    for reasons in order:
        pname, n = counts[reasons]
        others = "" if n == 1 else " (and 1 other pod)" if n == 2 else f" (and {n - 1} other pods)"
        decorated.append(f"{pname}{others}: {reasons}")
    head = f'existing pods in namespace "{name}" violate the new PodSecurity enforce level "{new[0]}:{new[1]}"'
    return [head, *sorted(decorated)]


def update_warnings(store: Any, kind: str, namespace: str, obj: Obj, old_labels: dict[str, str] | None) -> list[str]:
    """Warnings for an update (PUT/PATCH) of a pod-template workload or a Namespace's labels."""
    if kind == "Namespace":
        meta = obj.get("metadata") or {}
        return namespace_update_warnings(store, meta.get("name", ""), old_labels, meta.get("labels"))
    if kind in WORKLOAD_TEMPLATES:
        return warnings(store, kind, namespace, obj)
    return []
