"""Validation with upstream field paths, reasons and messages (``pkg/apis/*/validation``).

Returns ``Cause`` lists; the store turns them into one 422 Invalid as upstream aggregates.
Cause order follows upstream's validators (metadata, then spec fields in struct order).
"""

from __future__ import annotations

import json
from typing import Any

from ..objects import deep_copy
from . import validation_text as vt
from .errors import Cause
from .resources import ResourceType
from .selectors import label_selector_matches

Obj = dict[str, Any]

# Kinds whose names must be DNS-1123 labels (Service: RelaxedServiceNameValidation, on in v1.36);
# the rest are DNS-1123 subdomains.
_DNS1123_LABEL = {"Namespace", "Service"}
_TEMPLATE_KINDS = {"Deployment", "ReplicaSet", "StatefulSet", "DaemonSet"}
_RESTART_POLICIES = ("Always", "OnFailure", "Never")
POD_UPDATE_FORBIDDEN = (
    "pod updates may not change fields other than `spec.containers[*].image`,`spec.initContainers[*].image`,"
    "`spec.activeDeadlineSeconds`,`spec.tolerations` (only additions to existing tolerations),"
    "`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was previously negative)"
)


def go_json(value: Any) -> str:
    """A value as Go's ``%v``-via-JSON in field errors (compact JSON)."""
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def invalid(field: str, value: Any, detail: str) -> Cause:
    if isinstance(value, str):
        shown = f'"{value}"'
    elif isinstance(value, (dict, list)) or value is None:
        shown = go_json(value)
    else:
        shown = str(value)
    return Cause("FieldValueInvalid", f"Invalid value: {shown}: {detail}", field)


def required(field: str, detail: str = "") -> Cause:
    return Cause("FieldValueRequired", "Required value" + (f": {detail}" if detail else ""), field)


def duplicate(field: str, value: str) -> Cause:
    return Cause("FieldValueDuplicate", f'Duplicate value: "{value}"', field)


def not_supported(field: str, value: str, supported: tuple[str, ...]) -> Cause:
    listed = ", ".join(f'"{s}"' for s in supported)
    return Cause("FieldValueNotSupported", f'Unsupported value: "{value}": supported values: {listed}', field)


def forbidden(field: str, detail: str) -> Cause:
    return Cause("FieldValueForbidden", f"Forbidden: {detail}", field)


def validate_metadata(rtype: ResourceType, obj: Obj) -> list[Cause]:
    meta = obj.get("metadata") or {}
    name = meta.get("name") or ""
    causes: list[Cause] = []
    if not name and not meta.get("generateName"):
        causes.append(required("metadata.name", "name or generateName is required"))
    elif name:
        check = vt.dns1123_label_errors if rtype.kind in _DNS1123_LABEL else vt.dns1123_subdomain_errors
        for e in check(name):
            causes.append(invalid("metadata.name", name, e))
    causes += _labels("metadata.labels", meta.get("labels") or {})
    return causes


def _labels(field: str, labels: dict[str, Any]) -> list[Cause]:
    causes = []
    for key, value in labels.items():
        for e in vt.qualified_name_errors(key):
            msg = vt.label_key_error(key) if len(key.split("/")) > 2 else e
            causes.append(invalid(field, key, msg or e))
        err = vt.label_value_error(str(value))
        if err:
            causes.append(invalid(field, value, err))
    return causes


# ------------------------------------------------------------------------------------------------ pods

def _negative(quantity: Any) -> bool:
    from ..scheduler.quantity import QuantityError, parse_quantity

    try:
        return parse_quantity(quantity) < 0
    except (QuantityError, ValueError, TypeError):
        return False


