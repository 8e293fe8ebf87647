"""Server-side printing: ``meta.k8s.io/v1`` Tables, which ``kubectl get`` asks for.

Columns follow upstream's ``pkg/printers/internalversion/printers.go`` for the served kinds.
"""

from __future__ import annotations

import time
from typing import Any

from ..objects import parse_time
from .resources import ResourceType

Obj = dict[str, Any]

NAME_COLUMN = {
    "name": "Name",
    "type": "string",
    "format": "name",
    "description": "Name must be unique within a namespace. Is required when creating resources, although some "
    "resources may allow a client to request the generation of an appropriate name automatically. Name is "
    "primarily intended for creation idempotence and configuration definition. Cannot be updated. More info: "
    "https://kubernetes.io/docs/concepts/overview/working-with-objects/names#names",
    "priority": 0,
}
AGE_COLUMN = {
    "name": "Age",
    "type": "string",
    "format": "",
    "description": "CreationTimestamp is a timestamp representing the server time when this object was created. "
    "It is not guaranteed to be set in happens-before order across separate operations. Clients may not set "
    "this value. It is represented in RFC3339 form and is in UTC.\n\nPopulated by the system. Read-only. Null "
    "for lists. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md"
    "#metadata",
    "priority": 0,
}


def human_duration(seconds: float) -> str:
    """``duration.HumanDuration`` from apimachinery."""
    s = int(seconds)
    if s < -1:
        return "<invalid>"
    if s < 0:
        return "0s"
    if s < 120:
        return f"{s}s"
    m = s // 60
    if m < 10:
        rem = s % 60
        return f"{m}m{rem}s" if rem else f"{m}m"
    if m < 180:
        return f"{m}m"
    h = s // 3600
    if h < 8:
        rem = (s % 3600) // 60
        return f"{h}h{rem}m" if rem else f"{h}h"
    if h < 48:
        return f"{h}h"
    if h < 24 * 8:
        rem = h % 24
        return f"{h // 24}d{rem}h" if rem else f"{h // 24}d"
    if h < 24 * 365 * 2:
        return f"{h // 24}d"
    if h < 24 * 365 * 8:
        days = h // 24
        rem = days % 365
        return f"{days // 365}y{rem}d" if rem else f"{days // 365}y"
    return f"{h // 24 // 365}y"


def age(obj: Obj) -> str:
    return _ts_since((obj.get("metadata") or {}).get("creationTimestamp"))


def _col(name: str, description: str, type_: str = "string", priority: int = 0, fmt: str = "") -> dict[str, Any]:
    return {"name": name, "type": type_, "format": fmt, "description": description, "priority": priority}


def _name_col(priority: int = 0) -> dict[str, Any]:
    return {**NAME_COLUMN, "priority": priority}


_CONTAINERS = _col("Containers", "Names of each container in the template.", priority=1)
_IMAGES = _col("Images", "Images referenced by each container in the template.", priority=1)
_NODE_ADDRESSES = (
    "List of addresses reachable to the node. Queried from cloud provider, if available. More info: "
    "https://kubernetes.io/docs/reference/node/node-status/#addresses Note: This field is declared as mergeable, "
    "but the merge key is not sufficiently unique, which can cause data corruption when it is merged. Callers "
    "should instead use a full-replacement patch. See https://pr.k8s.io/79391 for an example. Consumers should "
    "assume that addresses can change during the lifetime of a Node. However, there are some exceptions where "
    "this may not be possible, such as Pods that inherit a Node's address in its own status or consumers of the "
    "downward API (status.hostIP).")

_JOB_SELECTOR = ("A label query over pods that should match the pod count. Normally, the system sets this field for "
                 "you. More info: https://kubernetes.io/docs/concepts/overview/working-with-objects/labels/"
                 "#label-selectors")
