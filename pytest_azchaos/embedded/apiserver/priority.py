"""PriorityClasses (``scheduling.k8s.io/v1``) and the Priority admission plugin.

The registry rules of ``pkg/registry/scheduling/priorityclass`` and ``pkg/apis/scheduling/validation``
(reserved ``system-`` names, the user-definable maximum, immutable value and preemptionPolicy),
the two system classes the apiserver creates at start, and the admission that resolves a pod's
``priorityClassName`` (or the global default) into ``spec.priority`` and ``spec.preemptionPolicy``
at create, with upstream's Forbidden messages.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from . import errors, validation
from .errors import Cause
from .strategy import Strategy

if TYPE_CHECKING:
    from .store import Store

Obj = dict[str, Any]
KEY = "priorityclasses.scheduling.k8s.io"
HIGHEST_USER_DEFINABLE_PRIORITY = 1000000000
SYSTEM_PREFIX = "system-"
PREEMPT_LOWER = "PreemptLowerPriority"
POLICIES = (PREEMPT_LOWER, "Never")

# scheduling.SystemPriorityClasses(): created by the apiserver's bootstrap hook.
SYSTEM_CLASSES: tuple[Obj, ...] = (
    {"metadata": {"name": "system-node-critical"}, "value": 2000001000,
     "description": "Used for system critical pods that must not be moved from their current node."},
    {"metadata": {"name": "system-cluster-critical"}, "value": 2000000000,
     "description": "Used for system critical pods that must run in the cluster, but can be moved to another node "
                    "if necessary."},
)


def _known_system_class(obj: Obj) -> str | None:
    """None when ``obj`` is one of the system classes as defined, else upstream's error text."""
    name = obj["metadata"].get("name", "")
    for system in SYSTEM_CLASSES:
        if system["metadata"]["name"] == name:
            if obj.get("value") != system["value"]:
                return f"value of {name} PriorityClass must be {system['value']}"
            if obj.get("globalDefault"):
                return f"globalDefault of {name} PriorityClass must be false"
            return None
    return f"{name} is not a known system priority class"


class PriorityClassStrategy(Strategy):
    def prepare_for_create(self, obj: Obj, store: Store) -> None:
        obj.setdefault("preemptionPolicy", PREEMPT_LOWER)
        _order(obj)

    def prepare_for_update(self, new: Obj, old: Obj, subresource: str | None, store: Store) -> None:
        new.setdefault("preemptionPolicy", PREEMPT_LOWER)
        _order(new)

    def validate(self, obj: Obj, store: Store) -> list[Cause]:
        causes = validation.validate_metadata(self.rtype, obj)
        name = obj["metadata"].get("name", "")
        value = obj.get("value")
        if not isinstance(value, int) or isinstance(value, bool):
            causes.append(validation.required("value"))
        elif name.startswith(SYSTEM_PREFIX):
            why = _known_system_class(obj)
            if why is not None:
                causes.append(validation.forbidden(
                    "metadata.name", f"priority class names with '{SYSTEM_PREFIX}' prefix are reserved for system "
                    f"use only. error: {why}"))
        elif value > HIGHEST_USER_DEFINABLE_PRIORITY:
            causes.append(validation.forbidden(
                "value", f"maximum allowed value of a user defined priority is {HIGHEST_USER_DEFINABLE_PRIORITY}"))
        policy = obj.get("preemptionPolicy")
        if policy is not None and policy not in POLICIES:
            causes.append(validation.not_supported("preemptionPolicy", policy, POLICIES))
        return causes

    def validate_update(self, new: Obj, old: Obj, subresource: str | None, store: Store) -> list[Cause]:
        causes = self.validate(new, store)
        if new.get("value") != old.get("value"):
            causes.append(validation.forbidden("value", "may not be changed in an update."))
        if new.get("preemptionPolicy") != old.get("preemptionPolicy"):
            causes.append(validation.invalid("preemptionPolicy", new.get("preemptionPolicy"), "field is immutable"))
        return causes

    def check_delete(self, obj: Obj) -> None:
        """The PriorityClass REST storage refuses to delete a system class (naming the class as the resource)."""
        name = obj["metadata"]["name"]
        if any(system["metadata"]["name"] == name for system in SYSTEM_CLASSES):
            raise errors.ApiError(
                403, "Forbidden", f'{name}.scheduling.k8s.io "{name}" is forbidden: this is a system priority class '
                "and cannot be deleted", {"name": name, "group": "scheduling.k8s.io", "kind": name})

    def allocate(self, obj: Obj, store: Store, dry_run: bool) -> None:
        """The Priority admission on PriorityClass create: one global default at most."""
        if obj.get("globalDefault"):
            name = obj["metadata"].get("name", "")
            for other in store.scan(KEY):
                if other.get("globalDefault") and other["metadata"]["name"] != name:
                    raise errors.forbidden("scheduling.k8s.io", "priorityclasses", name,
                                           f"PriorityClass {other['metadata']['name']} is already marked as "
                                           "default. Only one default can exist")


