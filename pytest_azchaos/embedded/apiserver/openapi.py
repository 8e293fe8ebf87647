"""OpenAPI v3 documents (``/openapi/v3`` and ``/openapi/v3/<api|apis/group/version>``), built from the registry.

kubectl needs them for two things: ``apply``/``create`` validation asks whether each kind's PATCH
operation takes the ``fieldValidation`` query parameter (then the server validates, with
``fieldValidation=Strict``), and client-side ``apply`` computes its strategic merge patch from the
component schemas (``x-kubernetes-patch-merge-key`` / ``x-kubernetes-patch-strategy``). kubectl
walks the schema along every map/list key of the applied manifest and gives up with a warning when a
key is missing, so the schemas below describe the fields of the kinds we serve; opaque leaves
(``IntOrString``, ``Quantity``, ``RawExtension``) are typed like upstream does.

The root lists each group-version with ``?hash=`` (SHA-512 of the document), as upstream does, so
clients may cache the documents as immutable.
"""

from __future__ import annotations

import hashlib
import json
from functools import cache
from typing import Any

from aiohttp import web

from .patch_schema import MERGE_KEYS
from .resources import REGISTRY, Registry, ResourceType

Schema = dict[str, Any]

S: Schema = {"type": "string"}
I32: Schema = {"type": "integer", "format": "int32"}
I64: Schema = {"type": "integer", "format": "int64"}
B: Schema = {"type": "boolean"}
TIME: Schema = {"type": "string", "format": "date-time"}
STRMAP: Schema = {"type": "object", "additionalProperties": {"type": "string", "default": ""}}
STRLIST: Schema = {"type": "array", "items": {"type": "string", "default": ""}}
SETLIST: Schema = {**STRLIST, "x-kubernetes-list-type": "set"}
INT_OR_STRING: Schema = {"type": "string", "format": "int-or-string"}  # replaced by a $ref below
ANY_OBJECT: Schema = {"type": "object", "x-kubernetes-preserve-unknown-fields": True}

META = "io.k8s.apimachinery.pkg.apis.meta.v1."
CORE = "io.k8s.api.core.v1."
APPS = "io.k8s.api.apps.v1."
NET = "io.k8s.api.networking.v1."
AUTHN = "io.k8s.api.authentication.v1."
BATCH = "io.k8s.api.batch.v1."
QUANTITY = "io.k8s.apimachinery.pkg.api.resource.Quantity"
IOS = "io.k8s.apimachinery.pkg.util.intstr.IntOrString"

# Go package of each API group, which names its component schemas.
_PACKAGE = {"": "core", "apps": "apps", "policy": "policy", "discovery.k8s.io": "discovery",
            "storage.k8s.io": "storage", "coordination.k8s.io": "coordination", "events.k8s.io": "events",
            "autoscaling": "autoscaling", "networking.k8s.io": "networking", "batch": "batch",
            "rbac.authorization.k8s.io": "rbac",
            "authentication.k8s.io": "authentication"}


def ref(name: str, default: Any = None) -> Schema:
    out: Schema = {"allOf": [{"$ref": f"#/components/schemas/{name}"}]}
    if default is not None:
        out["default"] = default
    return out


def arr(item: Schema | str, key: str | None = None, strategy: str | None = None, list_type: str | None = None,
        keys: tuple[str, ...] = ()) -> Schema:
    """An array schema with the list's merge metadata (``+patchMergeKey``, ``+listType``)."""
    items = ref(item, {}) if isinstance(item, str) else item
    out: Schema = {"type": "array", "items": items}
    if list_type:
        out["x-kubernetes-list-type"] = list_type
    if keys:
        out["x-kubernetes-list-map-keys"] = list(keys)
    if key:
        out["x-kubernetes-patch-merge-key"] = key
    if strategy:
        out["x-kubernetes-patch-strategy"] = strategy
    return out


def keyed(item: str, field: str, list_keys: tuple[str, ...] | None = None) -> Schema:
    """A list merged by the key ``patch.py`` uses for ``field`` (the API types' ``patchMergeKey``)."""
    key = MERGE_KEYS[field]
    return arr(item, key, "merge", "map", list_keys or (key,))


def obj(required: tuple[str, ...] = (), **props: Schema | str) -> Schema:
    out: Schema = {"type": "object", "properties": {k: (ref(v, {}) if isinstance(v, str) else v)
                                                    for k, v in props.items()}}
    if required:
        out["required"] = list(required)
    return out


def _object_fields(spec: str | None, status: str | None) -> dict[str, Schema | str]:
    fields: dict[str, Schema | str] = {"apiVersion": S, "kind": S, "metadata": META + "ObjectMeta"}
    if spec:
        fields["spec"] = spec
    if status:
        fields["status"] = status
    return fields