# Column definitions per kind, as upstream's printers.go declares them (descriptions from the API's SwaggerDoc).
COLUMNS: dict[str, list[dict[str, Any]]] = {
    "Pod": [
        _name_col(),
        _col("Ready", "The aggregate readiness state of this pod for accepting traffic."),
        _col("Status", "The aggregate status of the containers in this pod."),
        _col("Restarts", "The number of times the containers in this pod have been restarted and when the last "
                         "container in this pod has restarted."),
        AGE_COLUMN,
        _col("IP", "podIP address allocated to the pod. Routable at least within the cluster. Empty if not yet "
                   "allocated.", priority=1),
        _col("Node", "NodeName indicates in which node this pod is scheduled. If empty, this pod is a candidate for "
                     "scheduling by the scheduler defined in schedulerName. Once this field is set, the kubelet for "
                     "this node becomes responsible for the lifecycle of this pod. This field should not be used to "
                     "express a desire for the pod to be scheduled on a specific node. "
                     "https://kubernetes.io/docs/concepts/scheduling-eviction/assign-pod-node/#nodename",
             priority=1),
        _col("Nominated Node", "nominatedNodeName is set only when this pod preempts other pods on the node, but it "
                               "cannot be scheduled right away as preemption victims receive their graceful "
                               "termination periods. This field does not guarantee that the pod will be scheduled on "
                               "this node. Scheduler may decide to place the pod elsewhere if other nodes become "
                               "available sooner. Scheduler may also decide to give the resources on this node to a "
                               "higher priority pod that is created after preemption. As a result, this field may be "
                               "different than PodSpec.nodeName when the pod is scheduled.", priority=1),
        _col("Readiness Gates", "If specified, all readiness gates will be evaluated for pod readiness. A pod is "
                                "ready when all its containers are ready AND all conditions specified in the "
                                "readiness gates have status equal to \"True\" More info: "
                                "https://git.k8s.io/enhancements/keps/sig-network/580-pod-readiness-gates",
             priority=1),
    ],
    "Node": [
        _name_col(),
        _col("Status", "The status of the node"),
        _col("Roles", "The roles of the node"),
        AGE_COLUMN,
        _col("Version", "Kubelet Version reported by the node."),
        _col("Internal-IP", _NODE_ADDRESSES, priority=1),
        _col("External-IP", _NODE_ADDRESSES, priority=1),
        _col("OS-Image", "OS Image reported by the node from /etc/os-release (e.g. Debian GNU/Linux 7 (wheezy)).",
             priority=1),
        _col("Kernel-Version", "Kernel Version reported by the node from 'uname -r' (e.g. 3.16.0-0.bpo.4-amd64).",
             priority=1),
        _col("Container-Runtime", "ContainerRuntime Version reported by the node through runtime remote API (e.g. "
                                  "containerd://1.4.2).", priority=1),
    ],
    "Deployment": [
        _name_col(),
        _col("Ready", "Number of the pod with ready state"),
        _col("Up-to-date", "Total number of non-terminating pods targeted by this deployment that have the desired "
                           "template spec."),
        _col("Available", "Total number of available non-terminating pods (ready for at least minReadySeconds) "
                          "targeted by this deployment."),
        AGE_COLUMN, _CONTAINERS, _IMAGES,
        _col("Selector", "Label selector for pods. Existing ReplicaSets whose pods are selected by this will be the "
                         "ones affected by this deployment. It must match the pod template's labels.", priority=1),
    ],
    "ReplicaSet": [
        _name_col(),
        _col("Desired", "Replicas is the number of desired pods. This is a pointer to distinguish between explicit "
                        "zero and unspecified. Defaults to 1. More info: "
                        "https://kubernetes.io/docs/concepts/workloads/controllers/replicaset", "integer"),
        _col("Current", "Replicas is the most recently observed number of non-terminating pods. More info: "
                        "https://kubernetes.io/docs/concepts/workloads/controllers/replicaset", "integer"),
        _col("Ready", "The number of non-terminating pods targeted by this ReplicaSet with a Ready Condition.",
             "integer"),
        AGE_COLUMN, _CONTAINERS, _IMAGES,
        _col("Selector", "Selector is a label query over pods that should match the replica count. Label keys and "
                         "values that must match in order to be controlled by this replica set. It must match the "
                         "pod template's labels. More info: https://kubernetes.io/docs/concepts/overview/"
                         "working-with-objects/labels/#label-selectors", priority=1),
    ],
    "StatefulSet": [
        _name_col(),
        _col("Ready", "Number of the pod with ready state"),
        AGE_COLUMN, _CONTAINERS, _IMAGES,
    ],
    "DaemonSet": [
        _name_col(),
        _col("Desired", "The total number of nodes that should be running the daemon pod (including nodes "
                        "correctly running the daemon pod). More info: "
                        "https://kubernetes.io/docs/concepts/workloads/controllers/daemonset/", "integer"),
        _col("Current", "The number of nodes that are running at least 1 daemon pod and are supposed to run the "
                        "daemon pod. More info: https://kubernetes.io/docs/concepts/workloads/controllers/daemonset/",
             "integer"),
        _col("Ready", "numberReady is the number of nodes that should be running the daemon pod and have one or "
                      "more of the daemon pod running with a Ready Condition.", "integer"),
        _col("Up-to-date", "The total number of nodes that are running updated daemon pod", "integer"),
        _col("Available", "The number of nodes that should be running the daemon pod and have one or more of the "
                          "daemon pod running and available (ready for at least spec.minReadySeconds)", "integer"),
        _col("Node Selector", "NodeSelector is a selector which must be true for the pod to fit on a node. Selector "
                              "which must match a node's labels for the pod to be scheduled on that node. More info: "
                              "https://kubernetes.io/docs/concepts/configuration/assign-pod-node/"),
        AGE_COLUMN, _CONTAINERS, _IMAGES,
        _col("Selector", "A label query over pods that are managed by the daemon set. Must match in order to be "
                         "controlled. It must match the pod template's labels. More info: https://kubernetes.io/docs/"
                         "concepts/overview/working-with-objects/labels/#label-selectors", priority=1),
    ],
    "Service": [
        _name_col(),
        _col("Type", "type determines how the Service is exposed. Defaults to ClusterIP. Valid options are "
                     "ExternalName, ClusterIP, NodePort, and LoadBalancer. \"ClusterIP\" allocates a "
                     "cluster-internal IP address for load-balancing to endpoints. Endpoints are determined by the "
                     "selector or if that is not specified, by manual construction of an Endpoints object or "
                     "EndpointSlice objects. If clusterIP is \"None\", no virtual IP is allocated and the endpoints "
                     "are published as a set of endpoints rather than a virtual IP. \"NodePort\" builds on "
                     "ClusterIP and allocates a port on every node which routes to the same endpoints as the "
                     "clusterIP. \"LoadBalancer\" builds on NodePort and creates an external load-balancer (if "
                     "supported in the current cloud) which routes to the same endpoints as the clusterIP. "
                     "\"ExternalName\" aliases this service to the specified externalName. Several other fields do "
                     "not apply to ExternalName services. More info: https://kubernetes.io/docs/concepts/"
                     "services-networking/service/#publishing-services-service-types"),
        _col("Cluster-IP", "clusterIP is the IP address of the service and is usually assigned randomly. If an "
                           "address is specified manually, is in-range (as per system configuration), and is not in "
                           "use, it will be allocated to the service; otherwise creation of the service will fail. "
                           "This field may not be changed through updates unless the type field is also being "
                           "changed to ExternalName (which requires this field to be blank) or the type field is "
                           "being changed from ExternalName (in which case this field may optionally be specified, "
                           "as describe above).  Valid values are \"None\", empty string (\"\"), or a valid IP "
                           "address. Setting this to \"None\" makes a \"headless service\" (no virtual IP), which is "
                           "useful when direct endpoint connections are preferred and proxying is not required.  "
                           "Only applies to types ClusterIP, NodePort, and LoadBalancer. If this field is specified "
                           "when creating a Service of type ExternalName, creation will fail. This field will be "
                           "wiped when updating a Service to type ExternalName. More info: https://kubernetes.io/"
                           "docs/concepts/services-networking/service/#virtual-ips-and-service-proxies"),
        _col("External-IP", "externalIPs is a list of IP addresses for which nodes in the cluster will also accept "
                            "traffic for this service.  These IPs are not managed by Kubernetes.  The user is "
                            "responsible for ensuring that traffic arrives at a node with this IP.  A common example "
                            "is external load-balancers that are not part of the Kubernetes system."),
        _col("Port(s)", "The list of ports that are exposed by this service. More info: https://kubernetes.io/docs/"
                        "concepts/services-networking/service/#virtual-ips-and-service-proxies"),
        AGE_COLUMN,
        _col("Selector", "Route service traffic to pods with label keys and values matching this selector. If empty "
                         "or not present, the service is assumed to have an external process managing its endpoints, "
                         "which Kubernetes will not modify. Only applies to types ClusterIP, NodePort, and "
                         "LoadBalancer. Ignored if type is ExternalName. More info: https://kubernetes.io/docs/"
                         "concepts/services-networking/service/", priority=1),
    ],
    "Endpoints": [
        _name_col(),
        _col("Endpoints", "Endpoints is the list of endpoints"),
        AGE_COLUMN,
    ],
    "EndpointSlice": [
        _name_col(),
        _col("AddressType", "addressType specifies the type of address carried by this EndpointSlice. All addresses "
                            "in this slice must be the same type. This field is immutable after creation. The "
                            "following address types are currently supported: * IPv4: Represents an IPv4 Address. * "
                            "IPv6: Represents an IPv6 Address. * FQDN: Represents a Fully Qualified Domain Name. "
                            "(Deprecated) The EndpointSlice controller only generates, and kube-proxy only processes, "
                            "slices of addressType \"IPv4\" and \"IPv6\". No semantics are defined for the \"FQDN\" "
                            "type."),
        _col("Ports", "ports specifies the list of network ports exposed by each endpoint in this slice. Each port "
                      "must have a unique name. Each slice may include a maximum of 100 ports. Services always have "
                      "at least 1 port, so EndpointSlices generated by the EndpointSlice controller will likewise "
                      "always have at least 1 port. EndpointSlices used for other purposes may have an empty ports "
                      "list."),
        _col("Endpoints", "endpoints is a list of unique endpoints in this slice. Each slice may include a maximum "
                          "of 1000 endpoints."),
        AGE_COLUMN,
    ],
    "Event": [
        _col("Last Seen", "The time at which the most recent occurrence of this event was recorded."),
        _col("Type", "Type of this event (Normal, Warning), new types could be added in the future"),
        _col("Reason", "This should be a short, machine understandable string that gives the reason for the "
                       "transition into the object's current status."),
        _col("Object", "The object that this event is about."),
        _col("Subobject", "If referring to a piece of an object instead of an entire object, this string should "
                          "contain a valid JSON/Go field access statement, such as desiredState.manifest."
                          "containers[2]. For example, if the object reference is to a container within a pod, this "
                          "would take on a value like: \"spec.containers{name}\" (where \"name\" refers to the name "
                          "of the container that triggered the event) or if no container name is specified "
                          "\"spec.containers[2]\" (container with index 2 in this pod). This syntax is chosen only "
                          "to have some well-defined way of referencing a part of an object.", priority=1),
        _col("Source", "The component reporting this event. Should be a short machine understandable string.",
             priority=1),
        _col("Message", "A human-readable description of the status of this operation."),
        _col("First Seen", "The time at which the event was first recorded. (Time of server receipt is in "
                           "TypeMeta.)", priority=1),
        _col("Count", "The number of times this event has occurred.", priority=1),
        _name_col(priority=1),
    ],
    "ConfigMap": [
        _name_col(),
        _col("Data", "Data contains the configuration data. Each key must consist of alphanumeric characters, '-', "
                     "'_' or '.'. Values with non-UTF-8 byte sequences must use the BinaryData field. The keys stored "
                     "in Data must not overlap with the keys in the BinaryData field, this is enforced during "
                     "validation process."),
        AGE_COLUMN,
    ],
    "Secret": [
        _name_col(),
        _col("Type", "Used to facilitate programmatic handling of secret data. More info: https://kubernetes.io/"
                     "docs/concepts/configuration/secret/#secret-types"),
        _col("Data", "Data contains the secret data. Each key must consist of alphanumeric characters, '-', '_' or "
                     "'.'. The serialized form of the secret data is a base64 encoded string, representing the "
                     "arbitrary (possibly non-string) data value here. Described in "
                     "https://tools.ietf.org/html/rfc4648#section-4"),
        AGE_COLUMN,
    ],
    "Namespace": [_name_col(), _col("Status", "The status of the namespace"), AGE_COLUMN],
    "PodDisruptionBudget": [
        _name_col(),
        _col("Min Available", "The minimum number of pods that must be available."),
        _col("Max Unavailable", "The maximum number of pods that may be unavailable."),
        _col("Allowed Disruptions", "Calculated number of pods that may be disrupted at this time.", "integer"),
        AGE_COLUMN,
    ],
    "PersistentVolumeClaim": [
        _name_col(),
        _col("Status", "phase represents the current phase of PersistentVolumeClaim."),
        _col("Volume", "volumeName is the binding reference to the PersistentVolume backing this claim."),
        _col("Capacity", "capacity represents the actual resources of the underlying volume."),
        _col("Access Modes", "accessModes contains the actual access modes the volume backing the PVC has. More "
                             "info: https://kubernetes.io/docs/concepts/storage/persistent-volumes#access-modes-1"),
        _col("StorageClass", "StorageClass of the pvc"),
        _col("VolumeAttributesClass", "VolumeAttributesClass of the pvc"),
        AGE_COLUMN,
        _col("VolumeMode", "volumeMode defines what type of volume is required by the claim. Value of Filesystem is "
                           "implied when not included in claim spec.", priority=1),
    ],
    "PersistentVolume": [
        _name_col(),
        _col("Capacity", "capacity is the description of the persistent volume's resources and capacity. More "
                         "info: https://kubernetes.io/docs/concepts/storage/persistent-volumes#capacity"),
        _col("Access Modes", "accessModes contains all ways the volume can be mounted. More info: "
                             "https://kubernetes.io/docs/concepts/storage/persistent-volumes#access-modes"),
        _col("Reclaim Policy", "persistentVolumeReclaimPolicy defines what happens to a persistent volume when "
                               "released from its claim. Valid options are Retain (default for manually created "
                               "PersistentVolumes), Delete (default for dynamically provisioned PersistentVolumes), "
                               "and Recycle (deprecated). Recycle must be supported by the volume plugin underlying "
                               "this PersistentVolume. More info: https://kubernetes.io/docs/concepts/storage/"
                               "persistent-volumes#reclaiming"),
        _col("Status", "phase indicates if a volume is available, bound to a claim, or released by a claim. More "
                       "info: https://kubernetes.io/docs/concepts/storage/persistent-volumes#phase"),
        _col("Claim", "claimRef is part of a bi-directional binding between PersistentVolume and "
                      "PersistentVolumeClaim. Expected to be non-nil when bound. claim.VolumeName is the "
                      "authoritative bind between PV and PVC. More info: https://kubernetes.io/docs/concepts/storage/"
                      "persistent-volumes#binding"),
        _col("StorageClass", "StorageClass of the pv"),
        _col("VolumeAttributesClass", "VolumeAttributesClass of the pv"),
        _col("Reason", "reason is a brief CamelCase string that describes any failure and is meant for machine "
                       "parsing and tidy display in the CLI."),
        AGE_COLUMN,
        _col("VolumeMode", "volumeMode defines if a volume is intended to be used with a formatted filesystem or to "
                           "remain in raw block state. Value of Filesystem is implied when not included in spec.",
             priority=1),
    ],
    "StorageClass": [
        _name_col(),
        _col("Provisioner", "provisioner indicates the type of the provisioner."),
        _col("ReclaimPolicy", "reclaimPolicy controls the reclaimPolicy for dynamically provisioned "
                              "PersistentVolumes of this storage class. Defaults to Delete."),
        _col("VolumeBindingMode", "volumeBindingMode indicates how PersistentVolumeClaims should be provisioned and "
                                  "bound.  When unset, VolumeBindingImmediate is used. This field is only honored "
                                  "by servers that enable the VolumeScheduling feature."),
        _col("AllowVolumeExpansion", "allowVolumeExpansion shows whether the storage class allow volume expand.",
             "boolean"),
        AGE_COLUMN,
    ],
    "Ingress": [
        _name_col(),
        _col("Class", "The name of the IngressClass resource that should be used for additional configuration"),
        _col("Hosts", "Hosts that incoming requests are matched against before the ingress rule"),
        _col("Address", "Address is a list containing ingress points for the load-balancer"),
        _col("Ports", "Ports of TLS configurations that open"),
        AGE_COLUMN,
    ],
    "IngressClass": [
        _name_col(),
        _col("Controller", "Controller that is responsible for handling this class"),
        _col("Parameters", "A reference to a resource with additional parameters"),
        AGE_COLUMN,
    ],
    "NetworkPolicy": [
        _name_col(),
        # extensionsv1beta1.NetworkPolicySpec{}.SwaggerDoc()["podSelector"], as printers.go still cites it
        _col("Pod-Selector", "Selects the pods to which this NetworkPolicy object applies. The array of ingress "
                             "rules is applied to any pods selected by this field. Multiple network policies can "
                             "select the same set of pods. In this case, the ingress rules for each are combined "
                             "additively. This field is NOT optional and follows standard label selector semantics. "
                             "An empty podSelector matches all pods in this namespace."),
        AGE_COLUMN,
    ],
    "CSIStorageCapacity": [
        _name_col(),
        _col("StorageClassName", "storageClassName represents the name of the StorageClass that the reported "
                                 "capacity applies to. It must meet the same requirements as the name of a "
                                 "StorageClass object (non-empty, DNS subdomain). If that object no longer exists, "
                                 "the CSIStorageCapacity object is obsolete and should be removed by its creator. "
                                 "This field is immutable."),
        _col("Capacity", "capacity is the value reported by the CSI driver in its GetCapacityResponse for a "
                         "GetCapacityRequest with topology and parameters that match the previous fields.\n\nThe "
                         "semantic is currently (CSI spec 1.2) defined as: The available capacity, in bytes, of the "
                         "storage that can be used to provision volumes. If not set, that information is currently "
                         "unavailable."),
    ],
    "VolumeAttributesClass": [
        _name_col(),
        _col("DriverName", "Name of the CSI driver This field is immutable."),
        AGE_COLUMN,
    ],
    # pkg/printers/internalversion/printers.go mutatingWebhookColumnDefinitions (served with lbc/webhooks.py)
    "MutatingWebhookConfiguration": [
        _name_col(),
        _col("Webhooks", "Webhooks indicates the number of webhooks included in the configuration.", "integer"),
        AGE_COLUMN,
    ],
    "Lease": [
        _name_col(),
        _col("Holder", "holderIdentity contains the identity of the holder of a current lease. If Coordinated Leader "
                       "Election is used, the holder identity must be equal to the elected LeaseCandidate.metadata."
                       "name field."),
        AGE_COLUMN,
    ],
    "ControllerRevision": [
        _name_col(),
        _col("Controller", "Controller of the object"),
        _col("Revision", "Revision indicates the revision of the state represented by Data.", "integer"),
        AGE_COLUMN,
    ],
    "VolumeAttachment": [
        _name_col(),
        _col("Attacher", "attacher indicates the name of the volume driver that MUST handle this request. This is "
                         "the name returned by GetPluginName()."),
        _col("PV", "persistentVolumeName represents the name of the persistent volume to attach."),
        _col("Node", "nodeName represents the node that the volume should be attached to."),
        _col("Attached", "attached indicates the volume is successfully attached. This field must only be set by the "
                         "entity completing the attach operation, i.e. the external-attacher.", "boolean"),
        AGE_COLUMN,
    ],
    "Job": [
        _name_col(),
        _col("Status", "Status of the job."),
        _col("Completions", "The number of pods which reached phase Succeeded. The value increases monotonically for "
                            "a given spec. However, it may decrease in reaction to scale down of elastic indexed "
                            "jobs."),
        _col("Duration", "Time required to complete the job."),
        AGE_COLUMN, _CONTAINERS, _IMAGES,
        _col("Selector", _JOB_SELECTOR, priority=1),
    ],
    "CronJob": [
        _name_col(),
        _col("Schedule", "The schedule in Cron format, see https://en.wikipedia.org/wiki/Cron."),
        _col("Timezone", "The time zone name for the given schedule, see https://en.wikipedia.org/wiki/List_of_tz_"
                         "database_time_zones. If not specified, this will default to the time zone of the "
                         "kube-controller-manager process. The set of valid time zone names and the time zone offset "
                         "is loaded from the system-wide time zone database by the API server during CronJob "
                         "validation and the controller manager during execution. If no system-wide time zone "
                         "database can be found a bundled version of the database is used instead. If the time zone "
                         "name becomes invalid during the lifetime of a CronJob or due to a change in host "
                         "configuration, the controller will stop creating new new Jobs and will create a system "
                         "event with the reason UnknownTimeZone. More information can be found in "
                         "https://kubernetes.io/docs/concepts/workloads/controllers/cron-jobs/#time-zones"),
        _col("Suspend", "This flag tells the controller to suspend subsequent executions, it does not apply to "
                        "already started executions. Defaults to false.", "boolean"),
        _col("Active", "A list of pointers to currently running jobs.", "integer"),
        _col("Last Schedule", "Information when was the last time the job was successfully scheduled."),
        AGE_COLUMN, _CONTAINERS, _IMAGES,
        _col("Selector", _JOB_SELECTOR, priority=1),
    ],
    "CSINode": [
        _name_col(),
        _col("Drivers", "drivers is a list of information of all CSI Drivers existing on a node. If all drivers in "
                        "the list are uninstalled, this can become empty.", "integer"),
        AGE_COLUMN,
    ],
}


