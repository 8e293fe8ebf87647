"""The Cluster Autoscaler's objects in ``kube-system``, as the ``autoscaler/cluster-autoscaler`` Helm chart
installs them for AWS with auto-discovery (release ``cluster-autoscaler``; values ``autoDiscovery.clusterName``,
``extraArgs.balance-similar-node-groups``): one replica scheduled like any pod, labels
``app.kubernetes.io/name=aws-cluster-autoscaler``, liveness ``/health-check`` on 8085, ``resources: {}`` (the
chart's default), priority class ``system-cluster-critical``."""

from __future__ import annotations

from typing import Any

from ..apiserver.resources import REGISTRY
from ..apiserver.store import Store
from ..images.cluster_autoscaler import CA_REPOSITORY, HEALTH_PORT

Obj = dict[str, Any]
NAMESPACE = "kube-system"
NAME = "cluster-autoscaler"
IMAGE_TAG = "v1.36.0"  # the minor follows the cluster's (v1.36), as the project advises
LABELS = {"app.kubernetes.io/name": "aws-cluster-autoscaler", "app.kubernetes.io/instance": NAME}
ENABLED_TAG = "k8s.io/cluster-autoscaler/enabled"


def discovery_tags(cluster_name: str) -> list[str]:
    """The ASG tag keys auto-discovery looks for (eksctl and EKS docs tag node groups with both)."""
    return [ENABLED_TAG, f"k8s.io/cluster-autoscaler/{cluster_name}"]


def command(cluster_name: str) -> list[str]:
    return ["./cluster-autoscaler", "--cloud-provider=aws", f"--namespace={NAMESPACE}",
            "--node-group-auto-discovery=asg:tag=" + ",".join(discovery_tags(cluster_name)),
            "--balance-similar-node-groups=true", "--logtostderr=true", "--stderrthreshold=info", "--v=4"]


def deployment(cluster_name: str) -> Obj:
    return {
        "metadata": {"name": NAME, "labels": {**LABELS, "app.kubernetes.io/managed-by": "Helm"}},
        "spec": {
            "replicas": 1,
            "revisionHistoryLimit": 10,
            "selector": {"matchLabels": dict(LABELS)},
            "template": {
                "metadata": {"labels": dict(LABELS)},
                "spec": {
                    "serviceAccountName": NAME,
                    "priorityClassName": "system-cluster-critical",
                    "dnsPolicy": "ClusterFirst",
                    "containers": [{
                        "name": "aws-cluster-autoscaler",
                        "image": f"{CA_REPOSITORY}:{IMAGE_TAG}",
                        "imagePullPolicy": "IfNotPresent",
                        "command": command(cluster_name),
                        "env": [{"name": "AWS_REGION", "value": ""}],
                        "ports": [{"containerPort": HEALTH_PORT, "protocol": "TCP"}],
                        "livenessProbe": {"httpGet": {"path": "/health-check", "port": HEALTH_PORT}},
                        "resources": {},
                        "securityContext": {"allowPrivilegeEscalation": False, "readOnlyRootFilesystem": True,
                                            "capabilities": {"drop": ["ALL"]}},
                    }],
                },
            },
        },
    }


def install_cluster_autoscaler(store: Store, cluster_name: str, region: str) -> None:
    """Create the chart's ServiceAccount and Deployment (the workload controllers and the scheduler do the rest)."""
    dep = deployment(cluster_name)
    dep["spec"]["template"]["spec"]["containers"][0]["env"][0]["value"] = region
    for rtype, obj in ((REGISTRY.lookup("", "v1", "serviceaccounts"), {"metadata": {"name": NAME,
                                                                                   "labels": dict(LABELS)}}),
                       (REGISTRY.lookup("apps", "v1", "deployments"), dep)):
        assert rtype is not None
        store.create(rtype, NAMESPACE, obj)