def _types() -> dict[str, Schema]:
    """The component schemas of everything we serve (a subset of upstream's fields per type)."""
    t: dict[str, Schema] = {}
    # ---------------------------------------------------------------- meta / util
    t[QUANTITY] = {"type": "string"}
    t[IOS] = {"type": "string", "format": "int-or-string"}
    t[META + "Time"] = TIME
    t[META + "MicroTime"] = {"type": "string", "format": "date-time"}
    t[META + "Patch"] = {"type": "object"}
    t[META + "FieldsV1"] = {"type": "object"}
    t[META + "OwnerReference"] = obj(("apiVersion", "kind", "name", "uid"), apiVersion=S, kind=S, name=S, uid=S,
                                     controller=B, blockOwnerDeletion=B)
    t[META + "OwnerReference"]["x-kubernetes-map-type"] = "atomic"
    t[META + "ManagedFieldsEntry"] = obj(manager=S, operation=S, apiVersion=S, time=META + "Time",
                                         fieldsType=S, fieldsV1=META + "FieldsV1", subresource=S)
    t[META + "ObjectMeta"] = obj(
        name=S, generateName=S, namespace=S, selfLink=S, uid=S, resourceVersion=S, generation=I64,
        creationTimestamp=META + "Time", deletionTimestamp=META + "Time", deletionGracePeriodSeconds=I64,
        labels=STRMAP, annotations=STRMAP, ownerReferences=keyed(META + "OwnerReference", "ownerReferences"),
        finalizers={**SETLIST, "x-kubernetes-patch-strategy": "merge"},
        managedFields=arr(META + "ManagedFieldsEntry", list_type="atomic"))
    t[META + "LabelSelectorRequirement"] = obj(("key", "operator"), key=S, operator=S,
                                                 values=arr(S, list_type="atomic"))
    t[META + "LabelSelector"] = obj(matchLabels=STRMAP,
                                    matchExpressions=arr(META + "LabelSelectorRequirement", list_type="atomic"))
    t[META + "LabelSelector"]["x-kubernetes-map-type"] = "atomic"
    t[META + "Condition"] = obj(("type", "status", "lastTransitionTime", "reason", "message"), type=S, status=S,
                                observedGeneration=I64, lastTransitionTime=META + "Time", reason=S, message=S)
    t[META + "Preconditions"] = obj(uid=S, resourceVersion=S)
    t[META + "DeleteOptions"] = obj(apiVersion=S, kind=S, gracePeriodSeconds=I64, preconditions=META + "Preconditions",
                                    orphanDependents=B, propagationPolicy=S, dryRun=arr(S, list_type="atomic"),
                                    ignoreStoreReadErrorWithClusterBreakingPotential=B)
    t[META + "ListMeta"] = obj(selfLink=S, resourceVersion=S, remainingItemCount=I64, **{"continue": S})
    t[META + "StatusCause"] = obj(reason=S, message=S, field=S)
    t[META + "StatusDetails"] = obj(name=S, group=S, kind=S, uid=S, retryAfterSeconds=I32,
                                    causes=arr(META + "StatusCause", list_type="atomic"))
    t[META + "Status"] = obj(apiVersion=S, kind=S, metadata=META + "ListMeta", status=S, message=S, reason=S,
                             details=META + "StatusDetails", code=I32)
    t[META + "WatchEvent"] = obj(("type", "object"), type=S, object=ANY_OBJECT)
    # ---------------------------------------------------------------- core: pod spec
    t[CORE + "ObjectReference"] = obj(kind=S, namespace=S, name=S, uid=S, apiVersion=S, resourceVersion=S,
                                      fieldPath=S)
    t[CORE + "LocalObjectReference"] = obj(name=S)
    t[CORE + "KeyToPath"] = obj(("key", "path"), key=S, path=S, mode=I32)
    t[CORE + "ObjectFieldSelector"] = obj(("fieldPath",), apiVersion=S, fieldPath=S)
    t[CORE + "ResourceFieldSelector"] = obj(("resource",), containerName=S, resource=S, divisor=QUANTITY)
    t[CORE + "ConfigMapKeySelector"] = obj(("key",), name=S, key=S, optional=B)
    t[CORE + "SecretKeySelector"] = obj(("key",), name=S, key=S, optional=B)
    t[CORE + "EnvVarSource"] = obj(fieldRef=CORE + "ObjectFieldSelector",
                                   resourceFieldRef=CORE + "ResourceFieldSelector",
                                   configMapKeyRef=CORE + "ConfigMapKeySelector",
                                   secretKeyRef=CORE + "SecretKeySelector")
    t[CORE + "EnvVar"] = obj(("name",), name=S, value=S, valueFrom=CORE + "EnvVarSource")
    t[CORE + "ConfigMapEnvSource"] = obj(name=S, optional=B)
    t[CORE + "SecretEnvSource"] = obj(name=S, optional=B)
    t[CORE + "EnvFromSource"] = obj(prefix=S, configMapRef=CORE + "ConfigMapEnvSource",
                                    secretRef=CORE + "SecretEnvSource")
    t[CORE + "ContainerPort"] = obj(("containerPort",), name=S, hostPort=I32, containerPort=I32, protocol=S, hostIP=S)
    t[CORE + "VolumeMount"] = obj(("name", "mountPath"), name=S, readOnly=B, recursiveReadOnly=S, mountPath=S,
                                  subPath=S, mountPropagation=S, subPathExpr=S)
    t[CORE + "VolumeDevice"] = obj(("name", "devicePath"), name=S, devicePath=S)
    t[CORE + "ResourceClaim"] = obj(("name",), name=S, request=S)
    t[CORE + "ResourceRequirements"] = obj(
        limits={"type": "object", "additionalProperties": ref(QUANTITY)},
        requests={"type": "object", "additionalProperties": ref(QUANTITY)},
        claims=arr(CORE + "ResourceClaim", list_type="map", keys=("name",)))
    t[CORE + "ExecAction"] = obj(command=arr(S, list_type="atomic"))
    t[CORE + "HTTPHeader"] = obj(("name", "value"), name=S, value=S)
    t[CORE + "HTTPGetAction"] = obj(("port",), path=S, port=IOS, host=S, scheme=S,
                                    httpHeaders=arr(CORE + "HTTPHeader", list_type="atomic"))
    t[CORE + "TCPSocketAction"] = obj(("port",), port=IOS, host=S)
    t[CORE + "GRPCAction"] = obj(("port",), port=I32, service=S)
    t[CORE + "SleepAction"] = obj(("seconds",), seconds=I64)
    t[CORE + "Probe"] = obj(exec=CORE + "ExecAction", httpGet=CORE + "HTTPGetAction",
                            tcpSocket=CORE + "TCPSocketAction", grpc=CORE + "GRPCAction",
                            initialDelaySeconds=I32, timeoutSeconds=I32, periodSeconds=I32,
                            successThreshold=I32, failureThreshold=I32, terminationGracePeriodSeconds=I64)
    t[CORE + "LifecycleHandler"] = obj(exec=CORE + "ExecAction", httpGet=CORE + "HTTPGetAction",
                                       tcpSocket=CORE + "TCPSocketAction", sleep=CORE + "SleepAction")
    t[CORE + "Lifecycle"] = obj(postStart=CORE + "LifecycleHandler", preStop=CORE + "LifecycleHandler", stopSignal=S)
    t[CORE + "Capabilities"] = obj(add=arr(S, list_type="atomic"), drop=arr(S, list_type="atomic"))
    t[CORE + "SELinuxOptions"] = obj(user=S, role=S, type=S, level=S)
    t[CORE + "SeccompProfile"] = obj(("type",), type=S, localhostProfile=S)
    t[CORE + "AppArmorProfile"] = obj(("type",), type=S, localhostProfile=S)
    t[CORE + "WindowsSecurityContextOptions"] = obj(gmsaCredentialSpecName=S, gmsaCredentialSpec=S,
                                                    runAsUserName=S, hostProcess=B)
    t[CORE + "SecurityContext"] = obj(
        windowsOptions=CORE + "WindowsSecurityContextOptions", capabilities=CORE + "Capabilities", privileged=B,
        seLinuxOptions=CORE + "SELinuxOptions", runAsUser=I64,
        runAsGroup=I64, runAsNonRoot=B, readOnlyRootFilesystem=B, allowPrivilegeEscalation=B, procMount=S,
        seccompProfile=CORE + "SeccompProfile", appArmorProfile=CORE + "AppArmorProfile")
    t[CORE + "ContainerResizePolicy"] = obj(("resourceName", "restartPolicy"), resourceName=S, restartPolicy=S)
    t[CORE + "Container"] = obj(
        ("name",), name=S, image=S, command=arr(S, list_type="atomic"), args=arr(S, list_type="atomic"),
        workingDir=S, ports={**arr(CORE + "ContainerPort", "containerPort", "merge", "map", ("containerPort",
                                                                                             "protocol"))},
        envFrom=arr(CORE + "EnvFromSource", list_type="atomic"), env=keyed(CORE + "EnvVar", "env"),
        resources=CORE + "ResourceRequirements",
        resizePolicy=arr(CORE + "ContainerResizePolicy", list_type="atomic"), restartPolicy=S,
        volumeMounts=keyed(CORE + "VolumeMount", "volumeMounts"),
        volumeDevices=keyed(CORE + "VolumeDevice", "volumeDevices"),
        livenessProbe=CORE + "Probe", readinessProbe=CORE + "Probe", startupProbe=CORE + "Probe",
        lifecycle=CORE + "Lifecycle", terminationMessagePath=S, terminationMessagePolicy=S, imagePullPolicy=S,
        securityContext=CORE + "SecurityContext", stdin=B, stdinOnce=B, tty=B)
    t[CORE + "NodeSelectorRequirement"] = obj(("key", "operator"), key=S, operator=S,
                                              values=arr(S, list_type="atomic"))
    t[CORE + "NodeSelectorTerm"] = obj(matchExpressions=arr(CORE + "NodeSelectorRequirement", list_type="atomic"),
                                       matchFields=arr(CORE + "NodeSelectorRequirement", list_type="atomic"))
    t[CORE + "NodeSelector"] = obj(("nodeSelectorTerms",),
                                   nodeSelectorTerms=arr(CORE + "NodeSelectorTerm", list_type="atomic"))
    t[CORE + "PreferredSchedulingTerm"] = obj(("weight", "preference"), weight=I32,
                                              preference=CORE + "NodeSelectorTerm")
    t[CORE + "NodeAffinity"] = obj(
        requiredDuringSchedulingIgnoredDuringExecution=CORE + "NodeSelector",
        preferredDuringSchedulingIgnoredDuringExecution=arr(CORE + "PreferredSchedulingTerm", list_type="atomic"))
    t[CORE + "PodAffinityTerm"] = obj(("topologyKey",), labelSelector=META + "LabelSelector",
                                      namespaces=arr(S, list_type="atomic"), topologyKey=S,
                                      namespaceSelector=META + "LabelSelector",
                                      matchLabelKeys=arr(S, list_type="atomic"),
                                      mismatchLabelKeys=arr(S, list_type="atomic"))
    t[CORE + "WeightedPodAffinityTerm"] = obj(("weight", "podAffinityTerm"), weight=I32,
                                              podAffinityTerm=CORE + "PodAffinityTerm")
    for kind in ("PodAffinity", "PodAntiAffinity"):
        t[CORE + kind] = obj(
            requiredDuringSchedulingIgnoredDuringExecution=arr(CORE + "PodAffinityTerm", list_type="atomic"),
            preferredDuringSchedulingIgnoredDuringExecution=arr(CORE + "WeightedPodAffinityTerm", list_type="atomic"))
    t[CORE + "Affinity"] = obj(nodeAffinity=CORE + "NodeAffinity", podAffinity=CORE + "PodAffinity",
                               podAntiAffinity=CORE + "PodAntiAffinity")
    t[CORE + "Toleration"] = obj(key=S, operator=S, value=S, effect=S, tolerationSeconds=I64)
    t[CORE + "TopologySpreadConstraint"] = obj(
        ("maxSkew", "topologyKey", "whenUnsatisfiable"), maxSkew=I32, topologyKey=S, whenUnsatisfiable=S,
        labelSelector=META + "LabelSelector", minDomains=I32, nodeAffinityPolicy=S, nodeTaintsPolicy=S,
        matchLabelKeys=arr(S, list_type="atomic"))
    t[CORE + "HostAlias"] = obj(("ip",), ip=S, hostnames=arr(S, list_type="atomic"))
    t[CORE + "PodDNSConfigOption"] = obj(name=S, value=S)
    t[CORE + "PodDNSConfig"] = obj(nameservers=arr(S, list_type="atomic"), searches=arr(S, list_type="atomic"),
                                   options=arr(CORE + "PodDNSConfigOption", list_type="atomic"))
    t[CORE + "Sysctl"] = obj(("name", "value"), name=S, value=S)
    t[CORE + "PodSecurityContext"] = obj(
        windowsOptions=CORE + "WindowsSecurityContextOptions", seLinuxOptions=CORE + "SELinuxOptions",
        runAsUser=I64, runAsGroup=I64, runAsNonRoot=B,
        supplementalGroups=arr(I64, list_type="atomic"), supplementalGroupsPolicy=S, fsGroup=I64,
        sysctls=arr(CORE + "Sysctl", list_type="atomic"), fsGroupChangePolicy=S,
        seccompProfile=CORE + "SeccompProfile", appArmorProfile=CORE + "AppArmorProfile", seLinuxChangePolicy=S)
    t[CORE + "PodReadinessGate"] = obj(("conditionType",), conditionType=S)
    t[CORE + "PodSchedulingGate"] = obj(("name",), name=S)
    t[CORE + "PodResourceClaim"] = obj(("name",), name=S, resourceClaimName=S, resourceClaimTemplateName=S)
    t[CORE + "PodOS"] = obj(("name",), name=S)
    t[CORE + "ConfigMapVolumeSource"] = obj(name=S, items=arr(CORE + "KeyToPath", list_type="atomic"),
                                            defaultMode=I32, optional=B)
    t[CORE + "SecretVolumeSource"] = obj(secretName=S, items=arr(CORE + "KeyToPath", list_type="atomic"),
                                         defaultMode=I32, optional=B)
    t[CORE + "EmptyDirVolumeSource"] = obj(medium=S, sizeLimit=QUANTITY)
    t[CORE + "HostPathVolumeSource"] = obj(("path",), path=S, type=S)
    t[CORE + "PersistentVolumeClaimVolumeSource"] = obj(("claimName",), claimName=S, readOnly=B)
    t[CORE + "DownwardAPIVolumeFile"] = obj(("path",), path=S, fieldRef=CORE + "ObjectFieldSelector",
                                            resourceFieldRef=CORE + "ResourceFieldSelector", mode=I32)
    t[CORE + "DownwardAPIVolumeSource"] = obj(items=arr(CORE + "DownwardAPIVolumeFile", list_type="atomic"),
                                              defaultMode=I32)
    t[CORE + "ServiceAccountTokenProjection"] = obj(("path",), audience=S, expirationSeconds=I64, path=S)
    t[CORE + "ConfigMapProjection"] = obj(name=S, items=arr(CORE + "KeyToPath", list_type="atomic"), optional=B)
    t[CORE + "SecretProjection"] = obj(name=S, items=arr(CORE + "KeyToPath", list_type="atomic"), optional=B)
    t[CORE + "DownwardAPIProjection"] = obj(items=arr(CORE + "DownwardAPIVolumeFile", list_type="atomic"))
    t[CORE + "VolumeProjection"] = obj(secret=CORE + "SecretProjection", downwardAPI=CORE + "DownwardAPIProjection",
                                       configMap=CORE + "ConfigMapProjection",
                                       serviceAccountToken=CORE + "ServiceAccountTokenProjection")
    t[CORE + "ProjectedVolumeSource"] = obj(sources=arr(CORE + "VolumeProjection", list_type="atomic"),
                                            defaultMode=I32)
    t[CORE + "CSIVolumeSource"] = obj(("driver",), driver=S, readOnly=B, fsType=S, volumeAttributes=STRMAP,
                                      nodePublishSecretRef=CORE + "LocalObjectReference")
    t[CORE + "PersistentVolumeClaimTemplate"] = obj(("spec",), metadata=META + "ObjectMeta",
                                                    spec=CORE + "PersistentVolumeClaimSpec")
    t[CORE + "EphemeralVolumeSource"] = obj(volumeClaimTemplate=CORE + "PersistentVolumeClaimTemplate")
    t[CORE + "NFSVolumeSource"] = obj(("server", "path"), server=S, path=S, readOnly=B)
    t[CORE + "AWSElasticBlockStoreVolumeSource"] = obj(("volumeID",), volumeID=S, fsType=S, partition=I32,
                                                       readOnly=B)
    t[CORE + "ImageVolumeSource"] = obj(reference=S, pullPolicy=S)
    t[CORE + "Volume"] = obj(
        ("name",), nfs=CORE + "NFSVolumeSource", awsElasticBlockStore=CORE + "AWSElasticBlockStoreVolumeSource",
        image=CORE + "ImageVolumeSource", name=S, hostPath=CORE + "HostPathVolumeSource",
        emptyDir=CORE + "EmptyDirVolumeSource",
        secret=CORE + "SecretVolumeSource", persistentVolumeClaim=CORE + "PersistentVolumeClaimVolumeSource",
        downwardAPI=CORE + "DownwardAPIVolumeSource", configMap=CORE + "ConfigMapVolumeSource",
        projected=CORE + "ProjectedVolumeSource", csi=CORE + "CSIVolumeSource",
        ephemeral=CORE + "EphemeralVolumeSource")
    t[CORE + "PodSpec"] = obj(
        ("containers",), volumes=arr(CORE + "Volume", "name", "merge,retainKeys", "map", ("name",)),
        initContainers=keyed(CORE + "Container", "initContainers"),
        containers=keyed(CORE + "Container", "containers"),
        restartPolicy=S, terminationGracePeriodSeconds=I64, activeDeadlineSeconds=I64, dnsPolicy=S,
        nodeSelector={**STRMAP, "x-kubernetes-map-type": "atomic"}, serviceAccountName=S, serviceAccount=S,
        automountServiceAccountToken=B, nodeName=S, hostNetwork=B, hostPID=B, hostIPC=B, shareProcessNamespace=B,
        securityContext=CORE + "PodSecurityContext",
        imagePullSecrets=keyed(CORE + "LocalObjectReference", "imagePullSecrets"), hostname=S, subdomain=S,
        affinity=CORE + "Affinity", schedulerName=S, tolerations=arr(CORE + "Toleration", list_type="atomic"),
        hostAliases=keyed(CORE + "HostAlias", "hostAliases"), priorityClassName=S, priority=I32,
        dnsConfig=CORE + "PodDNSConfig", readinessGates=arr(CORE + "PodReadinessGate", list_type="atomic"),
        runtimeClassName=S, enableServiceLinks=B, preemptionPolicy=S,
        overhead={"type": "object", "additionalProperties": ref(QUANTITY)},
        topologySpreadConstraints=arr(CORE + "TopologySpreadConstraint", "topologyKey", "merge", "map",
                                      ("topologyKey", "whenUnsatisfiable")),
        setHostnameAsFQDN=B, os=CORE + "PodOS", hostUsers=B,
        schedulingGates=keyed(CORE + "PodSchedulingGate", "schedulingGates"),
        resourceClaims=arr(CORE + "PodResourceClaim", "name", "merge,retainKeys", "map", ("name",)),
        resources=CORE + "ResourceRequirements")
    t[CORE + "PodTemplateSpec"] = obj(metadata=META + "ObjectMeta", spec=CORE + "PodSpec")
    t[CORE + "PodCondition"] = obj(("type", "status"), type=S, observedGeneration=I64, status=S,
                                   lastProbeTime=META + "Time", lastTransitionTime=META + "Time", reason=S,
                                   message=S)
    t[CORE + "PodIP"] = obj(("ip",), ip=S)
    t[CORE + "PodStatus"] = obj(
        observedGeneration=I64, phase=S, conditions=keyed(CORE + "PodCondition", "conditions"), message=S, reason=S,
        nominatedNodeName=S, hostIP=S, hostIPs=arr(CORE + "PodIP", list_type="atomic"), podIP=S,
        podIPs=arr(CORE + "PodIP", "ip", "merge", "map", ("ip",)), startTime=META + "Time",
        containerStatuses=arr(ANY_OBJECT, list_type="atomic"),
        initContainerStatuses=arr(ANY_OBJECT, list_type="atomic"),
        qosClass=S)
    # ---------------------------------------------------------------- core: other kinds
    t[CORE + "TypedLocalObjectReference"] = obj(("kind", "name"), apiGroup=S, kind=S, name=S)
    t[CORE + "TypedObjectReference"] = obj(("kind", "name"), apiGroup=S, kind=S, name=S, namespace=S)
    t[CORE + "VolumeResourceRequirements"] = obj(
        limits={"type": "object", "additionalProperties": ref(QUANTITY)},
        requests={"type": "object", "additionalProperties": ref(QUANTITY)})
    t[CORE + "PersistentVolumeClaimSpec"] = obj(
        accessModes=arr(S, list_type="atomic"), selector=META + "LabelSelector",
        resources=CORE + "VolumeResourceRequirements", volumeName=S, storageClassName=S, volumeMode=S,
        dataSource=CORE + "TypedLocalObjectReference", dataSourceRef=CORE + "TypedObjectReference",
        volumeAttributesClassName=S)
    t[CORE + "PersistentVolumeClaimStatus"] = obj(
        phase=S, accessModes=arr(S, list_type="atomic"),
        capacity={"type": "object", "additionalProperties": ref(QUANTITY)},
        conditions=arr(ANY_OBJECT, "type", "merge", "map", ("type",)))
    t[CORE + "VolumeNodeAffinity"] = obj(required=CORE + "NodeSelector")
    t[CORE + "CSIPersistentVolumeSource"] = obj(("driver", "volumeHandle"), driver=S, volumeHandle=S, readOnly=B,
                                                fsType=S, volumeAttributes=STRMAP)
    t[CORE + "PersistentVolumeSpec"] = obj(
        capacity={"type": "object", "additionalProperties": ref(QUANTITY)}, csi=CORE + "CSIPersistentVolumeSource",
        hostPath=CORE + "HostPathVolumeSource", accessModes=arr(S, list_type="atomic"),
        claimRef={**ref(CORE + "ObjectReference"), "x-kubernetes-map-type": "granular"},
        persistentVolumeReclaimPolicy=S, storageClassName=S, mountOptions=arr(S, list_type="atomic"),
        volumeMode=S, nodeAffinity=CORE + "VolumeNodeAffinity", volumeAttributesClassName=S)
    t[CORE + "PersistentVolumeStatus"] = obj(phase=S, message=S, reason=S, lastPhaseTransitionTime=META + "Time")
    t[CORE + "ServicePort"] = obj(("port",), name=S, protocol=S, appProtocol=S, port=I32, targetPort=IOS, nodePort=I32)
    t[CORE + "SessionAffinityConfig"] = obj(clientIP=obj(timeoutSeconds=I32))
    t[CORE + "ServiceSpec"] = obj(
        ports=arr(CORE + "ServicePort", "port", "merge", "map", ("port", "protocol")),
        selector={**STRMAP, "x-kubernetes-map-type": "atomic"}, clusterIP=S, clusterIPs=arr(S, list_type="atomic"),
        type=S, externalIPs=arr(S, list_type="atomic"), sessionAffinity=S, loadBalancerIP=S,
        loadBalancerSourceRanges=arr(S, list_type="atomic"), externalName=S, externalTrafficPolicy=S,
        healthCheckNodePort=I32, publishNotReadyAddresses=B, sessionAffinityConfig=CORE + "SessionAffinityConfig",
        ipFamilies=arr(S, list_type="atomic"), ipFamilyPolicy=S, allocateLoadBalancerNodePorts=B,
        loadBalancerClass=S, internalTrafficPolicy=S, trafficDistribution=S)
    t[CORE + "PortStatus"] = obj(("port", "protocol"), port=I32, protocol=S, error=S)
    t[CORE + "LoadBalancerIngress"] = obj(ip=S, hostname=S, ipMode=S,
                                          ports=arr(CORE + "PortStatus", list_type="atomic"))
    t[CORE + "LoadBalancerStatus"] = obj(ingress=arr(CORE + "LoadBalancerIngress", list_type="atomic"))
    t[CORE + "ServiceStatus"] = obj(loadBalancer=CORE + "LoadBalancerStatus",
                                    conditions=arr(META + "Condition", "type", "merge", "map", ("type",)))
    t[CORE + "Taint"] = obj(("key", "effect"), key=S, value=S, effect=S, timeAdded=META + "Time")
    t[CORE + "NodeSpec"] = obj(podCIDR=S, podCIDRs={**STRLIST, "x-kubernetes-patch-strategy": "merge",
                                                    "x-kubernetes-list-type": "set"},
                               providerID=S, unschedulable=B, taints=arr(CORE + "Taint", list_type="atomic"),
                               externalID=S)
    t[CORE + "NodeAddress"] = obj(("type", "address"), type=S, address=S)
    t[CORE + "NodeCondition"] = obj(("type", "status"), type=S, status=S, lastHeartbeatTime=META + "Time",
                                    lastTransitionTime=META + "Time", reason=S, message=S)
    t[CORE + "NodeSystemInfo"] = obj(machineID=S, systemUUID=S, bootID=S, kernelVersion=S, osImage=S,
                                     containerRuntimeVersion=S, kubeletVersion=S, kubeProxyVersion=S,
                                     operatingSystem=S, architecture=S, swap=ANY_OBJECT)
    t[CORE + "NodeStatus"] = obj(
        capacity={"type": "object", "additionalProperties": ref(QUANTITY)},
        allocatable={"type": "object", "additionalProperties": ref(QUANTITY)}, phase=S,
        conditions=keyed(CORE + "NodeCondition", "conditions"),
        addresses=keyed(CORE + "NodeAddress", "addresses"), daemonEndpoints=ANY_OBJECT,
        nodeInfo=CORE + "NodeSystemInfo", images=arr(ANY_OBJECT, list_type="atomic"),
        volumesInUse=arr(S, list_type="atomic"), volumesAttached=arr(ANY_OBJECT, list_type="atomic"),
        config=ANY_OBJECT, runtimeHandlers=arr(ANY_OBJECT, list_type="atomic"), features=ANY_OBJECT)
    t[CORE + "NamespaceSpec"] = obj(finalizers=arr(S, list_type="atomic"))
    t[CORE + "NamespaceCondition"] = obj(("type", "status"), type=S, status=S, lastTransitionTime=META + "Time",
                                         reason=S, message=S)
    t[CORE + "NamespaceStatus"] = obj(phase=S, conditions=keyed(CORE + "NamespaceCondition", "conditions"))
    t[CORE + "EndpointAddress"] = obj(("ip",), ip=S, hostname=S, nodeName=S, targetRef=CORE + "ObjectReference")
    t[CORE + "EndpointPort"] = obj(("port",), name=S, port=I32, protocol=S, appProtocol=S)
    t[CORE + "EndpointSubset"] = obj(addresses=arr(CORE + "EndpointAddress", list_type="atomic"),
                                     notReadyAddresses=arr(CORE + "EndpointAddress", list_type="atomic"),
                                     ports=arr(CORE + "EndpointPort", list_type="atomic"))
    t[CORE + "EventSource"] = obj(component=S, host=S)
    t[CORE + "EventSeries"] = obj(count=I32, lastObservedTime=META + "MicroTime")
    # ---------------------------------------------------------------- apps
    t[APPS + "RollingUpdateDeployment"] = obj(maxUnavailable=IOS, maxSurge=IOS)
    t[APPS + "DeploymentStrategy"] = obj(type=S, rollingUpdate=APPS + "RollingUpdateDeployment")
    t[APPS + "DeploymentSpec"] = obj(
        ("selector", "template"), replicas=I32, selector=META + "LabelSelector", template=CORE + "PodTemplateSpec",
        strategy={**ref(APPS + "DeploymentStrategy", {}), "x-kubernetes-patch-strategy": "retainKeys"},
        minReadySeconds=I32, revisionHistoryLimit=I32, paused=B, progressDeadlineSeconds=I32)
    workload_status = dict(observedGeneration=I64, replicas=I32, updatedReplicas=I32, readyReplicas=I32,
                           availableReplicas=I32, unavailableReplicas=I32, terminatingReplicas=I32,
                           fullyLabeledReplicas=I32, currentReplicas=I32, currentRevision=S, updateRevision=S,
                           collisionCount=I32, conditions=arr(ANY_OBJECT, "type", "merge", "map", ("type",)))
    t[APPS + "DeploymentStatus"] = obj(**workload_status)
    t[APPS + "ReplicaSetSpec"] = obj(("selector",), replicas=I32, minReadySeconds=I32,
                                     selector=META + "LabelSelector", template=CORE + "PodTemplateSpec")
    t[APPS + "ReplicaSetStatus"] = obj(**workload_status)
    t[APPS + "RollingUpdateStatefulSetStrategy"] = obj(partition=I32, maxUnavailable=IOS)
    t[APPS + "StatefulSetUpdateStrategy"] = obj(type=S, rollingUpdate=APPS + "RollingUpdateStatefulSetStrategy")
    t[APPS + "StatefulSetPersistentVolumeClaimRetentionPolicy"] = obj(whenDeleted=S, whenScaled=S)
    t[APPS + "StatefulSetOrdinals"] = obj(start=I32)
    t[APPS + "StatefulSetSpec"] = obj(
        ("selector", "template"), replicas=I32, selector=META + "LabelSelector", template=CORE + "PodTemplateSpec",
        volumeClaimTemplates=arr(CORE + "PersistentVolumeClaim", list_type="atomic"), serviceName=S,
        podManagementPolicy=S, updateStrategy=APPS + "StatefulSetUpdateStrategy", revisionHistoryLimit=I32,
        minReadySeconds=I32,
        persistentVolumeClaimRetentionPolicy=APPS + "StatefulSetPersistentVolumeClaimRetentionPolicy",
        ordinals=APPS + "StatefulSetOrdinals")
    t[APPS + "StatefulSetStatus"] = obj(**workload_status)
    t[APPS + "RollingUpdateDaemonSet"] = obj(maxUnavailable=IOS, maxSurge=IOS)
    t[APPS + "DaemonSetUpdateStrategy"] = obj(type=S, rollingUpdate=APPS + "RollingUpdateDaemonSet")
    t[APPS + "DaemonSetSpec"] = obj(("selector", "template"), selector=META + "LabelSelector",
                                    template=CORE + "PodTemplateSpec", updateStrategy=APPS + "DaemonSetUpdateStrategy",
                                    minReadySeconds=I32, revisionHistoryLimit=I32)
    t[APPS + "DaemonSetStatus"] = obj(
        currentNumberScheduled=I32, numberMisscheduled=I32, desiredNumberScheduled=I32, numberReady=I32,
        observedGeneration=I64, updatedNumberScheduled=I32, numberAvailable=I32, numberUnavailable=I32,
        collisionCount=I32, conditions=arr(ANY_OBJECT, "type", "merge", "map", ("type",)))
    # ---------------------------------------------------------------- batch
    conditions = arr(ANY_OBJECT, "type", "merge", "atomic")
    t[BATCH + "JobSpec"] = obj(
        ("template",), parallelism=I32, completions=I32, activeDeadlineSeconds=I64, podFailurePolicy=ANY_OBJECT,
        successPolicy=ANY_OBJECT, backoffLimit=I32, backoffLimitPerIndex=I32, maxFailedIndexes=I32,
        selector=META + "LabelSelector", manualSelector=B, template=CORE + "PodTemplateSpec",
        ttlSecondsAfterFinished=I32, completionMode=S, suspend=B, podReplacementPolicy=S, managedBy=S)
    t[BATCH + "JobStatus"] = obj(
        conditions=conditions, startTime=META + "Time", completionTime=META + "Time", active=I32, succeeded=I32,
        failed=I32, terminating=I32, completedIndexes=S, failedIndexes=S, uncountedTerminatedPods=ANY_OBJECT,
        ready=I32)
    t[BATCH + "JobTemplateSpec"] = obj(metadata=META + "ObjectMeta", spec=BATCH + "JobSpec")
    t[BATCH + "CronJobSpec"] = obj(
        ("schedule", "jobTemplate"), schedule=S, timeZone=S, startingDeadlineSeconds=I64, concurrencyPolicy=S,
        suspend=B, jobTemplate=BATCH + "JobTemplateSpec", successfulJobsHistoryLimit=I32,
        failedJobsHistoryLimit=I32)
    t[BATCH + "CronJobStatus"] = obj(active=arr(CORE + "ObjectReference", list_type="atomic"),
                                     lastScheduleTime=META + "Time", lastSuccessfulTime=META + "Time")
    # ---------------------------------------------------------------- networking.k8s.io
    t[NET + "ServiceBackendPort"] = obj(name=S, number=I32)
    t[NET + "IngressServiceBackend"] = obj(("name",), name=S, port=NET + "ServiceBackendPort")
    t[CORE + "TypedLocalObjectReference"] = obj(("kind", "name"), apiGroup=S, kind=S, name=S)
    t[CORE + "TypedLocalObjectReference"]["x-kubernetes-map-type"] = "atomic"
    t[NET + "IngressBackend"] = obj(service=NET + "IngressServiceBackend",
                                    resource=CORE + "TypedLocalObjectReference")
    t[NET + "HTTPIngressPath"] = obj(("pathType", "backend"), path=S, pathType=S, backend=NET + "IngressBackend")
    t[NET + "HTTPIngressRuleValue"] = obj(("paths",), paths=arr(NET + "HTTPIngressPath", list_type="atomic"))
    t[NET + "IngressRule"] = obj(host=S, http=NET + "HTTPIngressRuleValue")
    t[NET + "IngressTLS"] = obj(hosts=arr(S, list_type="atomic"), secretName=S)
    t[NET + "IngressSpec"] = obj(ingressClassName=S, defaultBackend=NET + "IngressBackend",
                                 tls=arr(NET + "IngressTLS", list_type="atomic"),
                                 rules=arr(NET + "IngressRule", list_type="atomic"))
    t[NET + "IngressPortStatus"] = obj(("port", "protocol"), port=I32, protocol=S, error=S)
    t[NET + "IngressLoadBalancerIngress"] = obj(ip=S, hostname=S,
                                                ports=arr(NET + "IngressPortStatus", list_type="atomic"))
    t[NET + "IngressLoadBalancerStatus"] = obj(ingress=arr(NET + "IngressLoadBalancerIngress",
                                                           list_type="atomic"))
    t[NET + "IngressStatus"] = obj(loadBalancer=NET + "IngressLoadBalancerStatus")
    t[NET + "IngressClassParametersReference"] = obj(("kind", "name"), apiGroup=S, kind=S, name=S, scope=S,
                                                     namespace=S)
    t[NET + "IngressClassSpec"] = obj(controller=S, parameters=NET + "IngressClassParametersReference")
    t[NET + "IPBlock"] = obj(("cidr",), cidr=S, **{"except": arr(S, list_type="atomic")})
    t[NET + "NetworkPolicyPeer"] = obj(podSelector=META + "LabelSelector", namespaceSelector=META + "LabelSelector",
                                       ipBlock=NET + "IPBlock")
    t[NET + "NetworkPolicyPort"] = obj(protocol=S, port=IOS, endPort=I32)
    t[NET + "NetworkPolicyIngressRule"] = obj(ports=arr(NET + "NetworkPolicyPort", list_type="atomic"),
                                              **{"from": arr(NET + "NetworkPolicyPeer", list_type="atomic")})
    t[NET + "NetworkPolicyEgressRule"] = obj(ports=arr(NET + "NetworkPolicyPort", list_type="atomic"),
                                             to=arr(NET + "NetworkPolicyPeer", list_type="atomic"))
    t[NET + "NetworkPolicySpec"] = obj(podSelector=META + "LabelSelector",
                                       ingress=arr(NET + "NetworkPolicyIngressRule", list_type="atomic"),
                                       egress=arr(NET + "NetworkPolicyEgressRule", list_type="atomic"),
                                       policyTypes=arr(S, list_type="atomic"))
    # ---------------------------------------------------------------- authentication.k8s.io
    t[AUTHN + "UserInfo"] = obj(username=S, uid=S, groups=arr(S, list_type="atomic"),
                                extra={"type": "object", "additionalProperties": arr(S)})
    t[AUTHN + "SelfSubjectReviewStatus"] = obj(userInfo=AUTHN + "UserInfo")
    t[AUTHN + "TokenReviewSpec"] = obj(token=S, audiences=arr(S, list_type="atomic"))
    t[AUTHN + "TokenReviewStatus"] = obj(authenticated=B, user=AUTHN + "UserInfo",
                                         audiences=arr(S, list_type="atomic"), error=S)
    return t