def _ts_since(ts: str | None) -> str:
    created = parse_time(ts)
    if created is None:
        return "<unknown>"
    return human_duration(time.time() - created)


def _none(value: str | None) -> str:
    return value if value else "<none>"


def _labels(m: dict[str, str] | None) -> str:
    """``labels.FormatLabels``: sorted ``k=v`` pairs, ``<none>`` when empty."""
    if not m:
        return "<none>"
    return ",".join(f"{k}={v}" for k, v in sorted(m.items()))


def _selector(sel: dict[str, Any] | None) -> str:
    """``metav1.LabelSelectorAsSelector(sel).String()``: requirements sorted by key."""
    if sel is None:
        return "<none>"
    reqs: list[tuple[str, str]] = []
    for k, v in (sel.get("matchLabels") or {}).items():
        reqs.append((k, f"{k}={v}"))
    for e in sel.get("matchExpressions") or []:
        key, op, values = e.get("key", ""), e.get("operator", ""), sorted(e.get("values") or [])
        if op == "In":
            reqs.append((key, f"{key} in ({','.join(values)})"))
        elif op == "NotIn":
            reqs.append((key, f"{key} notin ({','.join(values)})"))
        elif op == "Exists":
            reqs.append((key, key))
        elif op == "DoesNotExist":
            reqs.append((key, f"!{key}"))
    if not reqs:
        return ""
    return ",".join(r for _, r in sorted(reqs, key=lambda kv: kv[0]))