def _container(c: Obj, path: str, seen: set[str]) -> list[Cause]:
    causes: list[Cause] = []
    name = c.get("name") or ""
    if not name:
        causes.append(required(f"{path}.name"))
    else:
        for e in vt.dns1123_label_errors(name):
            causes.append(invalid(f"{path}.name", name, e))
        if name in seen:
            causes.append(duplicate(f"{path}.name", name))
        seen.add(name)
    if not c.get("image"):
        causes.append(required(f"{path}.image"))
    res = c.get("resources") or {}
    for section in ("limits", "requests"):
        for rname, q in (res.get(section) or {}).items():
            if _negative(q):
                causes.append(invalid(f"{path}.resources.{section}[{rname}]", str(q),
                                      "must be greater than or equal to 0"))
    return causes


def validate_pod_spec(spec: Obj, path: str) -> list[Cause]:
    causes: list[Cause] = []
    seen: set[str] = set()
    for i, c in enumerate(spec.get("initContainers") or []):
        causes += _container(c, f"{path}.initContainers[{i}]", seen)
    containers = spec.get("containers") or []
    if not containers:
        causes.append(required(f"{path}.containers"))
    for i, c in enumerate(containers):
        causes += _container(c, f"{path}.containers[{i}]", seen)
    policy = spec.get("restartPolicy")
    if policy is not None and policy not in _RESTART_POLICIES:
        causes.append(not_supported(f"{path}.restartPolicy", policy, _RESTART_POLICIES))
    return causes


def _pod_update(new: Obj, old: Obj) -> list[Cause]:
    """Only images, activeDeadlineSeconds, added tolerations and grace period may change in a pod spec."""
    nspec, ospec = new.get("spec") or {}, old.get("spec") or {}
    if nspec == ospec:
        return []
    mutable = deep_copy(nspec)
    for key in ("containers", "initContainers"):
        olds = ospec.get(key) or []
        for i, c in enumerate(mutable.get(key) or []):
            if i < len(olds) and "image" in olds[i]:
                c["image"] = olds[i]["image"]
    for key in ("activeDeadlineSeconds", "terminationGracePeriodSeconds", "schedulingGates", "tolerations",
                "nodeName"):
        if key in ospec:
            mutable[key] = ospec[key]
        else:
            mutable.pop(key, None)
    if mutable == ospec:
        return []
    return [forbidden("spec", POD_UPDATE_FORBIDDEN + "\n")]


# ------------------------------------------------------------------------------------------------ workloads

def _workload(kind: str, spec: Obj) -> list[Cause]:
    causes: list[Cause] = []
    selector = spec.get("selector")
    empty = selector is not None and not selector.get("matchLabels") and not selector.get("matchExpressions")
    if selector is None:
        causes.append(required("spec.selector"))
    elif empty:
        causes.append(invalid("spec.selector", selector, f"empty selector is invalid for {kind.lower()}"))
    template = spec.get("template") or {}
    labels = (template.get("metadata") or {}).get("labels") or {}
    # A nil selector matches nothing; an empty one matches everything (already reported above).
    if not empty and (selector is None or not label_selector_matches(selector, labels)):
        causes.append(invalid("spec.template.metadata.labels", labels, "`selector` does not match template `labels`"))
    causes += validate_pod_spec(template.get("spec") or {}, "spec.template.spec")
    return causes


_JOB_RESTART_POLICIES = ("OnFailure", "Never")
_CONCURRENCY_POLICIES = ("Allow", "Forbid", "Replace")
_COMPLETION_MODES = ("NonIndexed", "Indexed")
_POD_REPLACEMENT_POLICIES = ("TerminatingOrFailed", "Failed")
# A CronJob's name leaves room for the 11-character ``-<minutes>`` suffix of its Jobs (validation.go).
CRONJOB_NAME_MAX = 52


def _nonnegative(spec: Obj, key: str, path: str) -> list[Cause]:
    value = spec.get(key)
    if isinstance(value, int) and value < 0:
        return [invalid(f"{path}.{key}", value, "must be greater than or equal to 0")]
    return []