def _kind_fields(rtype: ResourceType) -> dict[str, Schema | str]:
    """Top-level fields of each served kind."""
    k = rtype.kind
    core, apps = CORE, APPS
    spec_status: dict[str, tuple[str | None, str | None]] = {
        "Pod": (core + "PodSpec", core + "PodStatus"), "Node": (core + "NodeSpec", core + "NodeStatus"),
        "Service": (core + "ServiceSpec", core + "ServiceStatus"),
        "Namespace": (core + "NamespaceSpec", core + "NamespaceStatus"),
        "PersistentVolumeClaim": (core + "PersistentVolumeClaimSpec", core + "PersistentVolumeClaimStatus"),
        "PersistentVolume": (core + "PersistentVolumeSpec", core + "PersistentVolumeStatus"),
        "Deployment": (apps + "DeploymentSpec", apps + "DeploymentStatus"),
        "ReplicaSet": (apps + "ReplicaSetSpec", apps + "ReplicaSetStatus"),
        "StatefulSet": (apps + "StatefulSetSpec", apps + "StatefulSetStatus"),
        "DaemonSet": (apps + "DaemonSetSpec", apps + "DaemonSetStatus"),
        "Ingress": (NET + "IngressSpec", NET + "IngressStatus"),
        "Job": (BATCH + "JobSpec", BATCH + "JobStatus"),
        "CronJob": (BATCH + "CronJobSpec", BATCH + "CronJobStatus"),
        "IngressClass": (NET + "IngressClassSpec", None),
        "NetworkPolicy": (NET + "NetworkPolicySpec", None),
        "SelfSubjectReview": (None, AUTHN + "SelfSubjectReviewStatus"),
        "TokenReview": (AUTHN + "TokenReviewSpec", AUTHN + "TokenReviewStatus"),
    }
    if k in spec_status:
        return _object_fields(*spec_status[k])
    base = _object_fields(None, None)
    extra: dict[str, dict[str, Schema | str]] = {
        "ConfigMap": {"data": STRMAP, "binaryData": {"type": "object", "additionalProperties": {
            "type": "string", "format": "byte"}}, "immutable": B},
        "Secret": {"data": {"type": "object", "additionalProperties": {"type": "string", "format": "byte"}},
                   "stringData": STRMAP, "type": S, "immutable": B},
        "ServiceAccount": {"secrets": arr(core + "ObjectReference", "name", "merge"),
                           "imagePullSecrets": arr(core + "LocalObjectReference", list_type="atomic"),
                           "automountServiceAccountToken": B},
        "Endpoints": {"subsets": arr(core + "EndpointSubset", list_type="atomic")},
        "Binding": {"target": core + "ObjectReference"},
        "Event": {"involvedObject": core + "ObjectReference", "reason": S, "message": S,
                  "source": core + "EventSource", "firstTimestamp": META + "Time", "lastTimestamp": META + "Time",
                  "count": I32, "type": S, "eventTime": META + "MicroTime", "series": core + "EventSeries",
                  "action": S, "related": core + "ObjectReference", "reportingComponent": S,
                  "reportingInstance": S, "regarding": core + "ObjectReference", "note": S,
                  "reportingController": S, "deprecatedSource": core + "EventSource",
                  "deprecatedFirstTimestamp": META + "Time", "deprecatedLastTimestamp": META + "Time",
                  "deprecatedCount": I32},
        "ControllerRevision": {"data": ANY_OBJECT, "revision": I64},
        "EndpointSlice": {"addressType": S, "endpoints": arr(ANY_OBJECT, list_type="atomic"),
                          "ports": arr(ANY_OBJECT, list_type="atomic")},
        "StorageClass": {"provisioner": S, "parameters": STRMAP, "reclaimPolicy": S,
                         "mountOptions": arr(S, list_type="atomic"), "allowVolumeExpansion": B,
                         "volumeBindingMode": S, "allowedTopologies": arr(ANY_OBJECT, list_type="atomic")},
        "CSIStorageCapacity": {"nodeTopology": META + "LabelSelector", "storageClassName": S,
                               "capacity": QUANTITY, "maximumVolumeSize": QUANTITY},
        "VolumeAttributesClass": {"driverName": S, "parameters": STRMAP},
        "ClusterRole": {"rules": arr(ANY_OBJECT, list_type="atomic"), "aggregationRule": ANY_OBJECT},
        "Role": {"rules": arr(ANY_OBJECT, list_type="atomic")},
        "ClusterRoleBinding": {"subjects": arr(ANY_OBJECT, list_type="atomic"), "roleRef": ANY_OBJECT},
        "RoleBinding": {"subjects": arr(ANY_OBJECT, list_type="atomic"), "roleRef": ANY_OBJECT},
    }
    if k in extra:
        return {**base, **extra[k]}
    # Kinds whose spec/status we do not describe field by field: opaque objects.
    return {**base, "spec": ANY_OBJECT, "status": ANY_OBJECT}


