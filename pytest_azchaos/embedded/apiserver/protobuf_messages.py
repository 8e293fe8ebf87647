"""Field tables for decoding ``application/vnd.kubernetes.protobuf`` request bodies (data only; see protobuf.py).

Field numbers, proto types and JSON names were read from upstream kubernetes v1.36.3 (kubernetes/api and
kubernetes/apimachinery at tag ``kubernetes-1.36.3``): ``core/v1``, ``apps/v1`` and ``policy/v1``
``generated.proto`` joined with the ``json``/``protobuf`` struct tags of the same packages' ``types.go`` (which say
whether a Go field is a pointer and whether it is ``omitempty``), and ``pkg/apis/meta/v1``,
``pkg/api/resource``, ``pkg/util/intstr`` ``generated.proto`` from apimachinery.
"""

from __future__ import annotations

# Field spec: (json name, type, repeated). A json name of "" marks a Go struct embedded with ``json:",inline"``:
# its fields are merged into the enclosing object. Types:
#   "string", "int32", "int64", "bool": omitempty scalars, dropped when zero;
#   "string!", "int32!", "int64!", "bool!": pointers and non-omitempty fields, always kept;
#   "bytes" (base64 in JSON), "time" (meta/v1 Time), "intstr" (util/intstr IntOrString),
#   "quantity" (api/resource Quantity), "fieldsv1" (meta/v1 FieldsV1: raw JSON);
#   "map" (map<string,string>), "bytesmap" (map<string,bytes>), "quantitymap" (map<string,Quantity>, e.g.
#   ResourceList), "timemap" (map<string,Time>); or the name of another message in this table.
Field = tuple[str, str, bool]
MESSAGES: dict[str, dict[int, Field]] = {
    # k8s.io/apimachinery/pkg/apis/meta/v1
    "ObjectMeta": {
        1: ("name", "string", False), 2: ("generateName", "string", False), 3: ("namespace", "string", False),
        4: ("selfLink", "string", False), 5: ("uid", "string", False), 6: ("resourceVersion", "string", False),
        7: ("generation", "int64", False), 8: ("creationTimestamp", "time", False),
        9: ("deletionTimestamp", "time", False), 10: ("deletionGracePeriodSeconds", "int64!", False),
        11: ("labels", "map", False), 12: ("annotations", "map", False),
        13: ("ownerReferences", "OwnerReference", True), 14: ("finalizers", "string", True),
        17: ("managedFields", "ManagedFieldsEntry", True),
    },
    "OwnerReference": {
        5: ("apiVersion", "string!", False), 1: ("kind", "string!", False), 3: ("name", "string!", False),
        4: ("uid", "string!", False), 6: ("controller", "bool!", False), 7: ("blockOwnerDeletion", "bool!", False),
    },
    "ManagedFieldsEntry": {
        1: ("manager", "string", False), 2: ("operation", "string", False), 3: ("apiVersion", "string", False),
        4: ("time", "time", False), 6: ("fieldsType", "string", False), 7: ("fieldsV1", "fieldsv1", False),
        8: ("subresource", "string", False),
    },
    "DeleteOptions": {
        1: ("gracePeriodSeconds", "int64!", False), 2: ("preconditions", "Preconditions", False),
        3: ("orphanDependents", "bool!", False), 4: ("propagationPolicy", "string", False),
        5: ("dryRun", "string", True), 6: ("ignoreStoreReadErrorWithClusterBreakingPotential", "bool!", False),
    },
    "Preconditions": {1: ("uid", "string", False), 2: ("resourceVersion", "string", False)},
    "LabelSelector": {1: ("matchLabels", "map", False), 2: ("matchExpressions", "LabelSelectorRequirement", True)},
    "LabelSelectorRequirement": {1: ("key", "string!", False), 2: ("operator", "string!", False),
                                 3: ("values", "string", True)},
    "Condition": {1: ("type", "string!", False), 2: ("status", "string!", False),
                  3: ("observedGeneration", "int64", False), 4: ("lastTransitionTime", "time", False),
                  5: ("reason", "string!", False), 6: ("message", "string!", False)},
    # k8s.io/api/core/v1
    "ConfigMap": {1: ("metadata", "ObjectMeta", False), 2: ("data", "map", False),
                  3: ("binaryData", "bytesmap", False), 4: ("immutable", "bool!", False)},
    "Secret": {1: ("metadata", "ObjectMeta", False), 2: ("data", "bytesmap", False), 3: ("type", "string", False),
               4: ("stringData", "map", False), 5: ("immutable", "bool!", False)},
    "Namespace": {1: ("metadata", "ObjectMeta", False), 2: ("spec", "NamespaceSpec", False),
                  3: ("status", "NamespaceStatus", False)},
    "NamespaceSpec": {1: ("finalizers", "string", True)},
    "NamespaceStatus": {1: ("phase", "string", False), 2: ("conditions", "NamespaceCondition", True)},
    "NamespaceCondition": {1: ("type", "string!", False), 2: ("status", "string!", False),
                           4: ("lastTransitionTime", "time", False), 5: ("reason", "string", False),
                           6: ("message", "string", False)},
    "ServiceAccount": {1: ("metadata", "ObjectMeta", False), 2: ("secrets", "ObjectReference", True),
                       3: ("imagePullSecrets", "LocalObjectReference", True),
                       4: ("automountServiceAccountToken", "bool!", False)},
    "ObjectReference": {1: ("kind", "string", False), 2: ("namespace", "string", False), 3: ("name", "string", False),
                        4: ("uid", "string", False), 5: ("apiVersion", "string", False),
                        6: ("resourceVersion", "string", False), 7: ("fieldPath", "string", False)},
    "LocalObjectReference": {1: ("name", "string", False)},
    "Service": {1: ("metadata", "ObjectMeta", False), 2: ("spec", "ServiceSpec", False),
                3: ("status", "ServiceStatus", False)},
    "ServiceSpec": {
        1: ("ports", "ServicePort", True), 2: ("selector", "map", False), 3: ("clusterIP", "string", False),
        18: ("clusterIPs", "string", True), 4: ("type", "string", False), 5: ("externalIPs", "string", True),
        7: ("sessionAffinity", "string", False), 8: ("loadBalancerIP", "string", False),
        9: ("loadBalancerSourceRanges", "string", True), 10: ("externalName", "string", False),
        11: ("externalTrafficPolicy", "string", False), 12: ("healthCheckNodePort", "int32", False),
        13: ("publishNotReadyAddresses", "bool", False), 14: ("sessionAffinityConfig", "SessionAffinityConfig", False),
        19: ("ipFamilies", "string", True), 17: ("ipFamilyPolicy", "string!", False),
        20: ("allocateLoadBalancerNodePorts", "bool!", False), 21: ("loadBalancerClass", "string!", False),
        22: ("internalTrafficPolicy", "string!", False), 23: ("trafficDistribution", "string!", False),
    },
    "ServicePort": {1: ("name", "string", False), 2: ("protocol", "string", False),
                    6: ("appProtocol", "string!", False), 3: ("port", "int32!", False),
                    4: ("targetPort", "intstr", False), 5: ("nodePort", "int32", False)},
    "SessionAffinityConfig": {1: ("clientIP", "ClientIPConfig", False)},
    "ClientIPConfig": {1: ("timeoutSeconds", "int32!", False)},
    "ServiceStatus": {1: ("loadBalancer", "LoadBalancerStatus", False), 2: ("conditions", "Condition", True)},
    "LoadBalancerStatus": {1: ("ingress", "LoadBalancerIngress", True)},
    "LoadBalancerIngress": {1: ("ip", "string", False), 2: ("hostname", "string", False),
                            3: ("ipMode", "string!", False), 4: ("ports", "PortStatus", True)},
    "PortStatus": {1: ("port", "int32!", False), 2: ("protocol", "string!", False), 3: ("error", "string!", False)},
    "PodTemplateSpec": {1: ("metadata", "ObjectMeta", False), 2: ("spec", "PodSpec", False)},
    "PodSpec": {
        1: ("volumes", "Volume", True), 20: ("initContainers", "Container", True), 2: ("containers", "Container", True),
        34: ("ephemeralContainers", "EphemeralContainer", True), 3: ("restartPolicy", "string", False),
        4: ("terminationGracePeriodSeconds", "int64!", False), 5: ("activeDeadlineSeconds", "int64!", False),
        6: ("dnsPolicy", "string", False), 7: ("nodeSelector", "map", False),
        8: ("serviceAccountName", "string", False), 9: ("serviceAccount", "string", False),
        21: ("automountServiceAccountToken", "bool!", False), 10: ("nodeName", "string", False),
        11: ("hostNetwork", "bool", False), 12: ("hostPID", "bool", False), 13: ("hostIPC", "bool", False),
        27: ("shareProcessNamespace", "bool!", False), 14: ("securityContext", "PodSecurityContext", False),
        15: ("imagePullSecrets", "LocalObjectReference", True), 16: ("hostname", "string", False),
        17: ("subdomain", "string", False), 18: ("affinity", "Affinity", False), 19: ("schedulerName", "string", False),
        22: ("tolerations", "Toleration", True), 23: ("hostAliases", "HostAlias", True),
        24: ("priorityClassName", "string", False), 25: ("priority", "int32!", False),
        26: ("dnsConfig", "PodDNSConfig", False), 28: ("readinessGates", "PodReadinessGate", True),
        29: ("runtimeClassName", "string!", False), 30: ("enableServiceLinks", "bool!", False),
        31: ("preemptionPolicy", "string!", False), 32: ("overhead", "quantitymap", False),
        33: ("topologySpreadConstraints", "TopologySpreadConstraint", True), 35: ("setHostnameAsFQDN", "bool!", False),
        36: ("os", "PodOS", False), 37: ("hostUsers", "bool!", False),
        38: ("schedulingGates", "PodSchedulingGate", True), 39: ("resourceClaims", "PodResourceClaim", True),
        40: ("resources", "ResourceRequirements", False), 41: ("hostnameOverride", "string!", False),
        43: ("schedulingGroup", "PodSchedulingGroup", False),
    },
    "Volume": {1: ("name", "string!", False), 2: ("", "VolumeSource", False)},
    "Container": {
        1: ("name", "string!", False), 2: ("image", "string", False), 3: ("command", "string", True),
        4: ("args", "string", True), 5: ("workingDir", "string", False), 6: ("ports", "ContainerPort", True),
        19: ("envFrom", "EnvFromSource", True), 7: ("env", "EnvVar", True),
        8: ("resources", "ResourceRequirements", False), 23: ("resizePolicy", "ContainerResizePolicy", True),
        24: ("restartPolicy", "string!", False), 25: ("restartPolicyRules", "ContainerRestartRule", True),
        9: ("volumeMounts", "VolumeMount", True), 21: ("volumeDevices", "VolumeDevice", True),
        10: ("livenessProbe", "Probe", False), 11: ("readinessProbe", "Probe", False),
        22: ("startupProbe", "Probe", False), 12: ("lifecycle", "Lifecycle", False),
        13: ("terminationMessagePath", "string", False), 20: ("terminationMessagePolicy", "string", False),
        14: ("imagePullPolicy", "string", False), 15: ("securityContext", "SecurityContext", False),
        16: ("stdin", "bool", False), 17: ("stdinOnce", "bool", False), 18: ("tty", "bool", False),
    },
    "EphemeralContainer": {1: ("", "EphemeralContainerCommon", False), 2: ("targetContainerName", "string", False)},
    "PodSecurityContext": {
        1: ("seLinuxOptions", "SELinuxOptions", False), 8: ("windowsOptions", "WindowsSecurityContextOptions", False),
        2: ("runAsUser", "int64!", False), 6: ("runAsGroup", "int64!", False), 3: ("runAsNonRoot", "bool!", False),
        4: ("supplementalGroups", "int64", True), 12: ("supplementalGroupsPolicy", "string!", False),
        5: ("fsGroup", "int64!", False), 7: ("sysctls", "Sysctl", True), 9: ("fsGroupChangePolicy", "string!", False),
        10: ("seccompProfile", "SeccompProfile", False), 11: ("appArmorProfile", "AppArmorProfile", False),
        13: ("seLinuxChangePolicy", "string!", False),
    },
    "Affinity": {
        1: ("nodeAffinity", "NodeAffinity", False), 2: ("podAffinity", "PodAffinity", False),
        3: ("podAntiAffinity", "PodAntiAffinity", False),
    },
    "Toleration": {
        1: ("key", "string", False), 2: ("operator", "string", False), 3: ("value", "string", False),
        4: ("effect", "string", False), 5: ("tolerationSeconds", "int64!", False),
    },
    "HostAlias": {1: ("ip", "string!", False), 2: ("hostnames", "string", True)},
    "PodDNSConfig": {
        1: ("nameservers", "string", True), 2: ("searches", "string", True), 3: ("options", "PodDNSConfigOption", True),
    },
    "PodReadinessGate": {1: ("conditionType", "string!", False)},
    "TopologySpreadConstraint": {
        1: ("maxSkew", "int32!", False), 2: ("topologyKey", "string!", False),
        3: ("whenUnsatisfiable", "string!", False), 4: ("labelSelector", "LabelSelector", False),
        5: ("minDomains", "int32!", False), 6: ("nodeAffinityPolicy", "string!", False),
        7: ("nodeTaintsPolicy", "string!", False), 8: ("matchLabelKeys", "string", True),
    },
    "PodOS": {1: ("name", "string!", False)},
    "PodSchedulingGate": {1: ("name", "string!", False)},
    "PodResourceClaim": {
        1: ("name", "string!", False), 3: ("resourceClaimName", "string!", False),
        4: ("resourceClaimTemplateName", "string!", False),
    },
    "ResourceRequirements": {
        1: ("limits", "quantitymap", False), 2: ("requests", "quantitymap", False),
        3: ("claims", "ResourceClaim", True),
    },
    "PodSchedulingGroup": {1: ("podGroupName", "string!", False)},
    "VolumeSource": {
        1: ("hostPath", "HostPathVolumeSource", False), 2: ("emptyDir", "EmptyDirVolumeSource", False),
        3: ("gcePersistentDisk", "GCEPersistentDiskVolumeSource", False),
        4: ("awsElasticBlockStore", "AWSElasticBlockStoreVolumeSource", False),
        5: ("gitRepo", "GitRepoVolumeSource", False), 6: ("secret", "SecretVolumeSource", False),
        7: ("nfs", "NFSVolumeSource", False), 8: ("iscsi", "ISCSIVolumeSource", False),
        9: ("glusterfs", "GlusterfsVolumeSource", False),
        10: ("persistentVolumeClaim", "PersistentVolumeClaimVolumeSource", False),
        11: ("rbd", "RBDVolumeSource", False), 12: ("flexVolume", "FlexVolumeSource", False),
        13: ("cinder", "CinderVolumeSource", False), 14: ("cephfs", "CephFSVolumeSource", False),
        15: ("flocker", "FlockerVolumeSource", False), 16: ("downwardAPI", "DownwardAPIVolumeSource", False),
        17: ("fc", "FCVolumeSource", False), 18: ("azureFile", "AzureFileVolumeSource", False),
        19: ("configMap", "ConfigMapVolumeSource", False),
        20: ("vsphereVolume", "VsphereVirtualDiskVolumeSource", False), 21: ("quobyte", "QuobyteVolumeSource", False),
        22: ("azureDisk", "AzureDiskVolumeSource", False),
        23: ("photonPersistentDisk", "PhotonPersistentDiskVolumeSource", False),
        26: ("projected", "ProjectedVolumeSource", False), 24: ("portworxVolume", "PortworxVolumeSource", False),
        25: ("scaleIO", "ScaleIOVolumeSource", False), 27: ("storageos", "StorageOSVolumeSource", False),
        28: ("csi", "CSIVolumeSource", False), 29: ("ephemeral", "EphemeralVolumeSource", False),
        30: ("image", "ImageVolumeSource", False),
    },
    "ContainerPort": {
        1: ("name", "string", False), 2: ("hostPort", "int32", False), 3: ("containerPort", "int32!", False),
        4: ("protocol", "string", False), 5: ("hostIP", "string", False),
    },
    "EnvFromSource": {
        1: ("prefix", "string", False), 2: ("configMapRef", "ConfigMapEnvSource", False),
        3: ("secretRef", "SecretEnvSource", False),
    },
    "EnvVar": {1: ("name", "string!", False), 2: ("value", "string", False), 3: ("valueFrom", "EnvVarSource", False)},
    "ContainerResizePolicy": {1: ("resourceName", "string!", False), 2: ("restartPolicy", "string!", False)},
    "ContainerRestartRule": {
        1: ("action", "string", False), 2: ("exitCodes", "ContainerRestartRuleOnExitCodes", False),
    },
    "VolumeMount": {
        1: ("name", "string!", False), 2: ("readOnly", "bool", False), 7: ("recursiveReadOnly", "string!", False),
        3: ("mountPath", "string!", False), 4: ("subPath", "string", False), 5: ("mountPropagation", "string!", False),
        6: ("subPathExpr", "string", False),
    },
    "VolumeDevice": {1: ("name", "string!", False), 2: ("devicePath", "string!", False)},
    "Probe": {
        1: ("", "ProbeHandler", False), 2: ("initialDelaySeconds", "int32", False),
        3: ("timeoutSeconds", "int32", False), 4: ("periodSeconds", "int32", False),
        5: ("successThreshold", "int32", False), 6: ("failureThreshold", "int32", False),
        7: ("terminationGracePeriodSeconds", "int64!", False),
    },
    "Lifecycle": {
        1: ("postStart", "LifecycleHandler", False), 2: ("preStop", "LifecycleHandler", False),
        3: ("stopSignal", "string!", False),
    },
    "SecurityContext": {
        1: ("capabilities", "Capabilities", False), 2: ("privileged", "bool!", False),
        3: ("seLinuxOptions", "SELinuxOptions", False), 10: ("windowsOptions", "WindowsSecurityContextOptions", False),
        4: ("runAsUser", "int64!", False), 8: ("runAsGroup", "int64!", False), 5: ("runAsNonRoot", "bool!", False),
        6: ("readOnlyRootFilesystem", "bool!", False), 7: ("allowPrivilegeEscalation", "bool!", False),
        9: ("procMount", "string!", False), 11: ("seccompProfile", "SeccompProfile", False),
        12: ("appArmorProfile", "AppArmorProfile", False),
    },
    "EphemeralContainerCommon": {
        1: ("name", "string!", False), 2: ("image", "string", False), 3: ("command", "string", True),
        4: ("args", "string", True), 5: ("workingDir", "string", False), 6: ("ports", "ContainerPort", True),
        19: ("envFrom", "EnvFromSource", True), 7: ("env", "EnvVar", True),
        8: ("resources", "ResourceRequirements", False), 23: ("resizePolicy", "ContainerResizePolicy", True),
        24: ("restartPolicy", "string!", False), 25: ("restartPolicyRules", "ContainerRestartRule", True),
        9: ("volumeMounts", "VolumeMount", True), 21: ("volumeDevices", "VolumeDevice", True),
        10: ("livenessProbe", "Probe", False), 11: ("readinessProbe", "Probe", False),
        22: ("startupProbe", "Probe", False), 12: ("lifecycle", "Lifecycle", False),
        13: ("terminationMessagePath", "string", False), 20: ("terminationMessagePolicy", "string", False),
        14: ("imagePullPolicy", "string", False), 15: ("securityContext", "SecurityContext", False),
        16: ("stdin", "bool", False), 17: ("stdinOnce", "bool", False), 18: ("tty", "bool", False),
    },
    "SELinuxOptions": {
        1: ("user", "string", False), 2: ("role", "string", False), 3: ("type", "string", False),
        4: ("level", "string", False),
    },
    "WindowsSecurityContextOptions": {
        1: ("gmsaCredentialSpecName", "string!", False), 2: ("gmsaCredentialSpec", "string!", False),
        3: ("runAsUserName", "string!", False), 4: ("hostProcess", "bool!", False),
    },
    "Sysctl": {1: ("name", "string!", False), 2: ("value", "string!", False)},
    "SeccompProfile": {1: ("type", "string!", False), 2: ("localhostProfile", "string!", False)},
    "AppArmorProfile": {1: ("type", "string!", False), 2: ("localhostProfile", "string!", False)},
    "NodeAffinity": {
        1: ("requiredDuringSchedulingIgnoredDuringExecution", "NodeSelector", False),
        2: ("preferredDuringSchedulingIgnoredDuringExecution", "PreferredSchedulingTerm", True),
    },
    "PodAffinity": {
        1: ("requiredDuringSchedulingIgnoredDuringExecution", "PodAffinityTerm", True),
        2: ("preferredDuringSchedulingIgnoredDuringExecution", "WeightedPodAffinityTerm", True),
    },
    "PodAntiAffinity": {
        1: ("requiredDuringSchedulingIgnoredDuringExecution", "PodAffinityTerm", True),
        2: ("preferredDuringSchedulingIgnoredDuringExecution", "WeightedPodAffinityTerm", True),
    },
    "PodDNSConfigOption": {1: ("name", "string", False), 2: ("value", "string!", False)},
    "ResourceClaim": {1: ("name", "string!", False), 2: ("request", "string", False)},
    "HostPathVolumeSource": {1: ("path", "string!", False), 2: ("type", "string!", False)},
    "EmptyDirVolumeSource": {1: ("medium", "string", False), 2: ("sizeLimit", "quantity", False)},
    "GCEPersistentDiskVolumeSource": {
        1: ("pdName", "string!", False), 2: ("fsType", "string", False), 3: ("partition", "int32", False),
        4: ("readOnly", "bool", False),
    },
    "AWSElasticBlockStoreVolumeSource": {
        1: ("volumeID", "string!", False), 2: ("fsType", "string", False), 3: ("partition", "int32", False),
        4: ("readOnly", "bool", False),
    },
    "GitRepoVolumeSource": {
        1: ("repository", "string!", False), 2: ("revision", "string", False), 3: ("directory", "string", False),
    },
    "SecretVolumeSource": {
        1: ("secretName", "string", False), 2: ("items", "KeyToPath", True), 3: ("defaultMode", "int32!", False),
        4: ("optional", "bool!", False),
    },
    "NFSVolumeSource": {1: ("server", "string!", False), 2: ("path", "string!", False), 3: ("readOnly", "bool", False)},
    "ISCSIVolumeSource": {
        1: ("targetPortal", "string!", False), 2: ("iqn", "string!", False), 3: ("lun", "int32!", False),
        4: ("iscsiInterface", "string", False), 5: ("fsType", "string", False), 6: ("readOnly", "bool", False),
        7: ("portals", "string", True), 8: ("chapAuthDiscovery", "bool", False), 11: ("chapAuthSession", "bool", False),
        10: ("secretRef", "LocalObjectReference", False), 12: ("initiatorName", "string!", False),
    },
    "GlusterfsVolumeSource": {
        1: ("endpoints", "string!", False), 2: ("path", "string!", False), 3: ("readOnly", "bool", False),
    },
    "PersistentVolumeClaimVolumeSource": {1: ("claimName", "string!", False), 2: ("readOnly", "bool", False)},
    "RBDVolumeSource": {
        1: ("monitors", "string", True), 2: ("image", "string!", False), 3: ("fsType", "string", False),
        4: ("pool", "string", False), 5: ("user", "string", False), 6: ("keyring", "string", False),
        7: ("secretRef", "LocalObjectReference", False), 8: ("readOnly", "bool", False),
    },
    "FlexVolumeSource": {
        1: ("driver", "string!", False), 2: ("fsType", "string", False),
        3: ("secretRef", "LocalObjectReference", False), 4: ("readOnly", "bool", False), 5: ("options", "map", False),
    },
    "CinderVolumeSource": {
        1: ("volumeID", "string!", False), 2: ("fsType", "string", False), 3: ("readOnly", "bool", False),
        4: ("secretRef", "LocalObjectReference", False),
    },
    "CephFSVolumeSource": {
        1: ("monitors", "string", True), 2: ("path", "string", False), 3: ("user", "string", False),
        4: ("secretFile", "string", False), 5: ("secretRef", "LocalObjectReference", False),
        6: ("readOnly", "bool", False),
    },
    "FlockerVolumeSource": {1: ("datasetName", "string", False), 2: ("datasetUUID", "string", False)},
    "DownwardAPIVolumeSource": {1: ("items", "DownwardAPIVolumeFile", True), 2: ("defaultMode", "int32!", False)},
    "FCVolumeSource": {
        1: ("targetWWNs", "string", True), 2: ("lun", "int32!", False), 3: ("fsType", "string", False),
        4: ("readOnly", "bool", False), 5: ("wwids", "string", True),
    },
    "AzureFileVolumeSource": {
        1: ("secretName", "string!", False), 2: ("shareName", "string!", False), 3: ("readOnly", "bool", False),
    },
    "ConfigMapVolumeSource": {
        1: ("", "LocalObjectReference", False), 2: ("items", "KeyToPath", True), 3: ("defaultMode", "int32!", False),
        4: ("optional", "bool!", False),
    },
    "VsphereVirtualDiskVolumeSource": {
        1: ("volumePath", "string!", False), 2: ("fsType", "string", False), 3: ("storagePolicyName", "string", False),
        4: ("storagePolicyID", "string", False),
    },
    "QuobyteVolumeSource": {
        1: ("registry", "string!", False), 2: ("volume", "string!", False), 3: ("readOnly", "bool", False),
        4: ("user", "string", False), 5: ("group", "string", False), 6: ("tenant", "string", False),
    },
    "AzureDiskVolumeSource": {
        1: ("diskName", "string!", False), 2: ("diskURI", "string!", False), 3: ("cachingMode", "string!", False),
        4: ("fsType", "string!", False), 5: ("readOnly", "bool!", False), 6: ("kind", "string!", False),
    },
    "PhotonPersistentDiskVolumeSource": {1: ("pdID", "string!", False), 2: ("fsType", "string", False)},
    "ProjectedVolumeSource": {1: ("sources", "VolumeProjection", True), 2: ("defaultMode", "int32!", False)},
    "PortworxVolumeSource": {
        1: ("volumeID", "string!", False), 2: ("fsType", "string", False), 3: ("readOnly", "bool", False),
    },
    "ScaleIOVolumeSource": {
        1: ("gateway", "string!", False), 2: ("system", "string!", False),
        3: ("secretRef", "LocalObjectReference", False), 4: ("sslEnabled", "bool", False),
        5: ("protectionDomain", "string", False), 6: ("storagePool", "string", False),
        7: ("storageMode", "string", False), 8: ("volumeName", "string", False), 9: ("fsType", "string", False),
        10: ("readOnly", "bool", False),
    },
    "StorageOSVolumeSource": {
        1: ("volumeName", "string", False), 2: ("volumeNamespace", "string", False), 3: ("fsType", "string", False),
        4: ("readOnly", "bool", False), 5: ("secretRef", "LocalObjectReference", False),
    },
    "CSIVolumeSource": {
        1: ("driver", "string!", False), 2: ("readOnly", "bool!", False), 3: ("fsType", "string!", False),
        4: ("volumeAttributes", "map", False), 5: ("nodePublishSecretRef", "LocalObjectReference", False),
    },
    "EphemeralVolumeSource": {1: ("volumeClaimTemplate", "PersistentVolumeClaimTemplate", False)},
    "ImageVolumeSource": {1: ("reference", "string", False), 2: ("pullPolicy", "string", False)},
    "ConfigMapEnvSource": {1: ("", "LocalObjectReference", False), 2: ("optional", "bool!", False)},
    "SecretEnvSource": {1: ("", "LocalObjectReference", False), 2: ("optional", "bool!", False)},
    "EnvVarSource": {
        1: ("fieldRef", "ObjectFieldSelector", False), 2: ("resourceFieldRef", "ResourceFieldSelector", False),
        3: ("configMapKeyRef", "ConfigMapKeySelector", False), 4: ("secretKeyRef", "SecretKeySelector", False),
        5: ("fileKeyRef", "FileKeySelector", False),
    },
    "ContainerRestartRuleOnExitCodes": {1: ("operator", "string", False), 2: ("values", "int32", True)},
    "ProbeHandler": {
        1: ("exec", "ExecAction", False), 2: ("httpGet", "HTTPGetAction", False),
        3: ("tcpSocket", "TCPSocketAction", False), 4: ("grpc", "GRPCAction", False),
    },
    "LifecycleHandler": {
        1: ("exec", "ExecAction", False), 2: ("httpGet", "HTTPGetAction", False),
        3: ("tcpSocket", "TCPSocketAction", False), 4: ("sleep", "SleepAction", False),
    },
    "Capabilities": {1: ("add", "string", True), 2: ("drop", "string", True)},
    "NodeSelector": {1: ("nodeSelectorTerms", "NodeSelectorTerm", True)},
    "PreferredSchedulingTerm": {1: ("weight", "int32!", False), 2: ("preference", "NodeSelectorTerm", False)},
    "PodAffinityTerm": {
        1: ("labelSelector", "LabelSelector", False), 2: ("namespaces", "string", True),
        3: ("topologyKey", "string!", False), 4: ("namespaceSelector", "LabelSelector", False),
        5: ("matchLabelKeys", "string", True), 6: ("mismatchLabelKeys", "string", True),
    },
    "WeightedPodAffinityTerm": {1: ("weight", "int32!", False), 2: ("podAffinityTerm", "PodAffinityTerm", False)},
    "KeyToPath": {1: ("key", "string!", False), 2: ("path", "string!", False), 3: ("mode", "int32!", False)},
    "DownwardAPIVolumeFile": {
        1: ("path", "string!", False), 2: ("fieldRef", "ObjectFieldSelector", False),
        3: ("resourceFieldRef", "ResourceFieldSelector", False), 4: ("mode", "int32!", False),
    },
    "VolumeProjection": {
        1: ("secret", "SecretProjection", False), 2: ("downwardAPI", "DownwardAPIProjection", False),
        3: ("configMap", "ConfigMapProjection", False),
        4: ("serviceAccountToken", "ServiceAccountTokenProjection", False),
        5: ("clusterTrustBundle", "ClusterTrustBundleProjection", False),
        6: ("podCertificate", "PodCertificateProjection", False),
    },
    "PersistentVolumeClaimTemplate": {
        1: ("metadata", "ObjectMeta", False), 2: ("spec", "PersistentVolumeClaimSpec", False),
    },
    "ObjectFieldSelector": {1: ("apiVersion", "string", False), 2: ("fieldPath", "string!", False)},
    "ResourceFieldSelector": {
        1: ("containerName", "string", False), 2: ("resource", "string!", False), 3: ("divisor", "quantity", False),
    },
    "ConfigMapKeySelector": {
        1: ("", "LocalObjectReference", False), 2: ("key", "string!", False), 3: ("optional", "bool!", False),
    },
    "SecretKeySelector": {
        1: ("", "LocalObjectReference", False), 2: ("key", "string!", False), 3: ("optional", "bool!", False),
    },
    "FileKeySelector": {
        1: ("volumeName", "string!", False), 2: ("path", "string!", False), 3: ("key", "string!", False),
        4: ("optional", "bool!", False),
    },
    "ExecAction": {1: ("command", "string", True)},
    "HTTPGetAction": {
        1: ("path", "string", False), 2: ("port", "intstr", False), 3: ("host", "string", False),
        4: ("scheme", "string", False), 5: ("httpHeaders", "HTTPHeader", True),
    },
    "TCPSocketAction": {1: ("port", "intstr", False), 2: ("host", "string", False)},
    "GRPCAction": {1: ("port", "int32!", False), 2: ("service", "string!", False)},
    "SleepAction": {1: ("seconds", "int64!", False)},
    "NodeSelectorTerm": {
        1: ("matchExpressions", "NodeSelectorRequirement", True), 2: ("matchFields", "NodeSelectorRequirement", True),
    },
    "SecretProjection": {
        1: ("", "LocalObjectReference", False), 2: ("items", "KeyToPath", True), 4: ("optional", "bool!", False),
    },
    "DownwardAPIProjection": {1: ("items", "DownwardAPIVolumeFile", True)},
    "ConfigMapProjection": {
        1: ("", "LocalObjectReference", False), 2: ("items", "KeyToPath", True), 4: ("optional", "bool!", False),
    },
    "ServiceAccountTokenProjection": {
        1: ("audience", "string", False), 2: ("expirationSeconds", "int64!", False), 3: ("path", "string!", False),
    },
    "ClusterTrustBundleProjection": {
        1: ("name", "string!", False), 2: ("signerName", "string!", False),
        3: ("labelSelector", "LabelSelector", False), 5: ("optional", "bool!", False), 4: ("path", "string!", False),
    },
    "PodCertificateProjection": {
        1: ("signerName", "string", False), 2: ("keyType", "string", False),
        3: ("maxExpirationSeconds", "int32!", False), 4: ("credentialBundlePath", "string", False),
        5: ("keyPath", "string", False), 6: ("certificateChainPath", "string", False),
        7: ("userAnnotations", "map", False),
    },
    "PersistentVolumeClaimSpec": {
        1: ("accessModes", "string", True), 4: ("selector", "LabelSelector", False),
        2: ("resources", "VolumeResourceRequirements", False), 3: ("volumeName", "string", False),
        5: ("storageClassName", "string!", False), 6: ("volumeMode", "string!", False),
        7: ("dataSource", "TypedLocalObjectReference", False), 8: ("dataSourceRef", "TypedObjectReference", False),
        9: ("volumeAttributesClassName", "string!", False),
    },
    "HTTPHeader": {1: ("name", "string!", False), 2: ("value", "string!", False)},
    "NodeSelectorRequirement": {
        1: ("key", "string!", False), 2: ("operator", "string!", False), 3: ("values", "string", True),
    },
    "VolumeResourceRequirements": {1: ("limits", "quantitymap", False), 2: ("requests", "quantitymap", False)},
    "TypedLocalObjectReference": {
        1: ("apiGroup", "string!", False), 2: ("kind", "string!", False), 3: ("name", "string!", False),
    },
    "TypedObjectReference": {
        1: ("apiGroup", "string!", False), 2: ("kind", "string!", False), 3: ("name", "string!", False),
        4: ("namespace", "string!", False),
    },
    # k8s.io/api/apps/v1
    "Deployment": {
        1: ("metadata", "ObjectMeta", False), 2: ("spec", "DeploymentSpec", False),
        3: ("status", "DeploymentStatus", False),
    },
    "DeploymentSpec": {
        1: ("replicas", "int32!", False), 2: ("selector", "LabelSelector", False),
        3: ("template", "PodTemplateSpec", False), 4: ("strategy", "DeploymentStrategy", False),
        5: ("minReadySeconds", "int32", False), 6: ("revisionHistoryLimit", "int32!", False),
        7: ("paused", "bool", False), 9: ("progressDeadlineSeconds", "int32!", False),
    },
    "DeploymentStatus": {
        1: ("observedGeneration", "int64", False), 2: ("replicas", "int32", False),
        3: ("updatedReplicas", "int32", False), 7: ("readyReplicas", "int32", False),
        4: ("availableReplicas", "int32", False), 5: ("unavailableReplicas", "int32", False),
        9: ("terminatingReplicas", "int32!", False), 6: ("conditions", "DeploymentCondition", True),
        8: ("collisionCount", "int32!", False),
    },
    "DeploymentStrategy": {1: ("type", "string", False), 2: ("rollingUpdate", "RollingUpdateDeployment", False)},
    "DeploymentCondition": {
        1: ("type", "string!", False), 2: ("status", "string!", False), 6: ("lastUpdateTime", "time", False),
        7: ("lastTransitionTime", "time", False), 4: ("reason", "string", False), 5: ("message", "string", False),
    },
    "RollingUpdateDeployment": {1: ("maxUnavailable", "intstr", False), 2: ("maxSurge", "intstr", False)},
    # k8s.io/api/policy/v1
    "Eviction": {1: ("metadata", "ObjectMeta", False), 2: ("deleteOptions", "DeleteOptions", False)},
    "PodDisruptionBudget": {
        1: ("metadata", "ObjectMeta", False), 2: ("spec", "PodDisruptionBudgetSpec", False),
        3: ("status", "PodDisruptionBudgetStatus", False),
    },
    "PodDisruptionBudgetSpec": {
        1: ("minAvailable", "intstr", False), 2: ("selector", "LabelSelector", False),
        3: ("maxUnavailable", "intstr", False), 4: ("unhealthyPodEvictionPolicy", "string!", False),
    },
    "PodDisruptionBudgetStatus": {
        1: ("observedGeneration", "int64", False), 2: ("disruptedPods", "timemap", False),
        3: ("disruptionsAllowed", "int32!", False), 4: ("currentHealthy", "int32!", False),
        5: ("desiredHealthy", "int32!", False), 6: ("expectedPods", "int32!", False),
        7: ("conditions", "Condition", True),
    },
    # k8s.io/api/batch/v1 (kubectl create job/cronjob send protobuf); a client-sent status is skipped, and so are
    # podFailurePolicy (11) and successPolicy (16), which no table describes yet.
    "Job": {1: ("metadata", "ObjectMeta", False), 2: ("spec", "JobSpec", False)},
    "JobSpec": {
        1: ("parallelism", "int32!", False), 2: ("completions", "int32!", False),
        3: ("activeDeadlineSeconds", "int64!", False), 7: ("backoffLimit", "int32!", False),
        12: ("backoffLimitPerIndex", "int32!", False), 13: ("maxFailedIndexes", "int32!", False),
        4: ("selector", "LabelSelector", False), 5: ("manualSelector", "bool!", False),
        6: ("template", "PodTemplateSpec", False), 8: ("ttlSecondsAfterFinished", "int32!", False),
        9: ("completionMode", "string!", False), 10: ("suspend", "bool!", False),
        14: ("podReplacementPolicy", "string!", False), 15: ("managedBy", "string!", False),
    },
    "CronJob": {1: ("metadata", "ObjectMeta", False), 2: ("spec", "CronJobSpec", False)},
    "CronJobSpec": {
        1: ("schedule", "string", False), 8: ("timeZone", "string!", False),
        2: ("startingDeadlineSeconds", "int64!", False), 3: ("concurrencyPolicy", "string", False),
        4: ("suspend", "bool!", False), 5: ("jobTemplate", "JobTemplateSpec", False),
        6: ("successfulJobsHistoryLimit", "int32!", False), 7: ("failedJobsHistoryLimit", "int32!", False),
    },
    "JobTemplateSpec": {1: ("metadata", "ObjectMeta", False), 2: ("spec", "JobSpec", False)},
    # k8s.io/api/scheduling/v1 (`kubectl create priorityclass` sends protobuf)
    "PriorityClass": {1: ("metadata", "ObjectMeta", False), 2: ("value", "int32!", False),
                      3: ("globalDefault", "bool", False), 4: ("description", "string", False),
                      5: ("preemptionPolicy", "string!", False)},
    # k8s.io/api/authentication/v1 (typed clients such as `kubectl auth whoami` send protobuf); the status a
    # client may send is skipped, the server writes its own.
    "SelfSubjectReview": {1: ("metadata", "ObjectMeta", False)},
    "TokenReview": {1: ("metadata", "ObjectMeta", False), 2: ("spec", "TokenReviewSpec", False)},
    "TokenReviewSpec": {1: ("token", "string", False), 2: ("audiences", "string", True)},
}

# The top-level message of each kind we decode (by ``runtime.Unknown.typeMeta.kind``).
KINDS = {"ConfigMap", "Secret", "Namespace", "ServiceAccount", "Service", "Eviction", "DeleteOptions", "Deployment",
         "PodDisruptionBudget", "SelfSubjectReview", "TokenReview", "Job", "CronJob", "PriorityClass"}