def _job_spec(spec: Obj, path: str, template_only: bool = False) -> list[Cause]:
    """``validateJobSpec`` (and, for a CronJob's jobTemplate, without the selector checks)."""
    causes: list[Cause] = []
    for key in ("parallelism", "completions", "activeDeadlineSeconds", "backoffLimit", "ttlSecondsAfterFinished"):
        causes += _nonnegative(spec, key, path)
    mode = spec.get("completionMode")
    if mode is not None and mode not in _COMPLETION_MODES:
        causes.append(not_supported(f"{path}.completionMode", mode, _COMPLETION_MODES))
    if mode == "Indexed" and spec.get("completions") is None:
        causes.append(required(f"{path}.completions", "when completion mode is Indexed"))
    prp = spec.get("podReplacementPolicy")
    if prp is not None and prp not in _POD_REPLACEMENT_POLICIES:
        causes.append(not_supported(f"{path}.podReplacementPolicy", prp, _POD_REPLACEMENT_POLICIES))
    template = spec.get("template") or {}
    if not template_only:
        selector = spec.get("selector")
        labels = (template.get("metadata") or {}).get("labels") or {}
        if selector is None:
            causes.append(required(f"{path}.selector"))
        elif not label_selector_matches(selector, labels):
            causes.append(invalid(f"{path}.template.metadata.labels", labels,
                                  "`selector` does not match template `labels`"))
    tspec = template.get("spec") or {}
    causes += validate_pod_spec(tspec, f"{path}.template.spec")
    policy = tspec.get("restartPolicy")
    if policy in _RESTART_POLICIES and policy not in _JOB_RESTART_POLICIES:
        causes.append(not_supported(f"{path}.template.spec.restartPolicy", policy, _JOB_RESTART_POLICIES))
    return causes


def _cronjob(obj: Obj) -> list[Cause]:
    """``ValidateCronJobCreate``: name length, schedule, time zone, policy, limits, the jobTemplate's JobSpec."""
    from ..rules import cron

    causes: list[Cause] = []
    name = (obj.get("metadata") or {}).get("name") or ""
    if len(name) > CRONJOB_NAME_MAX:
        causes.append(invalid("metadata.name", name, f"must be no more than {CRONJOB_NAME_MAX} characters"))
    spec = obj.get("spec") or {}
    schedule = spec.get("schedule") or ""
    if not schedule:
        causes.append(required("spec.schedule"))
    else:
        error = cron.schedule_error(schedule)
        if error:
            causes.append(invalid("spec.schedule", schedule, error))
        if "TZ" in schedule:
            causes.append(invalid("spec.schedule", schedule,
                                  "cannot use TZ or CRON_TZ in schedule, use timeZone field instead"))
    tz = spec.get("timeZone")
    if tz is not None:
        error = cron.time_zone_error(tz)
        if error:
            causes.append(invalid("spec.timeZone", tz, error))
    policy = spec.get("concurrencyPolicy")
    if not policy:
        causes.append(required("spec.concurrencyPolicy"))
    elif policy not in _CONCURRENCY_POLICIES:
        causes.append(not_supported("spec.concurrencyPolicy", policy, _CONCURRENCY_POLICIES))
    for key in ("startingDeadlineSeconds", "successfulJobsHistoryLimit", "failedJobsHistoryLimit"):
        causes += _nonnegative(spec, key, "spec")
    causes += _labels("spec.jobTemplate.metadata.labels",
                      ((spec.get("jobTemplate") or {}).get("metadata") or {}).get("labels") or {})
    causes += _job_spec((spec.get("jobTemplate") or {}).get("spec") or {}, "spec.jobTemplate.spec",
                        template_only=True)
    return causes


_TRAFFIC_DISTRIBUTIONS = ("PreferClose", "PreferSameZone", "PreferSameNode")


def _service(spec: Obj) -> list[Cause]:
    value = spec.get("trafficDistribution")
    if value is not None and value not in _TRAFFIC_DISTRIBUTIONS:
        return [not_supported("spec.trafficDistribution", value, _TRAFFIC_DISTRIBUTIONS)]
    return []