def schema_name(rtype: ResourceType) -> str:
    return f"io.k8s.api.{_PACKAGE.get(rtype.group, rtype.group.split('.')[0])}.{rtype.version}.{rtype.kind}"


def _gvk(rtype: ResourceType) -> dict[str, str]:
    return {"group": rtype.group, "kind": rtype.kind, "version": rtype.version}


def _op_id(verb: str, rtype: ResourceType, namespaced: bool, suffix: str = "") -> str:
    group = "".join(p.capitalize() for p in (rtype.group.split(".")[0] if rtype.group else "core").split("-"))
    scope = "Namespaced" if namespaced else ""
    return f"{verb}{group}{rtype.version.capitalize()}{scope}{rtype.kind}{suffix}"


def _query(name: str, schema: Schema, description: str = "") -> Schema:
    out: Schema = {"name": name, "in": "query", "schema": schema}
    if description:
        out["description"] = description
    return out


_DRY_RUN = _query("dryRun", {"type": "string", "uniqueItems": True},
                  "When present, indicates that modifications should not be persisted.")
_FIELD_MANAGER = _query("fieldManager", {"type": "string", "uniqueItems": True},
                        "fieldManager is a name associated with the actor or entity that is making these changes.")
_FIELD_VALIDATION = _query(
    "fieldValidation", {"type": "string", "uniqueItems": True},
    "fieldValidation instructs the server on how to handle objects in the request (POST/PUT/PATCH) containing "
    "unknown or duplicate fields. Valid values are: - Ignore - Warn (default) - Strict")