def _template_containers(obj: Obj) -> tuple[str, str]:
    cs = (((obj.get("spec") or {}).get("template") or {}).get("spec") or {}).get("containers") or []
    return ",".join(c.get("name", "") for c in cs), ",".join(c.get("image", "") for c in cs)


def _pod_cells(pod: Obj) -> tuple[list[Any], list[dict[str, Any]] | None]:
    spec, status, meta = pod.get("spec") or {}, pod.get("status") or {}, pod["metadata"]
    containers = spec.get("containers") or []
    restarts = 0
    ready = 0
    reason = status.get("reason") or status.get("phase") or ""
    for c in status.get("initContainerStatuses") or []:
        restarts += int(c.get("restartCount", 0))
    initializing = False
    init_specs = spec.get("initContainers") or []
    for i, c in enumerate(status.get("initContainerStatuses") or []):
        state = c.get("state") or {}
        term, wait = state.get("terminated"), state.get("waiting")
        if term and term.get("exitCode") == 0:
            continue
        sidecar = i < len(init_specs) and init_specs[i].get("restartPolicy") == "Always"
        if sidecar and c.get("started"):
            continue
        if term:
            if term.get("reason"):
                reason = "Init:" + term["reason"]
            elif term.get("signal"):
                reason = f"Init:Signal:{term['signal']}"
            else:
                reason = f"Init:ExitCode:{term.get('exitCode', 0)}"
        elif wait and wait.get("reason") and wait["reason"] != "PodInitializing":
            reason = "Init:" + wait["reason"]
        else:
            reason = f"Init:{i}/{len(init_specs)}"
        initializing = True
        break
    if not initializing:
        has_running = False
        for c in reversed(status.get("containerStatuses") or []):
            restarts += int(c.get("restartCount", 0))
            state = c.get("state") or {}
            wait, term = state.get("waiting"), state.get("terminated")
            if wait and wait.get("reason"):
                reason = wait["reason"]
            elif term and term.get("reason"):
                reason = term["reason"]
            elif term:
                reason = f"Signal:{term['signal']}" if term.get("signal") else f"ExitCode:{term.get('exitCode', 0)}"
            elif state.get("running") and c.get("ready"):
                has_running = True
                ready += 1
        if reason == "Completed" and has_running:
            conds = status.get("conditions") or []
            pod_ready = any(c.get("type") == "Ready" and c.get("status") == "True" for c in conds)
            reason = "Running" if pod_ready else "NotReady"
    if meta.get("deletionTimestamp"):
        reason = "Unknown" if status.get("reason") == "NodeLost" else "Terminating"
    if status.get("phase") == "Pending":
        for c in status.get("conditions") or []:
            if c.get("type") == "PodScheduled" and c.get("reason") == "SchedulingGated":
                reason = "SchedulingGated"
    gates = spec.get("readinessGates") or []
    gates_cell = "<none>"
    if gates:
        conds = {c.get("type"): c.get("status") for c in status.get("conditions") or []}
        true_gates = sum(1 for g in gates if conds.get(g.get("conditionType")) == "True")
        gates_cell = f"{true_gates}/{len(gates)}"
    last_restart = ""
    for c in [*(status.get("initContainerStatuses") or []), *(status.get("containerStatuses") or [])]:
        finished = ((c.get("lastState") or {}).get("terminated") or {}).get("finishedAt") or ""
        last_restart = max(last_restart, finished)
    restarts_cell = f"{restarts} ({_ts_since(last_restart)} ago)" if restarts and last_restart else str(restarts)
    cells = [meta["name"], f"{ready}/{len(containers)}", reason, restarts_cell, age(pod),
             _none(status.get("podIP")), _none(spec.get("nodeName")), _none(status.get("nominatedNodeName")),
             gates_cell]
    conditions = None
    if status.get("phase") == "Succeeded":
        conditions = [{"type": "Completed", "status": "True", "reason": "Succeeded",
                       "message": "The pod has completed successfully."}]
    elif status.get("phase") == "Failed":
        conditions = [{"type": "Completed", "status": "True", "reason": "Failed", "message": "The pod failed."}]
    return cells, conditions