def warnings_on_write(kind: str, obj: Obj) -> list[str]:
    """``WarningsOnCreate``/``WarningsOnUpdate`` texts: the deprecated PreferClose alias of a Service."""
    if kind == "Service" and (obj.get("spec") or {}).get("trafficDistribution") == "PreferClose":
        return ['spec.trafficDistribution: "PreferClose" is deprecated; use "PreferSameZone"']
    return []


def _job_update(new: Obj, old: Obj) -> list[Cause]:
    """``ValidateJobSpecUpdate``: selector, completions (NonIndexed) and, for a Job that ran, the template are
    immutable."""
    nspec, ospec = new.get("spec") or {}, old.get("spec") or {}
    causes: list[Cause] = []
    if nspec.get("selector") != ospec.get("selector"):
        causes.append(invalid("spec.selector", nspec.get("selector"), "field is immutable"))
    if nspec.get("completions") != ospec.get("completions") and nspec.get("completionMode") != "Indexed":
        causes.append(invalid("spec.completions", nspec.get("completions"), "field is immutable"))
    started = bool((old.get("status") or {}).get("startTime"))
    if nspec.get("template") != ospec.get("template") and (started or not nspec.get("suspend")):
        causes.append(invalid("spec.template", nspec.get("template"), "field is immutable"))
    for key in ("completionMode", "podFailurePolicy", "successPolicy", "backoffLimitPerIndex", "managedBy"):
        if nspec.get(key) != ospec.get(key):
            causes.append(invalid(f"spec.{key}", nspec.get(key), "field is immutable"))
    return causes


def _pdb(spec: Obj) -> list[Cause]:
    if spec.get("minAvailable") is not None and spec.get("maxUnavailable") is not None:
        internal = {"MinAvailable": spec.get("minAvailable"), "Selector": spec.get("selector"),
                    "MaxUnavailable": spec.get("maxUnavailable"),
                    "UnhealthyPodEvictionPolicy": spec.get("unhealthyPodEvictionPolicy")}
        return [invalid("spec", internal, "minAvailable and maxUnavailable cannot be both set")]
    return []


def _pvc(spec: Obj) -> list[Cause]:
    causes: list[Cause] = []
    if not spec.get("accessModes"):
        causes.append(required("spec.accessModes", "at least 1 access mode is required"))
    if "storage" not in ((spec.get("resources") or {}).get("requests") or {}):
        causes.append(required("spec.resources[storage]"))
    return causes


def _service_update(new: Obj, old: Obj) -> list[Cause]:
    nspec, ospec = new.get("spec") or {}, old.get("spec") or {}
    old_ip, new_ip = ospec.get("clusterIP"), nspec.get("clusterIP")
    if old_ip and old_ip != "None" and new_ip and new_ip != old_ip:
        ips = list(nspec.get("clusterIPs") or [new_ip])
        if ips and ips[0] == old_ip:
            ips[0] = new_ip
        return [invalid("spec.clusterIPs[0]", ips, "may not change once set")]
    return []


# ------------------------------------------------------------------------------------------------ networking.k8s.io

# pkg/apis/networking/validation/validation.go (v1 request paths: defaultBackend, service.port.number ...).
_PATH_TYPES = ("Exact", "ImplementationSpecific", "Prefix")
_INVALID_PATH_SEQUENCES = ("//", "/./", "/../", "%2f", "%2F")
_INVALID_PATH_SUFFIXES = ("/..", "/.")


def _is_ip(host: str) -> bool:
    import ipaddress

    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def _ingress_backend(backend: Obj, path: str) -> list[Cause]:
    resource, service = backend.get("resource"), backend.get("service")
    if resource is not None and service is not None:
        return [invalid(path, "", "cannot set both resource and service backends")]
    if resource is not None:
        return _typed_local_reference(resource, f"{path}.resource")
    if service is None:
        return [invalid(path, "", "resource or service backend is required")]
    causes: list[Cause] = []
    if not service.get("name"):
        causes.append(required(f"{path}.service.name"))
    port = service.get("port") or {}
    name, number = port.get("name") or "", port.get("number") or 0
    if name and number:
        causes.append(invalid(path, "", "cannot set both port name & port number"))
    elif number and not 1 <= int(number) <= 65535:
        causes.append(invalid(f"{path}.service.port.number", int(number), "must be between 1 and 65535, inclusive"))
    elif not name and not number:
        causes.append(required(path, "port name or number is required"))
    return causes


