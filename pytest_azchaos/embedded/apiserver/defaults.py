"""Defaulting as the v1.36 apiserver does it (``pkg/apis/*/v1/defaults.go`` and admission).

Only fields real clients rely on are defaulted; each function mutates the object in place.
Compared field by field against ``shared/golden/defaulting`` by the golden replay tests.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

Obj = dict[str, Any]


def _pod_spec(spec: Obj) -> None:
    spec.setdefault("restartPolicy", "Always")
    spec.setdefault("terminationGracePeriodSeconds", 30)
    spec.setdefault("dnsPolicy", "ClusterFirst")
    spec.setdefault("securityContext", {})
    spec.setdefault("schedulerName", "default-scheduler")
    for c in spec.get("containers") or []:
        _container(c)
    for c in spec.get("initContainers") or []:
        _container(c)
    for v in spec.get("volumes") or []:
        if "emptyDir" in v and v["emptyDir"] is None:
            v["emptyDir"] = {}


def _container(c: Obj) -> None:
    c.setdefault("resources", {})
    c.setdefault("terminationMessagePath", "/dev/termination-log")
    c.setdefault("terminationMessagePolicy", "File")
    image = c.get("image", "")
    tagged = ":" in image.rsplit("/", 1)[-1] and not image.endswith(":latest")
    c.setdefault("imagePullPolicy", "IfNotPresent" if tagged or "@" in image else "Always")
    for p in c.get("ports") or []:
        p.setdefault("protocol", "TCP")
    res = c["resources"]
    if res.get("limits") and not res.get("requests"):
        res["requests"] = dict(res["limits"])
    elif res.get("limits"):
        for k, v in res["limits"].items():
            res["requests"].setdefault(k, v)
    for probe in ("readinessProbe", "livenessProbe", "startupProbe"):
        p = c.get(probe)
        if p:
            p.setdefault("timeoutSeconds", 1)
            p.setdefault("periodSeconds", 10)
            p.setdefault("successThreshold", 1)
            p.setdefault("failureThreshold", 3)
            if "httpGet" in p:
                p["httpGet"].setdefault("path", "/")
                p["httpGet"].setdefault("scheme", "HTTP")


SA_MOUNT_PATH = "/var/run/secrets/kubernetes.io/serviceaccount"
# The generateName alphabet (k8s.io/apimachinery/pkg/util/rand): no vowels, no look-alike digits.
_RAND_ALPHABET = "bcdfghjklmnpqrstvwxz2456789"


def _rand5() -> str:
    import secrets

    return "".join(secrets.choice(_RAND_ALPHABET) for _ in range(5))


def _service_account_volume(spec: Obj) -> None:
    """ServiceAccount admission: the ``kube-api-access-<rand5>`` projected volume and its mounts.

    Upstream's three sources (token, kube-root-ca.crt, namespace); the OpenShift 4th source seen in the
    golden recordings is an artifact of that environment and deliberately absent.
    """
    if spec.get("automountServiceAccountToken") is False:
        return
    containers = list(spec.get("initContainers") or []) + list(spec.get("containers") or [])
    if any(m.get("mountPath") == SA_MOUNT_PATH for c in containers for m in c.get("volumeMounts") or []):
        return
    name = "kube-api-access-" + _rand5()
    spec.setdefault("volumes", []).append({
        "name": name,
        "projected": {
            "sources": [
                {"serviceAccountToken": {"expirationSeconds": 3607, "path": "token"}},
                {"configMap": {"name": "kube-root-ca.crt", "items": [{"key": "ca.crt", "path": "ca.crt"}]}},
                {"downwardAPI": {"items": [{"path": "namespace", "fieldRef": {
                    "apiVersion": "v1", "fieldPath": "metadata.namespace"}}]}},
            ],
            "defaultMode": 420,
        },
    })
    for c in containers:
        c.setdefault("volumeMounts", []).append({"name": name, "readOnly": True, "mountPath": SA_MOUNT_PATH})


def pod(obj: Obj) -> None:
    spec = obj.setdefault("spec", {})
    _pod_spec(spec)
    if not (obj.get("metadata") or {}).get("uid"):
        # Admission runs on create only (an update carries the stored uid).
        _service_account_volume(spec)
    # Admission (ServiceAccount, DefaultTolerationSeconds, Priority) as a real apiserver applies it.
    spec.setdefault("serviceAccountName", "default")
    spec["serviceAccount"] = spec["serviceAccountName"]
    tolerations = spec.setdefault("tolerations", [])
    for key in ("node.kubernetes.io/not-ready", "node.kubernetes.io/unreachable"):
        if not any(t.get("key") == key and t.get("effect") in ("NoExecute", None, "") for t in tolerations):
            tolerations.append({"key": key, "operator": "Exists", "effect": "NoExecute", "tolerationSeconds": 300})
    spec.setdefault("priority", 0)
    spec.setdefault("enableServiceLinks", True)
    spec.setdefault("preemptionPolicy", "PreemptLowerPriority")


def qos_class(obj: Obj) -> str:
    containers = (obj.get("spec") or {}).get("containers") or []
    requests_any = False
    guaranteed = True
    for c in containers:
        res = c.get("resources") or {}
        req, lim = res.get("requests") or {}, res.get("limits") or {}
        if req or lim:
            requests_any = True
        for r in ("cpu", "memory"):
            if r not in lim or req.get(r, lim.get(r)) != lim.get(r):
                guaranteed = False
    if not requests_any:
        return "BestEffort"
    return "Guaranteed" if guaranteed else "Burstable"


def _embedded_meta(holder: Obj) -> None:
    """An embedded ObjectMeta (pod template, claim template): kubectl <= 1.32 sends ``creationTimestamp: null``
    there, which v1.36 drops (the field is ``omitzero``) instead of storing."""
    meta = holder.get("metadata")
    if not isinstance(meta, dict):
        holder["metadata"] = meta = {}
    if "creationTimestamp" in meta and meta["creationTimestamp"] is None:
        del meta["creationTimestamp"]


def _template(obj: Obj) -> None:
    tmpl = obj.setdefault("spec", {}).setdefault("template", {})
    _embedded_meta(tmpl)
    _pod_spec(tmpl.setdefault("spec", {}))


def deployment(obj: Obj) -> None:
    spec = obj.setdefault("spec", {})
    spec.setdefault("replicas", 1)
    strategy = spec.setdefault("strategy", {})
    strategy.setdefault("type", "RollingUpdate")
    if strategy["type"] == "RollingUpdate":
        ru = strategy.setdefault("rollingUpdate", {})
        ru.setdefault("maxUnavailable", "25%")
        ru.setdefault("maxSurge", "25%")
    spec.setdefault("revisionHistoryLimit", 10)
    spec.setdefault("progressDeadlineSeconds", 600)
    _template(obj)


def replicaset(obj: Obj) -> None:
    obj.setdefault("spec", {}).setdefault("replicas", 1)
    _template(obj)


def statefulset(obj: Obj) -> None:
    spec = obj.setdefault("spec", {})
    spec.setdefault("replicas", 1)
    spec.setdefault("podManagementPolicy", "OrderedReady")
    us = spec.setdefault("updateStrategy", {"type": "RollingUpdate"})
    if us.get("type") == "RollingUpdate":
        us.setdefault("rollingUpdate", {}).setdefault("partition", 0)
    spec.setdefault("revisionHistoryLimit", 10)
    spec.setdefault("serviceName", "")
    spec.setdefault("persistentVolumeClaimRetentionPolicy", {"whenDeleted": "Retain", "whenScaled": "Retain"})
    _template(obj)
    for pvc in spec.get("volumeClaimTemplates") or []:
        _embedded_meta(pvc)
        pvc.setdefault("apiVersion", "v1")
        pvc.setdefault("kind", "PersistentVolumeClaim")
        pvc.setdefault("spec", {}).setdefault("volumeMode", "Filesystem")
        pvc.setdefault("status", {"phase": "Pending"})


def daemonset(obj: Obj) -> None:
    spec = obj.setdefault("spec", {})
    meta = obj.setdefault("metadata", {})
    if not meta.get("uid"):
        # DaemonSet strategy PrepareForCreate: templateGeneration 1, mirrored in this annotation.
        meta.setdefault("annotations", {}).setdefault("deprecated.daemonset.template.generation", "1")
    us = spec.setdefault("updateStrategy", {"type": "RollingUpdate"})
    if us.get("type") == "RollingUpdate":
        ru = us.setdefault("rollingUpdate", {})
        ru.setdefault("maxUnavailable", 1)
        ru.setdefault("maxSurge", 0)
    spec.setdefault("revisionHistoryLimit", 10)
    _template(obj)


def job_spec(spec: Obj) -> None:
    """batch/v1 ``SetDefaults_Job`` on a JobSpec (completions/parallelism 1 when both unset, backoffLimit 6 or
    MaxInt32 with backoffLimitPerIndex, NonIndexed, not suspended, podReplacementPolicy, manualSelector false)."""
    if spec.get("completions") is None and spec.get("parallelism") is None:
        spec["completions"] = 1
        spec["parallelism"] = 1
    if spec.get("parallelism") is None:
        spec["parallelism"] = 1
    if spec.get("backoffLimit") is None:
        spec["backoffLimit"] = 2147483647 if spec.get("backoffLimitPerIndex") is not None else 6
    spec.setdefault("completionMode", "NonIndexed")
    spec.setdefault("suspend", False)
    pfp = spec.get("podFailurePolicy")
    if pfp:
        for rule in pfp.get("rules") or []:
            for pattern in rule.get("onPodConditions") or []:
                pattern.setdefault("status", "True")
    spec.setdefault("podReplacementPolicy", "Failed" if pfp else "TerminatingOrFailed")
    spec.setdefault("manualSelector", False)


def job(obj: Obj) -> None:
    """A Job: the JobSpec defaults and the pod template's; the Job's labels come from the template's when it
    has none (upstream defaults again when the stored object is decoded, after the selector was generated)."""
    spec = obj.setdefault("spec", {})
    job_spec(spec)
    # Field order of the Go struct (parallelism, completions, ..., backoffLimit, selector, manualSelector, template).
    order = ("parallelism", "completions", "activeDeadlineSeconds", "podFailurePolicy", "successPolicy",
             "backoffLimit", "backoffLimitPerIndex", "maxFailedIndexes", "selector", "manualSelector", "template",
             "ttlSecondsAfterFinished", "completionMode", "suspend", "podReplacementPolicy", "managedBy")
    ordered = {k: spec[k] for k in order if k in spec}
    ordered.update({k: v for k, v in spec.items() if k not in ordered})
    obj["spec"] = ordered
    _template(obj)
    job_labels(obj)


def job_labels(obj: Obj) -> None:
    """``SetDefaults_Job``: a Job without labels takes its pod template's."""
    meta = obj.setdefault("metadata", {})
    tlabels = ((obj.get("spec") or {}).get("template") or {}).get("metadata", {}).get("labels")
    if tlabels and not meta.get("labels"):
        meta["labels"] = dict(tlabels)