def _node_cells(node: Obj) -> list[Any]:
    spec, status, meta = node.get("spec") or {}, node.get("status") or {}, node["metadata"]
    states = []
    for c in status.get("conditions") or []:
        if c.get("type") == "Ready":
            states.append("Ready" if c.get("status") == "True" else "NotReady")
    if not states:
        states.append("Unknown")
    if spec.get("unschedulable"):
        states.append("SchedulingDisabled")
    roles = set()
    for k, v in (meta.get("labels") or {}).items():
        if k.startswith("node-role.kubernetes.io/"):
            role = k[len("node-role.kubernetes.io/"):]
            if role:
                roles.add(role)
        elif k == "kubernetes.io/role" and v:
            roles.add(v)
    info = status.get("nodeInfo") or {}
    addresses = status.get("addresses") or []

    def address(kind: str) -> str:
        for a in addresses:
            if a.get("type") == kind:
                return a.get("address") or "<none>"
        return "<none>"

    kernel = info.get("kernelVersion") or "<unknown>"
    if info.get("architecture"):
        kernel = f"{kernel} ({info['architecture']})"
    return [meta["name"], ",".join(states), ",".join(sorted(roles)) or "<none>", age(node),
            info.get("kubeletVersion", ""), address("InternalIP"), address("ExternalIP"),
            info.get("osImage") or "<unknown>", kernel, info.get("containerRuntimeVersion") or "<unknown>"]