def _typed_local_reference(ref: Obj, path: str) -> list[Cause]:
    causes: list[Cause] = []
    if ref.get("apiGroup") is not None:
        for e in vt.dns1123_subdomain_errors(ref["apiGroup"]):
            causes.append(invalid(f"{path}.apiGroup", ref["apiGroup"], e))
    if not ref.get("kind"):
        causes.append(required(f"{path}.kind", "kind is required"))
    if not ref.get("name"):
        causes.append(required(f"{path}.name", "name is required"))
    return causes


def _ingress_path(p: Obj, path: str) -> list[Cause]:
    path_type = p.get("pathType")
    if path_type is None:
        return [required(f"{path}.pathType", "pathType must be specified")]
    value = p.get("path") or ""
    causes: list[Cause] = []
    if path_type in ("Exact", "Prefix"):
        if not value.startswith("/"):
            causes.append(invalid(f"{path}.path", value, "must be an absolute path"))
        if value:
            causes += [invalid(f"{path}.path", value, f"must not contain '{seq}'")
                       for seq in _INVALID_PATH_SEQUENCES if seq in value]
            causes += [invalid(f"{path}.path", value, f"cannot end with '{suffix}'")
                       for suffix in _INVALID_PATH_SUFFIXES if value.endswith(suffix)]
    elif path_type == "ImplementationSpecific":
        if value and not value.startswith("/"):
            causes.append(invalid(f"{path}.path", value, "must be an absolute path"))
    else:
        causes.append(not_supported(f"{path}.pathType", path_type, _PATH_TYPES))
    return causes + _ingress_backend(p.get("backend") or {}, f"{path}.backend")


def _ingress(spec: Obj) -> list[Cause]:
    causes: list[Cause] = []
    rules = spec.get("rules")
    if not rules and spec.get("defaultBackend") is None:
        causes.append(invalid("spec", rules, "either `defaultBackend` or `rules` must be specified"))
    if spec.get("defaultBackend") is not None:
        causes += _ingress_backend(spec["defaultBackend"], "spec.defaultBackend")
    for i, rule in enumerate(rules or []):
        host, at = rule.get("host") or "", f"spec.rules[{i}]"
        wildcard = "*" in host
        if host:
            if _is_ip(host):
                causes.append(invalid(f"{at}.host", host, "must be a DNS name, not an IP address"))
            if not wildcard:
                causes += [invalid(f"{at}.host", host, e) for e in vt.dns1123_subdomain_errors(host)]
        http = rule.get("http")
        if http is not None:
            paths = http.get("paths") or []
            if not paths:
                causes.append(required(f"{at}.http.paths"))
            for j, p in enumerate(paths):
                causes += _ingress_path(p, f"{at}.http.paths[{j}]")
    class_name = spec.get("ingressClassName")
    if class_name is not None:
        causes += [invalid("spec.ingressClassName", class_name, e) for e in vt.dns1123_subdomain_errors(class_name)]
    return causes


def _ingress_class(spec: Obj) -> list[Cause]:
    """validateIngressClassSpec: the controller is a domain-prefixed path (IsDomainPrefixedPath)."""
    controller = spec.get("controller") or ""
    causes: list[Cause] = []
    if not controller:
        causes.append(required("spec.controller"))
    else:
        host, _, rest = controller.partition("/")
        if not host or not rest:
            causes.append(invalid("spec.controller", controller,
                                  'must be a domain-prefixed path (such as "acme.io/foo")'))
        else:
            causes += [invalid("spec.controller", host, e) for e in vt.dns1123_subdomain_errors(host)]
    if spec.get("parameters") is not None:
        causes += _typed_local_reference(spec["parameters"], "spec.parameters")
    return causes


_POLICY_TYPES = ("Egress", "Ingress")


