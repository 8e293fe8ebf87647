"""Protobuf bodies for workload kinds: Deployment (apps/v1) and PodDisruptionBudget (policy/v1).

kubectl's typed clients (``kubectl create deployment|pdb``) send ``application/vnd.kubernetes.protobuf``. The
end-to-end tests compare what such a body stores with what the same object sent as JSON stores. The decoder
tests build bodies with a small encoder whose field numbers were typed in from upstream kubernetes v1.36
``apps/v1``, ``core/v1`` and ``policy/v1`` ``generated.proto`` (not from our own tables), and compare the result
with the JSON shape Go's encoder gives (``omitempty`` zero values dropped, pointers kept, inline structs merged).
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import requests

from pytest_azchaos.embedded.apiserver import protobuf

from ..waiting import wait_for
from .pbwire import entry as _entry
from .pbwire import envelope as _envelope
from .pbwire import integer as _int
from .pbwire import intstr as _intstr
from .pbwire import labels as _labels
from .pbwire import meta as _meta
from .pbwire import msg as _msg
from .pbwire import qty as _qty
from .pbwire import selector as _selector
from .pbwire import string as _str
from .pbwire import time as _time

PROTOBUF = "application/vnd.kubernetes.protobuf"
AGNHOST = "registry.k8s.io/e2e-test-images/agnhost:2.52"
Kubectl = Callable[..., subprocess.CompletedProcess[str]]


# --- a Deployment whose pod template uses many PodSpec fields ----------------------------------------------------

def _rich_container() -> bytes:
    # core/v1 Container: name=1 image=2 command=3 args=4 workingDir=5 ports=6 env=7 resources=8 volumeMounts=9
    # livenessProbe=10 readinessProbe=11 lifecycle=12 terminationMessagePath=13 imagePullPolicy=14
    # securityContext=15 stdin=16 stdinOnce=17 tty=18 envFrom=19 terminationMessagePolicy=20 startupProbe=22
    ports = (_msg(6, _str(1, "http"), _int(2, 0), _int(3, 8080), _str(4, "TCP"), _str(5, ""))
             + _msg(6, _str(1, ""), _int(2, 9090), _int(3, 9090), _str(4, "UDP"), _str(5, "127.0.0.1")))
    # EnvVar: name=1 value=2 valueFrom=3; EnvVarSource: fieldRef=1 resourceFieldRef=2 configMapKeyRef=3
    # secretKeyRef=4; ObjectFieldSelector: apiVersion=1 fieldPath=2; ResourceFieldSelector: containerName=1
    # resource=2 divisor=3; Config/SecretKeySelector: LocalObjectReference(inline)=1 {name=1} key=2 optional=3
    env = (_msg(7, _str(1, "A"), _str(2, "1"))
           + _msg(7, _str(1, "EMPTY"), _str(2, ""))
           + _msg(7, _str(1, "POD"), _str(2, ""), _msg(3, _msg(1, _str(1, "v1"), _str(2, "metadata.name"))))
           + _msg(7, _str(1, "MEM"), _str(2, ""),
                  _msg(3, _msg(2, _str(1, ""), _str(2, "limits.memory"), _qty(3, "1Mi"))))
           + _msg(7, _str(1, "K"), _msg(3, _msg(3, _msg(1, _str(1, "cfg")), _str(2, "a"), _int(3, False))))
           + _msg(7, _str(1, "S"), _msg(3, _msg(4, _msg(1, _str(1, "sec")), _str(2, "b")))))
    # EnvFromSource: prefix=1 configMapRef=2 secretRef=3; Config/SecretEnvSource: LocalObjectReference=1 optional=2
    env_from = (_msg(19, _str(1, "CM_"), _msg(2, _msg(1, _str(1, "cfg"))))
                + _msg(19, _str(1, ""), _msg(3, _msg(1, _str(1, "sec")), _int(2, True))))
    # ResourceRequirements: limits=1 requests=2 (map<string, Quantity>)
    resources = _msg(8, _entry(1, "cpu", _qty(2, "500m")), _entry(1, "memory", _qty(2, "128Mi")),
                     _entry(2, "cpu", _qty(2, "250m")), _entry(2, "memory", _qty(2, "64Mi")))
    # VolumeMount: name=1 readOnly=2 mountPath=3 subPath=4 mountPropagation=5 subPathExpr=6
    mounts = (_msg(9, _str(1, "scratch"), _int(2, False), _str(3, "/scratch"), _str(4, ""), _str(6, ""))
              + _msg(9, _str(1, "cfg"), _int(2, True), _str(3, "/etc/app/a.txt"), _str(4, "a.txt"), _str(6, ""))
              + _msg(9, _str(1, "proj"), _int(2, True), _str(3, "/var/run/proj"), _str(4, ""), _str(6, "")))
    # Probe: handler(inline ProbeHandler)=1 initialDelaySeconds=2 timeoutSeconds=3 periodSeconds=4
    # successThreshold=5 failureThreshold=6 terminationGracePeriodSeconds=7
    # ProbeHandler: exec=1 httpGet=2 tcpSocket=3 grpc=4; HTTPGetAction: path=1 port=2 host=3 scheme=4
    # httpHeaders=5 {name=1 value=2}; TCPSocketAction: port=1 host=2; ExecAction: command=1
    liveness = _msg(10, _msg(1, _msg(2, _str(1, "/healthz"), _intstr(2, 8080), _str(3, ""), _str(4, "HTTP"),
                                     _msg(5, _str(1, "X-Probe"), _str(2, "1")))),
                    _int(2, 3), _int(3, 1), _int(4, 5), _int(5, 1), _int(6, 3))
    readiness = _msg(11, _msg(1, _msg(3, _intstr(1, "http"), _str(2, ""))), _int(2, 0), _int(3, 0), _int(4, 2),
                     _int(5, 0), _int(6, 0))
    startup = _msg(22, _msg(1, _msg(1, _str(1, "cat"), _str(1, "/tmp/ready"))), _int(2, 0), _int(3, 0), _int(4, 0),
                   _int(5, 0), _int(6, 30), _int(7, 10))
    # Lifecycle: postStart=1 preStop=2; LifecycleHandler: exec=1 httpGet=2 tcpSocket=3 sleep=4 {seconds=1}
    lifecycle = _msg(12, _msg(1, _msg(1, _str(1, "true"))), _msg(2, _msg(4, _int(1, 5))))
    # SecurityContext: capabilities=1 {add=1 drop=2} privileged=2 runAsUser=4 runAsNonRoot=5
    # readOnlyRootFilesystem=6 allowPrivilegeEscalation=7 seccompProfile=11 {type=1}
    security = _msg(15, _msg(1, _str(1, "NET_BIND_SERVICE"), _str(2, "ALL")), _int(2, False), _int(4, 1000),
                    _int(5, True), _int(6, False), _int(7, False), _msg(11, _str(1, "RuntimeDefault")))
    return _msg(2, _str(1, "app"), _str(2, AGNHOST), _str(3, "/agnhost"), _str(4, "netexec"),
                _str(4, "--http-port=8080"), _str(5, "/work"), ports, env_from, env, resources, mounts, liveness,
                readiness, startup, lifecycle, _str(13, ""), _str(20, "FallbackToLogsOnError"),
                _str(14, "IfNotPresent"), security, _int(16, False), _int(17, False), _int(18, False))


def _rich_volumes() -> bytes:
    # Volume: name=1 volumeSource(inline)=2; VolumeSource: hostPath=1 emptyDir=2 secret=6
    # persistentVolumeClaim=10 downwardAPI=16 configMap=19 projected=26
    def volume(name: str, source: bytes) -> bytes:
        return _msg(1, _str(1, name), _msg(2, source))

    key_to_path = _msg(2, _str(1, "a"), _str(2, "a.txt"), _int(3, 0o400))  # KeyToPath: key=1 path=2 mode=3
    return b"".join([
        volume("scratch", _msg(2)),  # EmptyDirVolumeSource present but empty
        volume("mem", _msg(2, _str(1, "Memory"), _qty(2, "64Mi"))),  # medium=1 sizeLimit=2
        # ConfigMapVolumeSource: LocalObjectReference(inline)=1 items=2 defaultMode=3 optional=4
        volume("cfg", _msg(19, _msg(1, _str(1, "cfg")), key_to_path, _int(3, 0o644), _int(4, False))),
        # SecretVolumeSource: secretName=1 items=2 defaultMode=3 optional=4
        volume("sec", _msg(6, _str(1, "sec"), _int(4, True))),
        # PersistentVolumeClaimVolumeSource: claimName=1 readOnly=2
        volume("data", _msg(10, _str(1, "data"), _int(2, True))),
        # HostPathVolumeSource: path=1 type=2
        volume("logs", _msg(1, _str(1, "/var/log"), _str(2, "Directory"))),
        # DownwardAPIVolumeSource: items=1 defaultMode=2; DownwardAPIVolumeFile: path=1 fieldRef=2
        # resourceFieldRef=3 mode=4
        volume("dapi", _msg(16, _msg(1, _str(1, "cpu"), _msg(3, _str(1, "app"), _str(2, "limits.cpu"),
                                                               _qty(3, "1m"))))),
        # ProjectedVolumeSource: sources=1 defaultMode=2; VolumeProjection: secret=1 downwardAPI=2 configMap=3
        # serviceAccountToken=4 {audience=1 expirationSeconds=2 path=3}; ConfigMapProjection: LOR=1 items=2
        # optional=4; DownwardAPIProjection: items=1
        volume("proj", _msg(26,
                            _msg(1, _msg(4, _str(1, "api"), _int(2, 3600), _str(3, "token"))),
                            _msg(1, _msg(3, _msg(1, _str(1, "cfg")), _int(4, False))),
                            _msg(1, _msg(2, _msg(1, _str(1, "labels"),
                                                 _msg(2, _str(1, "v1"), _str(2, "metadata.labels"))))),
                            _int(2, 0o644))),
    ])


def _rich_pod_spec() -> bytes:
    # PodSpec: volumes=1 containers=2 restartPolicy=3 terminationGracePeriodSeconds=4 dnsPolicy=6 nodeSelector=7
    # serviceAccountName=8 serviceAccount=9 nodeName=10 hostNetwork=11 hostPID=12 hostIPC=13 securityContext=14
    # imagePullSecrets=15 hostname=16 subdomain=17 affinity=18 schedulerName=19 initContainers=20
    # automountServiceAccountToken=21 tolerations=22 hostAliases=23 priorityClassName=24 dnsConfig=26
    # shareProcessNamespace=27 readinessGates=28 enableServiceLinks=30 topologySpreadConstraints=33 os=36
    init = _msg(20, _str(1, "sidecar"), _str(2, "busybox:1.36"), _str(3, "sleep"), _str(3, "3600"), _msg(8),
                _str(24, "Always"))
    # PodSecurityContext: runAsUser=2 runAsNonRoot=3 supplementalGroups=4 fsGroup=5 sysctls=7 {name=1 value=2}
    # fsGroupChangePolicy=9 seccompProfile=10
    pod_security = _msg(14, _int(2, 1000), _int(3, True), _int(4, 3000), _int(4, 4000), _int(5, 2000),
                        _msg(7, _str(1, "net.ipv4.ip_local_port_range"), _str(2, "1024 65535")),
                        _str(9, "OnRootMismatch"), _msg(10, _str(1, "RuntimeDefault")))
    # Affinity: nodeAffinity=1 podAffinity=2 podAntiAffinity=3; NodeAffinity: required=1 (NodeSelector
    # {nodeSelectorTerms=1}) preferred=2 (PreferredSchedulingTerm {weight=1 preference=2});
    # NodeSelectorTerm: matchExpressions=1 matchFields=2 {key=1 operator=2 values=3}
    zone_in = _msg(1, _str(1, "topology.kubernetes.io/zone"), _str(2, "In"), _str(3, "eu-west-1a"),
                   _str(3, "eu-west-1b"))
    node_affinity = _msg(1, _msg(1, _msg(1, zone_in)),
                         _msg(2, _int(1, 10), _msg(2, _msg(1, _str(1, "node.kubernetes.io/instance-type"),
                                                           _str(2, "Exists")))))
    # PodAntiAffinity: required=1 preferred=2 (WeightedPodAffinityTerm {weight=1 podAffinityTerm=2});
    # PodAffinityTerm: labelSelector=1 namespaces=2 topologyKey=3 namespaceSelector=4
    anti = _msg(3, _msg(2, _int(1, 100), _msg(2, _selector(1, {"app": "rich"}), _str(3, "kubernetes.io/hostname"))))
    affinity = _msg(18, node_affinity, anti)
    # Toleration: key=1 operator=2 value=3 effect=4 tolerationSeconds=5
    tolerations = (_msg(22, _str(1, "dedicated"), _str(2, "Equal"), _str(3, "web"), _str(4, "NoExecute"), _int(5, 0))
                   + _msg(22, _str(1, ""), _str(2, "Exists"), _str(3, ""), _str(4, "")))
    # TopologySpreadConstraint: maxSkew=1 topologyKey=2 whenUnsatisfiable=3 labelSelector=4 minDomains=5
    # nodeAffinityPolicy=6 nodeTaintsPolicy=7 matchLabelKeys=8
    spread = _msg(33, _int(1, 1), _str(2, "topology.kubernetes.io/zone"), _str(3, "DoNotSchedule"),
                  _selector(4, {"app": "rich"}), _int(5, 2), _str(6, "Honor"), _str(7, "Ignore"),
                  _str(8, "pod-template-hash"))
    return _msg(2, _rich_volumes(), _rich_container(), _str(3, "Always"), _int(4, 45), _str(6, "ClusterFirst"),
                _entry(7, "kubernetes.io/os", _str(2, "linux")), _str(8, "default"), _str(9, ""), _str(10, ""),
                _int(11, False), _int(12, False), _int(13, False), pod_security,
                _msg(15, _str(1, "regcred")), _str(16, "rich"), _str(17, "rich-svc"), affinity,
                _str(19, "default-scheduler"), init, _int(21, False), tolerations,
                _msg(23, _str(1, "10.0.0.1"), _str(2, "db.local")), _str(24, ""),
                _msg(26, _str(1, "1.1.1.1"), _str(2, "svc.local"), _msg(3, _str(1, "ndots"), _str(2, "2"))),
                _int(27, False), _msg(28, _str(1, "example.com/ready")), _int(30, False), spread,
                _msg(36, _str(1, "linux")))


def _rich_deployment(name: str) -> bytes:
    # Deployment: metadata=1 spec=2 status=3; DeploymentSpec: replicas=1 selector=2 template=3 strategy=4
    # minReadySeconds=5 revisionHistoryLimit=6 paused=7 progressDeadlineSeconds=9; DeploymentStrategy: type=1
    # rollingUpdate=2 {maxUnavailable=1 maxSurge=2}; LabelSelector: matchLabels=1 matchExpressions=2
    selector = _msg(2, _labels(1, {"app": "rich"}),
                    _msg(2, _str(1, "tier"), _str(2, "In"), _str(3, "web")))
    template = _msg(3, _meta(1, label_map={"app": "rich", "tier": "web"}), _rich_pod_spec())
    strategy = _msg(4, _str(1, "RollingUpdate"), _msg(2, _intstr(1, 0), _intstr(2, "50%")))
    spec = _msg(2, _int(1, 0), selector, template, strategy, _int(5, 5), _int(6, 3), _int(7, False), _int(9, 120))
    # DeploymentStatus with only non-pointer zero fields, as gogo writes an empty status
    status = _msg(3, _int(1, 0), _int(2, 0), _int(3, 0), _int(4, 0), _int(5, 0), _int(7, 0))
    return _envelope("apps/v1", "Deployment", _meta(1, name, {"app": "rich"}) + spec + status)


def _rich_expected(name: str) -> dict[str, Any]:
    """The JSON Go's encoder writes for the object ``_rich_deployment`` encodes."""
    container = {
        "name": "app", "image": AGNHOST, "command": ["/agnhost"], "args": ["netexec", "--http-port=8080"],
        "workingDir": "/work",
        "ports": [{"name": "http", "containerPort": 8080, "protocol": "TCP"},
                  {"hostPort": 9090, "containerPort": 9090, "protocol": "UDP", "hostIP": "127.0.0.1"}],
        "envFrom": [{"prefix": "CM_", "configMapRef": {"name": "cfg"}},
                    {"secretRef": {"name": "sec", "optional": True}}],
        "env": [{"name": "A", "value": "1"}, {"name": "EMPTY"},
                {"name": "POD", "valueFrom": {"fieldRef": {"apiVersion": "v1", "fieldPath": "metadata.name"}}},
                {"name": "MEM", "valueFrom": {"resourceFieldRef": {"resource": "limits.memory", "divisor": "1Mi"}}},
                {"name": "K", "valueFrom": {"configMapKeyRef": {"name": "cfg", "key": "a", "optional": False}}},
                {"name": "S", "valueFrom": {"secretKeyRef": {"name": "sec", "key": "b"}}}],
        "resources": {"limits": {"cpu": "500m", "memory": "128Mi"}, "requests": {"cpu": "250m", "memory": "64Mi"}},
        "volumeMounts": [{"name": "scratch", "mountPath": "/scratch"},
                         {"name": "cfg", "readOnly": True, "mountPath": "/etc/app/a.txt", "subPath": "a.txt"},
                         {"name": "proj", "readOnly": True, "mountPath": "/var/run/proj"}],
        "livenessProbe": {"httpGet": {"path": "/healthz", "port": 8080, "scheme": "HTTP",
                                      "httpHeaders": [{"name": "X-Probe", "value": "1"}]},
                          "initialDelaySeconds": 3, "timeoutSeconds": 1, "periodSeconds": 5, "successThreshold": 1,
                          "failureThreshold": 3},
        "readinessProbe": {"tcpSocket": {"port": "http"}, "periodSeconds": 2},
        "startupProbe": {"exec": {"command": ["cat", "/tmp/ready"]}, "failureThreshold": 30,
                         "terminationGracePeriodSeconds": 10},
        "lifecycle": {"postStart": {"exec": {"command": ["true"]}}, "preStop": {"sleep": {"seconds": 5}}},
        "terminationMessagePolicy": "FallbackToLogsOnError", "imagePullPolicy": "IfNotPresent",
        "securityContext": {"capabilities": {"add": ["NET_BIND_SERVICE"], "drop": ["ALL"]}, "privileged": False,
                            "runAsUser": 1000, "runAsNonRoot": True, "readOnlyRootFilesystem": False,
                            "allowPrivilegeEscalation": False, "seccompProfile": {"type": "RuntimeDefault"}},
    }
    volumes = [
        {"name": "scratch", "emptyDir": {}},
        {"name": "mem", "emptyDir": {"medium": "Memory", "sizeLimit": "64Mi"}},
        {"name": "cfg", "configMap": {"name": "cfg", "items": [{"key": "a", "path": "a.txt", "mode": 0o400}],
                                      "defaultMode": 0o644, "optional": False}},
        {"name": "sec", "secret": {"secretName": "sec", "optional": True}},
        {"name": "data", "persistentVolumeClaim": {"claimName": "data", "readOnly": True}},
        {"name": "logs", "hostPath": {"path": "/var/log", "type": "Directory"}},
        {"name": "dapi", "downwardAPI": {"items": [{"path": "cpu", "resourceFieldRef": {
            "containerName": "app", "resource": "limits.cpu", "divisor": "1m"}}]}},
        {"name": "proj", "projected": {"sources": [
            {"serviceAccountToken": {"audience": "api", "expirationSeconds": 3600, "path": "token"}},
            {"configMap": {"name": "cfg", "optional": False}},
            {"downwardAPI": {"items": [{"path": "labels", "fieldRef": {"apiVersion": "v1",
                                                                       "fieldPath": "metadata.labels"}}]}},
        ], "defaultMode": 0o644}},
    ]
    pod_spec = {
        "volumes": volumes, "containers": [container], "restartPolicy": "Always",
        "terminationGracePeriodSeconds": 45, "dnsPolicy": "ClusterFirst",
        "nodeSelector": {"kubernetes.io/os": "linux"}, "serviceAccountName": "default",
        "securityContext": {"runAsUser": 1000, "runAsNonRoot": True, "supplementalGroups": [3000, 4000],
                            "fsGroup": 2000,
                            "sysctls": [{"name": "net.ipv4.ip_local_port_range", "value": "1024 65535"}],
                            "fsGroupChangePolicy": "OnRootMismatch", "seccompProfile": {"type": "RuntimeDefault"}},
        "imagePullSecrets": [{"name": "regcred"}], "hostname": "rich", "subdomain": "rich-svc",
        "affinity": {
            "nodeAffinity": {
                "requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": [{"matchExpressions": [
                    {"key": "topology.kubernetes.io/zone", "operator": "In", "values": ["eu-west-1a", "eu-west-1b"]},
                ]}]},
                "preferredDuringSchedulingIgnoredDuringExecution": [{"weight": 10, "preference": {"matchExpressions": [
                    {"key": "node.kubernetes.io/instance-type", "operator": "Exists"}]}}],
            },
            "podAntiAffinity": {"preferredDuringSchedulingIgnoredDuringExecution": [{"weight": 100, "podAffinityTerm": {
                "labelSelector": {"matchLabels": {"app": "rich"}}, "topologyKey": "kubernetes.io/hostname"}}]},
        },
        "schedulerName": "default-scheduler",
        "initContainers": [{"name": "sidecar", "image": "busybox:1.36", "command": ["sleep", "3600"],
                            "resources": {}, "restartPolicy": "Always"}],
        "automountServiceAccountToken": False,
        "tolerations": [{"key": "dedicated", "operator": "Equal", "value": "web", "effect": "NoExecute",
                         "tolerationSeconds": 0}, {"operator": "Exists"}],
        "hostAliases": [{"ip": "10.0.0.1", "hostnames": ["db.local"]}],
        "dnsConfig": {"nameservers": ["1.1.1.1"], "searches": ["svc.local"], "options": [{"name": "ndots",
                                                                                          "value": "2"}]},
        "shareProcessNamespace": False, "readinessGates": [{"conditionType": "example.com/ready"}],
        "enableServiceLinks": False,
        "topologySpreadConstraints": [{"maxSkew": 1, "topologyKey": "topology.kubernetes.io/zone",
                                       "whenUnsatisfiable": "DoNotSchedule",
                                       "labelSelector": {"matchLabels": {"app": "rich"}}, "minDomains": 2,
                                       "nodeAffinityPolicy": "Honor", "nodeTaintsPolicy": "Ignore",
                                       "matchLabelKeys": ["pod-template-hash"]}],
        "os": {"name": "linux"},
    }
    return {
        "kind": "Deployment", "apiVersion": "apps/v1",
        "metadata": {"name": name, "labels": {"app": "rich"}},
        "spec": {
            "replicas": 0,
            "selector": {"matchLabels": {"app": "rich"},
                         "matchExpressions": [{"key": "tier", "operator": "In", "values": ["web"]}]},
            "template": {"metadata": {"labels": {"app": "rich", "tier": "web"}}, "spec": pod_spec},
            "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": 0, "maxSurge": "50%"}},
            "minReadySeconds": 5, "revisionHistoryLimit": 3, "progressDeadlineSeconds": 120,
        },
        "status": {},
    }