def _lb_ingress(svc: Obj) -> str:
    ingress = ((svc.get("status") or {}).get("loadBalancer") or {}).get("ingress") or []
    return ",".join(i.get("ip") or i.get("hostname") or "" for i in ingress if i.get("ip") or i.get("hostname"))


def _service_external_ip(svc: Obj) -> str:
    spec = svc.get("spec") or {}
    t = spec.get("type", "ClusterIP")
    external = spec.get("externalIPs") or []
    if t in ("ClusterIP", "NodePort"):
        return ",".join(external) if external else "<none>"
    if t == "LoadBalancer":
        lb = _lb_ingress(svc)
        if external:
            return ",".join([*(lb.split(",") if lb else []), *external])
        return lb or "<pending>"
    if t == "ExternalName":
        return spec.get("externalName", "")
    return "<unknown>"


def _service_cells(svc: Obj) -> list[Any]:
    spec = svc.get("spec") or {}
    ports = []
    for p in spec.get("ports") or []:
        proto = p.get("protocol", "TCP")
        ports.append(f"{p['port']}:{p['nodePort']}/{proto}" if p.get("nodePort") else f"{p.get('port')}/{proto}")
    return [svc["metadata"]["name"], spec.get("type", "ClusterIP"), _none(spec.get("clusterIP")),
            _service_external_ip(svc), ",".join(ports) or "<none>", age(svc), _labels(spec.get("selector"))]


def _endpoints_cell(ep: Obj) -> str:
    subsets = ep.get("subsets") or []
    if not subsets:
        return "<none>"
    out: list[str] = []
    count, more, limit = 0, False, 3
    for ss in subsets:
        addrs = ss.get("addresses") or []
        ports = ss.get("ports") or []
        if not ports:
            count += len(addrs)
            for a in addrs:
                if len(out) == limit:
                    more = True
                    break
                out.append(a.get("ip", ""))
            continue
        for p in ports:
            count += len(addrs)
            for a in addrs:
                if len(out) == limit:
                    more = True
                    break
                ip = a.get("ip", "")
                host = f"[{ip}]" if ":" in ip else ip
                out.append(f"{host}:{p.get('port')}")
    text = ",".join(out)
    return f"{text} + {count - limit} more..." if more else text


def _slice_cells(es: Obj) -> list[Any]:
    ports = [str(p["port"]) for p in es.get("ports") or [] if p.get("port") is not None]
    addrs: list[str] = []
    total = 0
    for e in es.get("endpoints") or []:
        for a in e.get("addresses") or []:
            total += 1
            if len(addrs) < 3:
                addrs.append(a)
    ep_cell = ",".join(addrs) if addrs else "<unset>"
    if total > 3:
        ep_cell += f" + {total - 3} more..."
    return [es["metadata"]["name"], es.get("addressType", ""), ",".join(ports) if ports else "<unset>", ep_cell,
            age(es)]


def _event_cells(ev: Obj) -> list[Any]:
    if "regarding" in ev and "involvedObject" not in ev:  # events.k8s.io/v1 shape
        ev = {**ev, "involvedObject": ev.get("regarding") or {}, "message": ev.get("note", ""),
              "source": ev.get("deprecatedSource") or {}, "firstTimestamp": ev.get("deprecatedFirstTimestamp"),
              "lastTimestamp": ev.get("deprecatedLastTimestamp"), "count": ev.get("deprecatedCount", 0)}
    involved = ev.get("involvedObject") or {}
    series = ev.get("series")
    if series:
        last = series.get("lastObservedTime")
    elif ev.get("lastTimestamp"):
        last = ev["lastTimestamp"]
    else:
        last = ev.get("eventTime")
    first = ev.get("firstTimestamp") or ev.get("eventTime")
    count = series.get("count", 0) if series else ev.get("count", 0)
    source = ev.get("source") or {}
    component = source.get("component") or ev.get("reportingComponent") or ev.get("reportingController") or ""
    instance = source.get("host") or ev.get("reportingInstance") or ""
    src = ", ".join(x for x in (component, instance) if x) if component else "<unknown>"
    obj_ref = f"{(involved.get('kind') or '').lower()}/{involved.get('name', '')}"
    return [_ts_since(last), ev.get("type", ""), ev.get("reason", ""), obj_ref, involved.get("fieldPath", ""), src,
            (ev.get("message") or "").strip(), _ts_since(first), int(count or 0), ev["metadata"]["name"]]


_ACCESS_MODES = (("ReadWriteOnce", "RWO"), ("ReadOnlyMany", "ROX"), ("ReadWriteMany", "RWX"),
                 ("ReadWriteOncePod", "RWOP"))


def _access_modes(modes: list[str] | None) -> str:
    modes = modes or []
    return ",".join(short for long, short in _ACCESS_MODES if long in modes)


def _storage_class(obj: Obj) -> str:
    ann = obj["metadata"].get("annotations") or {}
    if "volume.beta.kubernetes.io/storage-class" in ann:
        return ann["volume.beta.kubernetes.io/storage-class"]
    return (obj.get("spec") or {}).get("storageClassName") or ""


def _pvc_cells(pvc: Obj) -> list[Any]:
    spec, status = pvc.get("spec") or {}, pvc.get("status") or {}
    phase = "Terminating" if pvc["metadata"].get("deletionTimestamp") else status.get("phase", "")
    capacity = modes = ""
    if spec.get("volumeName"):
        modes = _access_modes(status.get("accessModes"))
        capacity = str((status.get("capacity") or {}).get("storage", "0"))
    return [pvc["metadata"]["name"], phase, spec.get("volumeName", ""), capacity, modes, _storage_class(pvc),
            spec.get("volumeAttributesClassName") or "<unset>", age(pvc), spec.get("volumeMode") or "<unset>"]