_FORCE = _query("force", {"type": "boolean", "uniqueItems": True}, "Force is going to \"force\" Apply requests.")
_LIST_PARAMS = [_query(n, s) for n, s in (
    ("allowWatchBookmarks", B), ("continue", S), ("fieldSelector", S), ("labelSelector", S), ("limit", I32),
    ("resourceVersion", S), ("resourceVersionMatch", S), ("sendInitialEvents", B), ("timeoutSeconds", I32),
    ("watch", B))]
_PATCH_TYPES = ("application/apply-patch+yaml", "application/json-patch+json", "application/merge-patch+json",
                "application/strategic-merge-patch+json", "application/apply-patch+cbor")
_RESPONSE_TYPES = ("application/json", "application/yaml", "application/vnd.kubernetes.protobuf",
                   "application/cbor")


def _body(name: str, types: tuple[str, ...] = ("*/*",)) -> Schema:
    return {"content": {t: {"schema": {"$ref": f"#/components/schemas/{name}"}} for t in types}, "required": True}


def _responses(name: str, *codes: str) -> Schema:
    content = {t: {"schema": {"$ref": f"#/components/schemas/{name}"}} for t in _RESPONSE_TYPES}
    return {c: {"description": {"200": "OK", "201": "Created", "202": "Accepted"}[c], "content": content}
            for c in codes}