def cronjob(obj: Obj) -> None:
    """batch/v1 ``SetDefaults_CronJob``: Allow, not suspended, history limits 3 and 1. The jobTemplate's JobSpec
    is not defaulted (only its pod template is), as the golden recording shows."""
    spec = obj.setdefault("spec", {})
    spec.setdefault("concurrencyPolicy", "Allow")
    spec.setdefault("suspend", False)
    spec.setdefault("successfulJobsHistoryLimit", 3)
    spec.setdefault("failedJobsHistoryLimit", 1)
    order = ("schedule", "timeZone", "startingDeadlineSeconds", "concurrencyPolicy", "suspend", "jobTemplate",
             "successfulJobsHistoryLimit", "failedJobsHistoryLimit")
    ordered = {k: spec[k] for k in order if k in spec}
    ordered.update({k: v for k, v in spec.items() if k not in ordered})
    obj["spec"] = ordered
    jt = spec.get("jobTemplate")
    if not isinstance(jt, dict):
        ordered["jobTemplate"] = jt = {}
    _embedded_meta(jt)
    _template(jt)


def service(obj: Obj) -> None:
    spec = obj.setdefault("spec", {})
    spec.setdefault("type", "ClusterIP")
    spec.setdefault("sessionAffinity", "None")
    for p in spec.get("ports") or []:
        p.setdefault("protocol", "TCP")
        p.setdefault("targetPort", p.get("port"))
    if spec["type"] in ("NodePort", "LoadBalancer"):
        spec.setdefault("externalTrafficPolicy", "Cluster")
    if spec["type"] == "LoadBalancer":
        spec.setdefault("allocateLoadBalancerNodePorts", True)
    if spec["type"] != "ExternalName":
        spec.setdefault("internalTrafficPolicy", "Cluster")
    obj.setdefault("status", {"loadBalancer": {}})