def _pv_cells(pv: Obj) -> list[Any]:
    spec, status = pv.get("spec") or {}, pv.get("status") or {}
    claim = spec.get("claimRef")
    claim_cell = f"{claim.get('namespace', '')}/{claim.get('name', '')}" if claim else ""
    phase = "Terminating" if pv["metadata"].get("deletionTimestamp") else status.get("phase", "")
    return [pv["metadata"]["name"], str((spec.get("capacity") or {}).get("storage", "0")),
            _access_modes(spec.get("accessModes")), spec.get("persistentVolumeReclaimPolicy", ""), phase,
            claim_cell, _storage_class(pv), spec.get("volumeAttributesClassName") or "<unset>",
            status.get("reason", ""), age(pv), spec.get("volumeMode") or "<unset>"]


def _ingress_hosts(rules: list[Obj]) -> str:
    """printers.go formatHosts: the first three hosts, ``*`` when no rule names one."""
    hosts: list[str] = []
    more = False
    for rule in rules:
        if len(hosts) == 3:
            more = True
        if not more and rule.get("host"):
            hosts.append(rule["host"])
    if not hosts:
        return "*"
    text = ",".join(hosts)
    return f"{text} + {len(rules) - 3} more..." if more else text


def _ingress_cells(ing: Obj) -> list[Any]:
    spec, status = ing.get("spec") or {}, ing.get("status") or {}
    lb = (status.get("loadBalancer") or {}).get("ingress") or []
    # ingressLoadBalancerStatusStringer (wide, as server-side printing is): a sorted set of IPs or hostnames.
    addresses = sorted({i.get("ip") or i.get("hostname") for i in lb if i.get("ip") or i.get("hostname")})
    return [ing["metadata"]["name"], spec.get("ingressClassName") or "<none>",
            _ingress_hosts(spec.get("rules") or []), ",".join(addresses),
            "80, 443" if spec.get("tls") else "80", age(ing)]


def _ingress_class_cells(ic: Obj) -> list[Any]:
    spec = ic.get("spec") or {}
    params = spec.get("parameters")
    shown = "<none>"
    if params is not None:
        shown = params.get("kind", "")
        if params.get("apiGroup") is not None:
            shown += "." + params["apiGroup"]
        shown += "/" + params.get("name", "")
    return [ic["metadata"]["name"], spec.get("controller", ""), shown, age(ic)]


_JOB_STATUS_ORDER = ("Complete", "Failed", "Terminating", "Suspended", "FailureTarget", "SuccessCriteriaMet")


def _job_cells(job: Obj) -> list[Any]:
    """``printJob``: the Status column (first of Complete, Failed, Terminating, Suspended, FailureTarget,
    SuccessCriteriaMet, else Running), completions ``succeeded/completions`` and the duration."""
    meta, spec, status = job["metadata"], job.get("spec") or {}, job.get("status") or {}
    succeeded = int(status.get("succeeded") or 0)
    if spec.get("completions") is not None:
        completions = f"{succeeded}/{spec['completions']}"
    else:
        parallelism = int(spec.get("parallelism") or 0)
        completions = f"{succeeded}/1 of {parallelism}" if parallelism > 1 else f"{succeeded}/1"
    start, done = parse_time(status.get("startTime")), parse_time(status.get("completionTime"))
    duration = "" if start is None else human_duration((done if done is not None else time.time()) - start)
    true = {c.get("type") for c in status.get("conditions") or [] if c.get("status") == "True"}
    if meta.get("deletionTimestamp"):
        true.add("Terminating")
    state = next((s for s in _JOB_STATUS_ORDER if s in true), "Running")
    names, images = _template_containers(job)
    return [meta["name"], state, completions, duration, age(job), names, images, _selector(spec.get("selector"))]


def _int_or_na(value: Any) -> str:
    return "N/A" if value is None else str(value)


def _controller_of(obj: Obj) -> str:
    for ref in obj["metadata"].get("ownerReferences") or []:
        if ref.get("controller"):
            api_version = ref.get("apiVersion", "")
            group = api_version.split("/")[0] if "/" in api_version else ""
            kind = f"{ref.get('kind', '')}.{group}" if group else ref.get("kind", "")
            return f"{kind.lower()}/{ref.get('name', '')}"
    return "<none>"