def _operation(rtype: ResourceType, action: str, op_id: str, params: list[Schema], name: str,
               codes: tuple[str, ...], body: Schema | None = None, kind: ResourceType | None = None) -> Schema:
    who = kind or rtype
    op: Schema = {"tags": [f"{_PACKAGE.get(rtype.group, rtype.group)}_{rtype.version}"], "operationId": op_id}
    if params:
        op["parameters"] = params
    if body is not None:
        op["requestBody"] = body
    op["responses"] = {**_responses(name, *codes), "401": {"description": "Unauthorized"}}
    op["x-kubernetes-action"] = action
    op["x-kubernetes-group-version-kind"] = _gvk(who)
    return op


def _paths(rtype: ResourceType) -> dict[str, Schema]:
    prefix = f"/apis/{rtype.group}/{rtype.version}" if rtype.group else "/api/v1"
    name = schema_name(rtype)
    list_name = name + "List"
    ns = "/namespaces/{namespace}" if rtype.namespaced else ""
    path_params: list[Schema] = [{"name": "name", "in": "path", "required": True, "schema": {"type": "string"}}]
    if rtype.namespaced:
        path_params.append({"name": "namespace", "in": "path", "required": True, "schema": {"type": "string"}})
    ns_params = path_params[1:]
    pretty = _query("pretty", {"type": "string", "uniqueItems": True})
    verbs = set(rtype.verbs)
    paths: dict[str, Schema] = {}
    collection: Schema = {"parameters": [*ns_params, pretty]}
    if "list" in verbs:
        collection["get"] = _operation(rtype, "list", _op_id("list", rtype, rtype.namespaced), _LIST_PARAMS,
                                       list_name, ("200",))
    if "create" in verbs:
        collection["post"] = _operation(rtype, "post", _op_id("create", rtype, rtype.namespaced),
                                        [_DRY_RUN, _FIELD_MANAGER, _FIELD_VALIDATION], name, ("200", "201", "202"),
                                        _body(name))
    if "deletecollection" in verbs:
        collection["delete"] = _operation(rtype, "deletecollection",
                                          _op_id("deleteCollection", rtype, rtype.namespaced), _LIST_PARAMS,
                                          META + "Status", ("200",), _body(META + "DeleteOptions"))
    paths[f"{prefix}{ns}/{rtype.plural}"] = collection
    item: Schema = {"parameters": [*path_params, pretty]}
    if "get" in verbs:
        item["get"] = _operation(rtype, "get", _op_id("read", rtype, rtype.namespaced), [], name, ("200",))
    if "update" in verbs:
        item["put"] = _operation(rtype, "put", _op_id("replace", rtype, rtype.namespaced),
                                 [_DRY_RUN, _FIELD_MANAGER, _FIELD_VALIDATION], name, ("200", "201"), _body(name))
    if "delete" in verbs:
        item["delete"] = _operation(rtype, "delete", _op_id("delete", rtype, rtype.namespaced),
                                    [_query("gracePeriodSeconds", I64), _query("orphanDependents", B),
                                     _query("propagationPolicy", S), _DRY_RUN], name, ("200", "202"),
                                    _body(META + "DeleteOptions"))
    if "patch" in verbs:
        item["patch"] = _operation(rtype, "patch", _op_id("patch", rtype, rtype.namespaced),
                                   [_DRY_RUN, _FIELD_MANAGER, _FIELD_VALIDATION, _FORCE], name, ("200", "201"),
                                   _body(META + "Patch", _PATCH_TYPES))
    if len(item) > 1:
        paths[f"{prefix}{ns}/{rtype.plural}/{{name}}"] = item
    if rtype.namespaced and "list" in verbs:
        paths[f"{prefix}/{rtype.plural}"] = {
            "parameters": [pretty],
            "get": _operation(rtype, "list", _op_id("list", rtype, False, "ForAllNamespaces"), _LIST_PARAMS,
                              list_name, ("200",))}
    for sub in rtype.subresources:
        if sub.name not in ("status", "scale"):
            continue
        sub_name = name if sub.name == "status" else "io.k8s.api.autoscaling.v1.Scale"
        sub_kind = rtype if sub.name == "status" else None
        suffix = "Status" if sub.name == "status" else "Scale"
        entry: Schema = {"parameters": [*path_params, pretty]}
        entry["get"] = _operation(rtype, "get", _op_id("read", rtype, rtype.namespaced, suffix), [], sub_name,
                                  ("200",), kind=sub_kind)
        entry["put"] = _operation(rtype, "put", _op_id("replace", rtype, rtype.namespaced, suffix),
                                  [_DRY_RUN, _FIELD_MANAGER, _FIELD_VALIDATION], sub_name, ("200", "201"),
                                  _body(sub_name), kind=sub_kind)
        entry["patch"] = _operation(rtype, "patch", _op_id("patch", rtype, rtype.namespaced, suffix),
                                    [_DRY_RUN, _FIELD_MANAGER, _FIELD_VALIDATION, _FORCE], sub_name,
                                    ("200", "201"), _body(META + "Patch", _PATCH_TYPES), kind=sub_kind)
        if sub.name == "scale":
            for op in ("get", "put", "patch"):
                entry[op]["x-kubernetes-group-version-kind"] = {"group": "autoscaling", "kind": "Scale",
                                                                "version": "v1"}
        paths[f"{prefix}{ns}/{rtype.plural}/{{name}}/{sub.name}"] = entry
    return paths


