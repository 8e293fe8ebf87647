"""The EKS CoreDNS add-on's objects, as a new EKS cluster has them (``eks-flavours-facts.md`` §6).

``kube-system``: ServiceAccount and ConfigMap ``coredns`` (the Corefile), Deployment ``coredns`` with
2 replicas whatever the node count, a zone spread that is only ``ScheduleAnyway`` (so on 3 zones one zone
has none, and both can share the zone that is lost), a preferred anti-affinity per node, the
``system-cluster-critical`` priority, ``dnsPolicy: Default``; PodDisruptionBudget ``coredns`` with
``maxUnavailable: 1``; Service ``kube-dns`` on the service CIDR's 10th address (kubeadm's and EKS's
``clusterDNS``) with ports 53/UDP ``dns``, 53/TCP ``dns-tcp`` and 9153/TCP ``metrics``.
"""

from __future__ import annotations

import ipaddress
from typing import Any

from ..apiserver.resources import REGISTRY
from ..apiserver.store import Store

Obj = dict[str, Any]
NAMESPACE = "kube-system"
ADDON_VERSION = "v1.13.2-eksbuild.1"
POD_LABELS = {"eks.amazonaws.com/component": "coredns", "k8s-app": "kube-dns"}


def cluster_dns_ip(service_cidr: str) -> str:
    """The service CIDR's 10th address: where kubeadm and EKS put ``kube-dns`` (``10.100.0.10``)."""
    return str(ipaddress.ip_network(service_cidr).network_address + 10)


UPSTREAM_VERSION = "v1.12.1"  # kubeadm's CoreDNS, for clusters without an EKS region


def coredns_image(region: str) -> str:
    """The add-on's image in ``region``'s ECR; upstream's image when the cluster has no region."""
    from ..images.coredns import COREDNS_REPOSITORY, eks_coredns_repository

    if not region:
        return f"{COREDNS_REPOSITORY}:{UPSTREAM_VERSION}"
    return f"{eks_coredns_repository(region)}:{ADDON_VERSION}"


def config_map() -> Obj:
    from ..images.coredns import COREFILE

    return {"metadata": {"name": "coredns", "labels": dict(POD_LABELS)}, "data": {"Corefile": COREFILE}}


