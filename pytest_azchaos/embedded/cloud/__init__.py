"""The embedded cluster's AWS side: a moto server holding its instances, ASGs, EBS volumes and NLBs.

``endpoint`` is light (no moto) and is what the plugin process uses; ``layer`` runs in the cluster
process. The EBS provisioner calls ``CloudLayer.create_volume(zone, size_gib, tags)`` with
``csi_volume_tags(pv, pvc, namespace)``.
"""

from __future__ import annotations

from .endpoint import AwsEndpoint, env_file_for, json_file_for, read_env_file, write_env_files

__all__ = ["AwsEndpoint", "env_file_for", "json_file_for", "read_env_file", "write_env_files"]