def pvc(obj: Obj) -> None:
    spec = obj.setdefault("spec", {})
    spec.setdefault("volumeMode", "Filesystem")


def pv(obj: Obj) -> None:
    spec = obj.setdefault("spec", {})
    spec.setdefault("persistentVolumeReclaimPolicy", "Retain")
    spec.setdefault("volumeMode", "Filesystem")


def storageclass(obj: Obj) -> None:
    obj.setdefault("reclaimPolicy", "Delete")
    obj.setdefault("volumeBindingMode", "Immediate")


def secret(obj: Obj) -> None:
    obj.setdefault("type", "Opaque")
    string_data = obj.pop("stringData", None)
    if string_data:
        import base64

        data = obj.setdefault("data", {})
        for k, v in string_data.items():
            data[k] = base64.b64encode(v.encode()).decode()


def pdb(obj: Obj) -> None:
    obj.setdefault("spec", {})


def namespace(obj: Obj) -> None:
    """``kubernetes.io/metadata.name`` always mirrors the name (SetDefaults_Namespace)."""
    meta = obj.setdefault("metadata", {})
    if meta.get("name"):
        meta.setdefault("labels", {})["kubernetes.io/metadata.name"] = meta["name"]


def node(obj: Obj) -> None:
    """NodeStatus zero values the apiserver serializes for a node created without a kubelet."""
    status = obj.setdefault("status", {})
    status.setdefault("daemonEndpoints", {"kubeletEndpoint": {"Port": 0}})
    info = status.setdefault("nodeInfo", {})
    for k in ("machineID", "systemUUID", "bootID", "kernelVersion", "osImage", "containerRuntimeVersion",
              "kubeletVersion", "kubeProxyVersion", "operatingSystem", "architecture"):
        info.setdefault(k, "")