def _pdb(name: str, spec: bytes, status: bytes = b"") -> bytes:
    # PodDisruptionBudget: metadata=1 spec=2 status=3
    return _envelope("policy/v1", "PodDisruptionBudget", _meta(1, name) + _msg(2, spec) + _msg(3, status))


# --- decoder -------------------------------------------------------------------------------------------------------

def test_deployment_with_a_rich_pod_template_decodes_to_its_json_shape() -> None:
    assert protobuf.decode(_rich_deployment("rich")) == _rich_expected("rich")


def test_deployment_pointer_zeros_are_kept_and_omitempty_zeros_dropped() -> None:
    spec = _msg(2, _int(1, 0), _int(5, 0), _int(6, 0), _int(7, False),
                _msg(3, _meta(1), _msg(2, _int(21, False), _int(11, False), _int(4, 0))))
    obj = protobuf.decode(_envelope("apps/v1", "Deployment", _meta(1, "z") + spec))
    assert obj["spec"] == {"replicas": 0, "revisionHistoryLimit": 0,
                           "template": {"metadata": {}, "spec": {"automountServiceAccountToken": False,
                                                                 "terminationGracePeriodSeconds": 0}}}


def test_deployment_status_decodes_conditions_with_times() -> None:
    # DeploymentStatus: observedGeneration=1 replicas=2 updatedReplicas=3 availableReplicas=4
    # unavailableReplicas=5 conditions=6 readyReplicas=7 collisionCount=8 terminatingReplicas=9;
    # DeploymentCondition: type=1 status=2 reason=4 message=5 lastUpdateTime=6 lastTransitionTime=7
    cond = _msg(6, _str(1, "Available"), _str(2, "True"), _str(4, "MinimumReplicasAvailable"), _str(5, ""),
                _time(6, 1_700_000_000), _time(7, 1_700_000_060))
    status = _msg(3, _int(1, 2), _int(2, 3), _int(3, 3), _int(4, 3), _int(5, 0), cond, _int(7, 3), _int(8, 0),
                  _int(9, 0))
    obj = protobuf.decode(_envelope("apps/v1", "Deployment", _meta(1, "s") + _msg(2) + status))
    assert obj["status"] == {
        "observedGeneration": 2, "replicas": 3, "updatedReplicas": 3, "availableReplicas": 3, "readyReplicas": 3,
        "collisionCount": 0, "terminatingReplicas": 0,
        "conditions": [{"type": "Available", "status": "True", "reason": "MinimumReplicasAvailable",
                        "lastUpdateTime": "2023-11-14T22:13:20Z", "lastTransitionTime": "2023-11-14T22:14:20Z"}],
    }


