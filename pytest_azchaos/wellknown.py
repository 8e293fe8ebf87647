"""Well-known names shared by the plugin and the embedded cluster: labels, annotations, file and context names.

The contract across the boundary between the plugin and ``pytest_azchaos.embedded``: the embedded package
imports from the plugin only this module, ``timing`` and ``eventloop`` (ruff's banned-api rule enforces
the other direction). Changing a value here changes what is written into users' clusters: don't, lightly.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

# ---------------------------------------------------------------- upstream (Kubernetes, AWS)

#: The node label every zone-aware component reads (``k8s.io/api/core/v1`` ``LabelTopologyZone``).
ZONE_LABEL = "topology.kubernetes.io/zone"
#: Deprecated since v1.17, still set by some node images; read as a fallback only.
LEGACY_ZONE_LABEL = "failure-domain.beta.kubernetes.io/zone"
#: Zone labels in the order they are trusted.
ZONE_LABELS = (ZONE_LABEL, LEGACY_ZONE_LABEL)
#: The EBS CSI driver's topology key on PVs (``topology.ebs.csi.aws.com/zone``).
EBS_CSI_ZONE_KEY = "topology.ebs.csi.aws.com/zone"
#: Keys a PV's node affinity may pin its zone with.
PV_ZONE_KEYS = (ZONE_LABEL, EBS_CSI_ZONE_KEY)
#: Standard label naming the tool that manages an object.
MANAGED_BY_LABEL = "app.kubernetes.io/managed-by"

# ---------------------------------------------------------------- ours

MANAGED_BY = "pytest-azchaos"
RUN_ID_LABEL = "azchaos.io/run-id"
RUN_STATE_LABEL = "azchaos.io/run-state"
CORDONED_BY = "azchaos.io/cordoned-by"
TEST_ANNOTATION = "azchaos.io/test"
HOLDER_HOST_ANNOTATION = "azchaos.io/holder-host"
HOLDER_PID_ANNOTATION = "azchaos.io/holder-pid"
HOST_ANNOTATION = "azchaos.io/host"
PID_ANNOTATION = "azchaos.io/pid"
#: kubeconfig context extension that declares a cluster's timing profile (``kube.kubeconfig``).
PROFILE_EXTENSION = "azchaos.io/timing-profile"
#: The context name of the embedded cluster's kubeconfig; the only context chaos may use by default.
EMBEDDED_CONTEXT = "azchaos-embedded"
#: The bearer token that kubeconfig carries, and the one its API server knows as the cluster admin.
EMBEDDED_TOKEN = "azchaos-embedded"


def profile_extension(profile: str) -> dict[str, Any]:
    """The kubeconfig ``extensions`` entry that declares a cluster's timing ``profile``."""
    return {"name": PROFILE_EXTENSION, "extension": {"profile": profile}}


#: Kubeconfig context extension naming the DNS resolver that answers the cluster's load-balancer hostnames
#: (``{"server": "127.0.0.1:5353"}``). The embedded cluster declares its loopback resolver this way, as it
#: declares its timing profile; absent on real clusters, where the system resolver answers.
RESOLVER_EXTENSION = "azchaos.io/dns-resolver"


def resolver_extension(server: str) -> dict[str, Any]:
    """The kubeconfig ``extensions`` entry that declares the resolver ``server`` (``HOST:PORT``)."""
    return {"name": RESOLVER_EXTENSION, "extension": {"server": server}}


def aws_settings_path(kubeconfig: Path) -> Path:
    """``<kubeconfig>.aws.json``: the AWS settings (endpoint, region, credentials) of the cluster that
    kubeconfig reaches, written by the embedded cluster and read by the plugin's ``aws.AwsContext``."""
    return kubeconfig.with_name(kubeconfig.name + ".aws.json")