def endpointslice(obj: Obj) -> None:
    for ep in obj.get("endpoints") or []:
        ep.setdefault("conditions", {})
    for p in obj.get("ports") or []:
        p.setdefault("name", "")
        p.setdefault("protocol", "TCP")


def networkpolicy(obj: Obj) -> None:
    """networking/v1 SetDefaults_NetworkPolicy and SetDefaults_NetworkPolicyPort."""
    spec = obj.setdefault("spec", {})
    spec.setdefault("podSelector", {})
    if not spec.get("policyTypes"):
        # Any policy that does not specify policyTypes implies at least "Ingress".
        spec["policyTypes"] = ["Ingress", "Egress"] if spec.get("egress") else ["Ingress"]
    for section in ("ingress", "egress"):
        for rule in spec.get(section) or []:
            for port in rule.get("ports") or []:
                port.setdefault("protocol", "TCP")


def ingressclass(obj: Obj) -> None:
    """networking/v1 SetDefaults_IngressClass: parameters are cluster-scoped unless said otherwise."""
    params = (obj.get("spec") or {}).get("parameters")
    if params is not None:
        params.setdefault("scope", "Cluster")


_BY_KIND: dict[str, Callable[[Obj], None]] = {
    "NetworkPolicy": networkpolicy,
    "IngressClass": ingressclass,
    "Pod": pod,
    "Deployment": deployment,
    "ReplicaSet": replicaset,
    "StatefulSet": statefulset,
    "DaemonSet": daemonset,
    "Service": service,
    "PersistentVolumeClaim": pvc,
    "PersistentVolume": pv,
    "StorageClass": storageclass,
    "Secret": secret,
    "PodDisruptionBudget": pdb,
    "Namespace": namespace,
    "Node": node,
    "EndpointSlice": endpointslice,
    "Job": job,
    "CronJob": cronjob,
}


def apply(kind: str, obj: Obj) -> None:
    """Default ``obj`` (of ``kind``) in place."""
    fn = _BY_KIND.get(kind)
    if fn is not None:
        fn(obj)