def _cells(kind: str, obj: Obj) -> list[Any]:
    meta, spec, status = obj["metadata"], obj.get("spec") or {}, obj.get("status") or {}
    name = meta["name"]
    if kind == "Node":
        return _node_cells(obj)
    if kind == "Deployment":
        names, images = _template_containers(obj)
        return [name, f"{status.get('readyReplicas', 0)}/{spec.get('replicas', 0)}",
                int(status.get("updatedReplicas", 0)), int(status.get("availableReplicas", 0)), age(obj), names,
                images, _selector(spec.get("selector"))]
    if kind == "ReplicaSet":
        names, images = _template_containers(obj)
        return [name, int(spec.get("replicas", 0)), int(status.get("replicas", 0)),
                int(status.get("readyReplicas", 0)), age(obj), names, images, _selector(spec.get("selector"))]
    if kind == "StatefulSet":
        names, images = _template_containers(obj)
        return [name, f"{status.get('readyReplicas', 0)}/{spec.get('replicas', 0)}", age(obj), names, images]
    if kind == "DaemonSet":
        names, images = _template_containers(obj)
        node_selector = ((spec.get("template") or {}).get("spec") or {}).get("nodeSelector")
        return [name, int(status.get("desiredNumberScheduled", 0)), int(status.get("currentNumberScheduled", 0)),
                int(status.get("numberReady", 0)), int(status.get("updatedNumberScheduled", 0)),
                int(status.get("numberAvailable", 0)), _labels(node_selector), age(obj), names, images,
                _selector(spec.get("selector"))]
    if kind == "Service":
        return _service_cells(obj)
    if kind == "Endpoints":
        return [name, _endpoints_cell(obj), age(obj)]
    if kind == "EndpointSlice":
        return _slice_cells(obj)
    if kind == "Event":
        return _event_cells(obj)
    if kind == "ConfigMap":
        return [name, len(obj.get("data") or {}) + len(obj.get("binaryData") or {}), age(obj)]
    if kind == "Secret":
        return [name, obj.get("type", ""), len(obj.get("data") or {}), age(obj)]
    if kind == "Namespace":
        return [name, status.get("phase", ""), age(obj)]
    if kind == "PodDisruptionBudget":
        return [name, _int_or_na(spec.get("minAvailable")), _int_or_na(spec.get("maxUnavailable")),
                int(status.get("disruptionsAllowed", 0)), age(obj)]
    if kind == "PersistentVolumeClaim":
        return _pvc_cells(obj)
    if kind == "PersistentVolume":
        return _pv_cells(obj)
    if kind == "StorageClass":
        default = (meta.get("annotations") or {}).get("storageclass.kubernetes.io/is-default-class") == "true"
        return [f"{name} (default)" if default else name, obj.get("provisioner", ""),
                obj.get("reclaimPolicy") or "Delete", obj.get("volumeBindingMode") or "Immediate",
                bool(obj.get("allowVolumeExpansion", False)), age(obj)]
    if kind == "Lease":
        return [name, spec.get("holderIdentity") or "", age(obj)]
    if kind == "ControllerRevision":
        return [name, _controller_of(obj), int(obj.get("revision", 0)), age(obj)]
    if kind == "VolumeAttachment":
        return [name, spec.get("attacher", ""), (spec.get("source") or {}).get("persistentVolumeName") or "",
                spec.get("nodeName", ""), bool(status.get("attached", False)), age(obj)]
    if kind == "CSINode":
        return [name, len(spec.get("drivers") or []), age(obj)]
    if kind == "Job":
        return _job_cells(obj)
    if kind == "CronJob":
        jt = spec.get("jobTemplate") or {}
        names, images = _template_containers(jt)
        suspend = spec.get("suspend")
        last = status.get("lastScheduleTime")
        return [name, spec.get("schedule", ""), spec.get("timeZone") or "<none>",
                "<unset>" if suspend is None else ("True" if suspend else "False"), len(status.get("active") or []),
                _ts_since(last) if last else "<none>", age(obj), names, images,
                _selector((jt.get("spec") or {}).get("selector"))]
    if kind == "Ingress":
        return _ingress_cells(obj)
    if kind == "IngressClass":
        return _ingress_class_cells(obj)
    if kind == "NetworkPolicy":  # metav1.FormatLabelSelector
        return [name, _selector(spec.get("podSelector")) or "<none>", age(obj)]
    if kind == "CSIStorageCapacity":
        capacity = obj.get("capacity")
        return [name, obj.get("storageClassName", ""), "<unset>" if capacity is None else str(capacity)]
    if kind == "VolumeAttributesClass":
        return [name, obj.get("driverName", ""), age(obj)]
    if kind == "MutatingWebhookConfiguration":
        return [name, len(obj.get("webhooks") or []), age(obj)]
    return [name, age(obj)]


_PRIORITY_CLASS_COLUMNS = [
    _name_col(),
    _col("Value", "value represents the integer value of this priority class. This is the actual priority that pods "
                  "receive when they have the name of this class in their pod spec.", "integer"),
    _col("Global-Default", "globalDefault specifies whether this PriorityClass should be considered as the default "
                           "priority for pods that do not have any priority class. Only one PriorityClass can be "
                           "marked as `globalDefault`. However, if more than one PriorityClasses exists with their "
                           "`globalDefault` field set to true, the smallest value of such global default "
                           "PriorityClasses will be used as the default priority.", "boolean"),
    AGE_COLUMN,
    _col("PreemptionPolicy", "preemptionPolicy is the Policy for preempting pods with lower priority. One of Never, "
                             "PreemptLowerPriority. Defaults to PreemptLowerPriority if unset."),
]


def columns_for(rtype: ResourceType) -> list[dict[str, Any]]:
    """The Table's column definitions for ``rtype`` (Name and Age for kinds without a printer)."""
    if getattr(rtype, "custom", False) or rtype.kind == "CustomResourceDefinition":
        from .crd import printing

        return printing.columns(rtype) if getattr(rtype, "custom", False) else [NAME_COLUMN, printing.CREATED_AT]
    if rtype.kind == "PriorityClass":
        return _PRIORITY_CLASS_COLUMNS
    return COLUMNS.get(rtype.kind, [NAME_COLUMN, AGE_COLUMN])


def cells_for(rtype: ResourceType, obj: Obj) -> list[Any]:
    """One row's cells, wide columns included (the server always prints them; kubectl hides priority 1)."""
    if rtype.kind == "Pod":
        return _pod_cells(obj)[0]
    if getattr(rtype, "custom", False):
        from .crd import printing

        return printing.cells(rtype, obj)  # type: ignore[arg-type]
    if rtype.kind == "CustomResourceDefinition":
        return [obj["metadata"]["name"], obj["metadata"].get("creationTimestamp")]
    if rtype.kind == "PriorityClass":
        return [obj["metadata"]["name"], int(obj.get("value", 0)), bool(obj.get("globalDefault", False)), age(obj),
                obj.get("preemptionPolicy") or ""]
    return _cells(rtype.kind, obj)


def row_conditions(rtype: ResourceType, obj: Obj) -> list[dict[str, Any]] | None:
    """``Completed`` row condition of finished pods (kubectl hides those rows unless ``--show-all``)."""
    if rtype.kind == "Pod":
        return _pod_cells(obj)[1]
    return None


def to_table(rtype: ResourceType, objs: list[Obj], resource_version: str, include_object: str = "Metadata",
             continue_token: str | None = None, remaining: int | None = None) -> dict[str, Any]:
    meta: dict[str, Any] = {"resourceVersion": resource_version}
    if continue_token:
        meta["continue"] = continue_token
    if remaining:
        meta["remainingItemCount"] = remaining
    rows = []
    for obj in objs:
        row: dict[str, Any] = {"cells": cells_for(rtype, obj)}
        conditions = row_conditions(rtype, obj)
        if conditions:
            row["conditions"] = conditions
        if include_object == "Object":
            row["object"] = obj
        elif include_object == "None":
            row["object"] = None
        else:
            row["object"] = {"kind": "PartialObjectMetadata", "apiVersion": "meta.k8s.io/v1",
                             "metadata": obj["metadata"]}
        rows.append(row)
    return {
        "kind": "Table",
        "apiVersion": "meta.k8s.io/v1",
        "metadata": meta,
        "columnDefinitions": columns_for(rtype),
        "rows": rows,
    }