def _network_policy(spec: Obj) -> list[Cause]:
    causes: list[Cause] = []
    types = spec.get("policyTypes") or []
    for i, t in enumerate(types):
        if t not in _POLICY_TYPES:
            causes.append(not_supported(f"spec.policyTypes[{i}]", t, _POLICY_TYPES))
    if len(types) > len(_POLICY_TYPES):
        causes.append(invalid("spec.policyTypes", types, "may not specify more than two policyTypes"))
    return causes


# ------------------------------------------------------------------------------------------------ storage.k8s.io


def _csi_storage_capacity(obj: Obj) -> list[Cause]:
    name = obj.get("storageClassName") or ""
    return [invalid("storageClassName", name, e) for e in vt.dns1123_subdomain_errors(name)]


def _volume_attributes_class(obj: Obj) -> list[Cause]:
    return [required("driverName")] if not obj.get("driverName") else []


def validate(rtype: ResourceType, obj: Obj) -> list[Cause]:
    causes = validate_metadata(rtype, obj)
    spec = obj.get("spec") or {}
    kind = rtype.kind
    if kind == "Pod":
        causes += validate_pod_spec(spec, "spec")
    elif kind in _TEMPLATE_KINDS:
        causes += _workload(kind, spec)
    elif kind == "Service":
        causes += _service(spec)
    elif kind == "Job":
        causes += _job_spec(spec, "spec")
    elif kind == "CronJob":
        causes += _cronjob(obj)
    elif kind == "PodDisruptionBudget":
        causes += _pdb(spec)
    elif kind == "PersistentVolumeClaim":
        causes += _pvc(spec)
    elif kind == "Ingress":
        causes += _ingress(spec)
    elif kind == "IngressClass":
        causes += _ingress_class(spec)
    elif kind == "NetworkPolicy":
        causes += _network_policy(spec)
    elif kind == "CSIStorageCapacity":
        causes += _csi_storage_capacity(obj)
    elif kind == "VolumeAttributesClass":
        causes += _volume_attributes_class(obj)
    return causes


def validate_for_update(rtype: ResourceType, new: Obj, old: Obj) -> list[Cause]:
    """All causes of an update. An immutable-selector error stands alone, as v1.36 reports it."""
    changes = validate_update(rtype, new, old)
    if any(c.field == "spec.selector" and c.message.endswith("field is immutable") for c in changes):
        return changes
    return validate(rtype, new) + changes


def validate_update(rtype: ResourceType, new: Obj, old: Obj) -> list[Cause]:
    """Causes that only exist on update (immutable fields)."""
    kind = rtype.kind
    if kind == "Pod":
        return _pod_update(new, old)
    if kind in ("Deployment", "ReplicaSet", "DaemonSet"):  # apps/v1: ValidateImmutableField(spec.selector)
        nsel, osel = (new.get("spec") or {}).get("selector"), (old.get("spec") or {}).get("selector")
        if nsel != osel:
            return [invalid("spec.selector", nsel, "field is immutable")]
    if kind == "Job":
        return _job_update(new, old)
    if kind == "Service":
        return _service_update(new, old)
    if kind == "IngressClass":  # validateIngressClassSpecUpdate
        nctl, octl = (new.get("spec") or {}).get("controller"), (old.get("spec") or {}).get("controller")
        if nctl != octl:
            return [invalid("spec.controller", nctl, "field is immutable")]
    if kind == "CSIStorageCapacity" and new.get("storageClassName") != old.get("storageClassName"):
        return [invalid("storageClassName", new.get("storageClassName"), "field is immutable")]
    if kind == "VolumeAttributesClass":  # ValidateVolumeAttributesClassUpdate
        causes: list[Cause] = []
        if new.get("driverName") != old.get("driverName"):
            causes.append(forbidden("driverName", "updates to driverName are forbidden."))
        if (new.get("parameters") or {}) != (old.get("parameters") or {}):
            causes.append(forbidden("parameters", "updates to parameters are forbidden."))
        return causes
    return []