@pytest.mark.parametrize(("field", "value", "json_name"), [
    (1, 1, "minAvailable"), (1, "50%", "minAvailable"), (3, 0, "maxUnavailable"), (3, "50%", "maxUnavailable")])
def test_pdb_int_or_string_decodes_to_its_json_type(field: int, value: int | str, json_name: str) -> None:
    # PodDisruptionBudgetSpec: minAvailable=1 selector=2 maxUnavailable=3 unhealthyPodEvictionPolicy=4
    obj = protobuf.decode(_pdb("p", _intstr(field, value) + _selector(2, {"app": "web"})))
    assert obj["spec"] == {json_name: value, "selector": {"matchLabels": {"app": "web"}}}


def test_pdb_status_decodes_disrupted_pods_and_meta_conditions() -> None:
    # PodDisruptionBudgetStatus: observedGeneration=1 disruptedPods=2 (map<string, Time>) disruptionsAllowed=3
    # currentHealthy=4 desiredHealthy=5 expectedPods=6 conditions=7; meta/v1 Condition: type=1 status=2
    # observedGeneration=3 lastTransitionTime=4 reason=5 message=6
    status = (_int(1, 1) + _entry(2, "web-0", _time(2, 1_700_000_000)) + _int(3, 0) + _int(4, 2) + _int(5, 1)
              + _int(6, 2) + _msg(7, _str(1, "DisruptionAllowed"), _str(2, "False"), _int(3, 1),
                                  _time(4, 1_700_000_000), _str(5, "InsufficientPods"), _str(6, "")))
    obj = protobuf.decode(_pdb("p", _str(4, "AlwaysAllow"), status))
    assert obj["spec"] == {"unhealthyPodEvictionPolicy": "AlwaysAllow"}
    assert obj["status"] == {
        "observedGeneration": 1, "disruptedPods": {"web-0": "2023-11-14T22:13:20Z"}, "disruptionsAllowed": 0,
        "currentHealthy": 2, "desiredHealthy": 1, "expectedPods": 2,
        "conditions": [{"type": "DisruptionAllowed", "status": "False", "observedGeneration": 1,
                        "lastTransitionTime": "2023-11-14T22:13:20Z", "reason": "InsufficientPods", "message": ""}],
    }