def _used_refs(node: Any, out: set[str]) -> None:
    if isinstance(node, dict):
        r = node.get("$ref")
        if isinstance(r, str) and r.startswith("#/components/schemas/"):
            out.add(r.rsplit("/", 1)[1])
        for v in node.values():
            _used_refs(v, out)
    elif isinstance(node, list):
        for v in node:
            _used_refs(v, out)


def _closure(doc: Schema, types: dict[str, Schema]) -> dict[str, Schema]:
    """The component schemas ``doc`` refers to, transitively."""
    wanted: set[str] = set()
    _used_refs(doc, wanted)
    done: dict[str, Schema] = {}
    while wanted:
        name = wanted.pop()
        if name in done or name not in types:
            continue
        done[name] = types[name]
        more: set[str] = set()
        _used_refs(types[name], more)
        wanted |= more - set(done)
    return dict(sorted(done.items()))


def group_version_document(group: str, version: str, registry: Registry = REGISTRY) -> Schema | None:
    """The OpenAPI v3 document of one group-version (``/openapi/v3/apis/apps/v1``), or None if not served."""
    # Custom resources are not described (their types come and go; kubectl then patches them with a JSON merge
    # patch, as it would for a CRD whose schema does not offer strategic merge).
    resources = [r for r in registry.in_group_version(group, version)
                 if (r.storage is None or r.group) and not getattr(r, "custom", False)]
    if not resources:
        return None
    types = dict(_types())
    paths: dict[str, Schema] = {}
    for r in sorted(resources, key=lambda r: r.plural):
        name = schema_name(r)
        kind_schema = obj(**_kind_fields(r))
        kind_schema["x-kubernetes-group-version-kind"] = [_gvk(r)]
        types[name] = kind_schema
        lst = obj(("items",), apiVersion=S, kind=S, metadata=META + "ListMeta", items=arr(name))
        lst["x-kubernetes-group-version-kind"] = [{**_gvk(r), "kind": r.list_kind}]
        types[name + "List"] = lst
        if r.kind == "PersistentVolumeClaim":
            types[CORE + "PersistentVolumeClaim"] = kind_schema
        paths.update(_paths(r))
    if any(r.subresource("scale") for r in resources):
        types["io.k8s.api.autoscaling.v1.Scale"] = obj(apiVersion=S, kind=S, metadata=META + "ObjectMeta",
                                                       spec=obj(replicas=I32),
                                                       status=obj(("replicas",), replicas=I32, selector=S))
    if (group, version) == ("apps", "v1"):
        types[CORE + "PersistentVolumeClaim"] = obj(**_object_fields(CORE + "PersistentVolumeClaimSpec",
                                                                     CORE + "PersistentVolumeClaimStatus"))
    doc: Schema = {
        "openapi": "3.0.0",
        "info": {"title": "Kubernetes", "version": "v1.36.2"},
        "paths": dict(sorted(paths.items())),
    }
    doc["components"] = {"schemas": _closure(doc, types), "securitySchemes": {
        "BearerToken": {"type": "apiKey", "description": "Bearer Token authentication", "name": "authorization",
                        "in": "header"}}}
    doc["security"] = [{"BearerToken": []}]
    return doc