def _order(obj: Obj) -> None:
    """Field order of the Go struct (value, globalDefault, description, preemptionPolicy)."""
    for key in ("value", "globalDefault", "description", "preemptionPolicy"):
        if key in obj:
            obj[key] = obj.pop(key)


def bootstrap(store: Store) -> None:
    """Create the system PriorityClasses, as kube-apiserver's post-start hook does."""
    rtype = store.registry.lookup("scheduling.k8s.io", "v1", "priorityclasses")
    assert rtype is not None
    for system in SYSTEM_CLASSES:
        if store.peek(KEY, "", system["metadata"]["name"]) is None:
            store.create(rtype, "", {"metadata": dict(system["metadata"]), "value": system["value"],
                                     "description": system["description"]})


def _default_class(store: Store) -> Obj | None:
    """The global default class; with several (created concurrently), the lowest value wins, as upstream."""
    defaults = [pc for pc in store.scan(KEY) if pc.get("globalDefault")]
    return min(defaults, key=lambda pc: pc.get("value", 0)) if defaults else None


def admit_pod(pod: Obj, store: Store, given: Any = None, given_policy: str | None = None) -> None:
    """Priority admission on pod create: set ``spec.priority`` and ``spec.preemptionPolicy`` from the class.

    ``given`` and ``given_policy`` are what the client sent (before defaulting filled the fields in).
    """
    spec = pod.setdefault("spec", {})
    name = (pod.get("metadata") or {}).get("name", "")
    class_name = spec.get("priorityClassName") or ""
    policy: str | None
    if not class_name:
        default = _default_class(store)
        if default is not None:
            spec["priorityClassName"] = default["metadata"]["name"]
            priority, policy = int(default.get("value", 0)), default.get("preemptionPolicy") or PREEMPT_LOWER
        else:
            priority, policy = 0, PREEMPT_LOWER
    else:
        pc = store.peek(KEY, "", class_name)
        if pc is None:
            raise errors.forbidden("", "pods", name, f"no PriorityClass with name {class_name} was found")
        priority, policy = int(pc.get("value", 0)), pc.get("preemptionPolicy") or PREEMPT_LOWER
    if given is not None and given != priority:
        raise errors.forbidden("", "pods", name,
                               f"the integer value of priority ({given}) must not be provided in pod spec; priority "
                               f"admission controller computed {priority} from the given PriorityClass name")
    spec["priority"] = priority
    if given_policy is not None and given_policy != policy:
        raise errors.forbidden("", "pods", name,
                               f"the string value of PreemptionPolicy ({given_policy}) must not be provided in pod "
                               f"spec; priority admission controller computed {policy} from the given PriorityClass "
                               "name")
    spec["preemptionPolicy"] = policy