# --- over HTTP -----------------------------------------------------------------------------------------------------

def _post(url: str, body: bytes, ctype: str) -> requests.Response:
    return requests.post(url, data=body, headers={"Content-Type": ctype, "Accept": "application/json"}, timeout=10)


def test_rich_protobuf_deployment_is_stored_like_its_json_twin(api_url: str, namespace: str) -> None:
    url = f"{api_url}/apis/apps/v1/namespaces/{namespace}/deployments"
    by_pb = _post(url, _rich_deployment("rich-pb"), PROTOBUF)
    assert by_pb.status_code == 201, by_pb.text
    by_json = _post(url, json.dumps(_rich_expected("rich-json")).encode(), "application/json")
    assert by_json.status_code == 201, by_json.text
    assert by_pb.json()["spec"] == by_json.json()["spec"]
    assert by_pb.json()["spec"]["template"]["spec"]["volumes"][0] == {"name": "scratch", "emptyDir": {}}


# --- kubectl ------------------------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def kubectl_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A discovery cache of our own, so other clusters on the same address cannot leak in."""
    return tmp_path_factory.mktemp("kubectl-cache")


@pytest.fixture
def kubectl(kubectl_path: str, kubeconfig: Path, kubectl_cache: Path, namespace: str) -> Kubectl:
    def run(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
        cmd = [kubectl_path, "--kubeconfig", str(kubeconfig), "--cache-dir", str(kubectl_cache), "-n", namespace,
               *args]
        proc = subprocess.run(cmd, input=stdin, capture_output=True, text=True, timeout=30)
        if proc.returncode != 0:
            raise AssertionError(f"{' '.join(args)} failed ({proc.returncode}): {proc.stderr}")
        return proc

    return run


def _create_both_ways(kubectl: Kubectl, kind: str, name: str, *args: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """``kubectl create KIND NAME ARGS`` (a protobuf body), and the same generator's JSON output for NAME-json
    sent with ``kubectl create -f -`` (a JSON body); returns both stored objects."""
    kubectl("create", kind, name, *args)
    generated = json.loads(kubectl("create", kind, f"{name}-json", "--dry-run=client", "-o", "json", *args).stdout)
    # kubectl 1.32 writes "creationTimestamp": null for the zero Time, which v1.36 drops (omitzero) as the
    # protobuf body's empty Time is dropped: sent as generated, both must be stored alike.
    kubectl("create", "-f", "-", stdin=json.dumps(generated))
    by_pb = json.loads(kubectl("get", kind, name, "-o", "json").stdout)
    by_json = json.loads(kubectl("get", kind, f"{name}-json", "-o", "json").stdout)
    return by_pb, by_json


def test_kubectl_create_deployment_rolls_out_and_stores_what_json_stores(kubectl: Kubectl, core, apps,
                                                                        namespace: str) -> None:
    by_pb, by_json = _create_both_ways(kubectl, "deployment", "web", f"--image={AGNHOST}", "--port=8080",
                                       "--replicas=2", "--", "/agnhost", "netexec", "--http-port=8080")
    json_spec = json.loads(json.dumps(by_json["spec"]).replace('"web-json"', '"web"'))
    assert by_pb["spec"] == json_spec
    assert by_pb["metadata"]["labels"] == {"app": "web"}
    container = by_pb["spec"]["template"]["spec"]["containers"][0]
    assert container["command"] == ["/agnhost", "netexec", "--http-port=8080"]
    assert container["ports"] == [{"containerPort": 8080, "protocol": "TCP"}]

    def ready_pods() -> list[Any]:
        pods = core.list_namespaced_pod(namespace, label_selector="app=web").items
        return [p for p in pods if any(c.type == "Ready" and c.status == "True" for c in p.status.conditions or [])]

    wait_for(ready_pods, lambda pods: len(pods) == 2, timeout=30, what="2 Ready pods of deployment web")
    wait_for(lambda: apps.read_namespaced_deployment("web", namespace).status,
             lambda s: s.available_replicas == 2 and s.updated_replicas == 2, timeout=30, what="web rolled out")


@pytest.mark.parametrize(("flag", "expected"), [("--min-available=1", {"minAvailable": 1}),
                                                ("--max-unavailable=50%", {"maxUnavailable": "50%"})])
def test_kubectl_create_pdb_stores_int_or_string_like_json(kubectl: Kubectl, flag: str,
                                                           expected: dict[str, Any]) -> None:
    by_pb, by_json = _create_both_ways(kubectl, "poddisruptionbudget", "budget", "--selector=app=web", flag)
    assert by_pb["spec"] == by_json["spec"] == {**expected, "selector": {"matchLabels": {"app": "web"}}}