def _discovery_document(path: str) -> Schema:
    """``/openapi/v3/api``, ``/openapi/v3/apis`` and ``/openapi/v3/apis/<group>``: discovery-only paths."""
    return {"openapi": "3.0.0", "info": {"title": "Kubernetes", "version": "v1.36.2"},
            "paths": {f"/{path}/": {"get": {"operationId": "getAPIVersions", "responses": {
                "200": {"description": "OK"}, "401": {"description": "Unauthorized"}}}}},
            "components": {"schemas": {}}}


@cache
def rendered(path: str) -> bytes | None:
    """The JSON bytes of the document for ``path`` (``api/v1``, ``apis/apps/v1``, ``api`` ...), cached."""
    parts = path.split("/")
    doc: Schema | None = None
    if parts == ["api"] or parts == ["apis"] or (parts[0] == "apis" and len(parts) == 2
                                                 and f"apis/{parts[1]}" in served_paths()):
        doc = _discovery_document(path)
    elif parts == ["api", "v1"]:
        doc = group_version_document("", "v1")
    elif parts[0] == "apis" and len(parts) == 3:
        doc = group_version_document(parts[1], parts[2])
    if doc is None:
        return None
    return json.dumps(doc, separators=(",", ":")).encode()


def document_hash(body: bytes) -> str:
    return hashlib.sha512(body).hexdigest().upper()


def served_paths(registry: Registry = REGISTRY) -> list[str]:
    out = ["api", "api/v1", "apis"]
    for g in registry.groups():
        if all(getattr(r, "custom", False) for r in registry.resources if r.group == g):
            continue  # a CRD's group (see group_version_document)
        out.append(f"apis/{g}")
        for v in sorted({r.version for r in registry.resources if r.group == g}):
            out.append(f"apis/{g}/{v}")
    return out


@cache
def root_document() -> bytes:
    """``/openapi/v3``: every served document with its content hash."""
    paths = {}
    for p in served_paths():
        body = rendered(p)
        if body is not None:
            paths[p] = {"serverRelativeURL": f"/openapi/v3/{p}?hash={document_hash(body)}"}
    return json.dumps({"paths": paths}, separators=(",", ":")).encode()


def response(request: web.Request, parts: list[str]) -> web.Response:
    """Serve ``/openapi/v3[/...]`` as upstream does: hashed URLs are immutable, a stale hash redirects."""
    if len(parts) < 2 or parts[1] != "v3":
        return web.Response(status=404, text="404 page not found\n", content_type="text/plain")
    if len(parts) == 2:
        return web.Response(body=root_document(), content_type="application/json",
                            headers={"Cache-Control": "no-cache, private"})
    path = "/".join(parts[2:])
    body = rendered(path)
    if body is None:
        return web.Response(status=404, text="404 page not found\n", content_type="text/plain")
    digest = document_hash(body)
    wanted = request.query.get("hash")
    if wanted is None:
        return web.Response(body=body, content_type="application/json",
                            headers={"Cache-Control": "no-cache, private", "Etag": f'"{digest}"'})
    if wanted != digest:
        return web.Response(status=301, headers={"Location": f"/openapi/v3/{path}?hash={digest}",
                                                 "Cache-Control": "no-cache, private"})
    return web.Response(body=body, content_type="application/json",
                        headers={"Cache-Control": "public, immutable", "Etag": f'"{digest}"',
                                 "Expires": "Thu, 01 Jan 2099 00:00:00 GMT"})