def deployment(image: str, replicas: int = 2) -> Obj:
    probe_common = {"scheme": "HTTP"}
    return {
        "metadata": {"name": "coredns", "labels": {**POD_LABELS, "kubernetes.io/name": "CoreDNS"}},
        "spec": {
            "replicas": replicas,
            "revisionHistoryLimit": 10,
            "progressDeadlineSeconds": 600,
            "selector": {"matchLabels": dict(POD_LABELS)},
            "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": "25%", "maxUnavailable": 1}},
            "template": {
                "metadata": {"labels": dict(POD_LABELS)},
                "spec": {
                    "affinity": {
                        "nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": [
                            {"matchExpressions": [
                                {"key": "kubernetes.io/os", "operator": "In", "values": ["linux"]},
                                {"key": "kubernetes.io/arch", "operator": "In", "values": ["amd64", "arm64"]},
                            ]}]}},
                        "podAntiAffinity": {"preferredDuringSchedulingIgnoredDuringExecution": [{
                            "weight": 100,
                            "podAffinityTerm": {
                                "labelSelector": {"matchExpressions": [
                                    {"key": "k8s-app", "operator": "In", "values": ["kube-dns"]}]},
                                "topologyKey": "kubernetes.io/hostname"}}]},
                    },
                    "topologySpreadConstraints": [{
                        "maxSkew": 1, "topologyKey": "topology.kubernetes.io/zone",
                        "whenUnsatisfiable": "ScheduleAnyway",
                        "labelSelector": {"matchLabels": {"k8s-app": "kube-dns"}}}],
                    "containers": [{
                        "name": "coredns",
                        "image": image,
                        "imagePullPolicy": "IfNotPresent",
                        "args": ["-conf", "/etc/coredns/Corefile"],
                        "ports": [
                            {"containerPort": 53, "name": "dns", "protocol": "UDP"},
                            {"containerPort": 53, "name": "dns-tcp", "protocol": "TCP"},
                            {"containerPort": 9153, "name": "metrics", "protocol": "TCP"},
                        ],
                        "livenessProbe": {"httpGet": {"path": "/health", "port": 8080, **probe_common},
                                          "initialDelaySeconds": 60, "timeoutSeconds": 5, "periodSeconds": 10,
                                          "successThreshold": 1, "failureThreshold": 5},
                        "readinessProbe": {"httpGet": {"path": "/ready", "port": 8181, **probe_common},
                                           "timeoutSeconds": 1, "periodSeconds": 10, "successThreshold": 1,
                                           "failureThreshold": 3},
                        "resources": {"limits": {"memory": "170Mi"}, "requests": {"cpu": "100m", "memory": "70Mi"}},
                        "securityContext": {"allowPrivilegeEscalation": False,
                                            "capabilities": {"add": ["NET_BIND_SERVICE"], "drop": ["ALL"]},
                                            "readOnlyRootFilesystem": True},
                        "volumeMounts": [{"name": "config-volume", "mountPath": "/etc/coredns", "readOnly": True},
                                         {"name": "tmp", "mountPath": "/tmp"}],
                    }],
                    "dnsPolicy": "Default",
                    "priorityClassName": "system-cluster-critical",
                    "serviceAccountName": "coredns",
                    "terminationGracePeriodSeconds": 30,
                    "tolerations": [{"key": "node-role.kubernetes.io/control-plane", "effect": "NoSchedule"},
                                    {"key": "CriticalAddonsOnly", "operator": "Exists"}],
                    "volumes": [{"name": "tmp", "emptyDir": {}},
                                {"name": "config-volume", "configMap": {
                                    "name": "coredns", "items": [{"key": "Corefile", "path": "Corefile"}]}}],
                },
            },
        },
    }


def service(cluster_ip: str) -> Obj:
    return {
        "metadata": {"name": "kube-dns",
                     "labels": {"eks.amazonaws.com/component": "kube-dns", "k8s-app": "kube-dns",
                                "kubernetes.io/cluster-service": "true", "kubernetes.io/name": "CoreDNS"},
                     "annotations": {"prometheus.io/port": "9153", "prometheus.io/scrape": "true"}},
        "spec": {"clusterIP": cluster_ip, "selector": {"k8s-app": "kube-dns"},
                 "ports": [{"name": "dns", "port": 53, "protocol": "UDP", "targetPort": 53},
                           {"name": "dns-tcp", "port": 53, "protocol": "TCP", "targetPort": 53},
                           {"name": "metrics", "port": 9153, "protocol": "TCP", "targetPort": 9153}]},
    }


def pod_disruption_budget() -> Obj:
    return {"metadata": {"name": "coredns", "labels": dict(POD_LABELS)},
            "spec": {"maxUnavailable": 1, "selector": {"matchLabels": dict(POD_LABELS)}}}


def install_coredns(store: Store, region: str, cluster_ip: str, replicas: int = 2) -> None:
    """Create the add-on's objects in ``kube-system`` (the Deployment's controllers do the rest)."""
    for plural, group, obj in (
            ("serviceaccounts", "", {"metadata": {"name": "coredns", "labels": dict(POD_LABELS)}}),
            ("configmaps", "", config_map()),
            ("services", "", service(cluster_ip)),
            ("poddisruptionbudgets", "policy", pod_disruption_budget()),
            ("deployments", "apps", deployment(coredns_image(region), replicas))):
        rtype = REGISTRY.lookup(group, "v1", plural)
        assert rtype is not None, plural
        store.create(rtype, NAMESPACE, obj)
