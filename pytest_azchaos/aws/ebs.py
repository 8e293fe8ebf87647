"""Each EBS-backed PersistentVolume's volume and the Availability Zone AWS says it lives in."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import ClientError

from ..wellknown import PV_ZONE_KEYS
from .context import AwsContext
from .kube_objects import get, name_of

EBS_DRIVER = "ebs.csi.aws.com"


@dataclass(frozen=True)
class PvVolume:
    """One PV: its EBS volume id, the zone its nodeAffinity pins, and the volume's AZ (None: not found)."""

    pv: str
    claim: str | None  # "<namespace>/<name>"
    volume_id: str
    pv_zone: str | None
    volume_zone: str | None
    volume_state: str | None

    @property
    def agrees(self) -> bool:
        return self.volume_zone is not None and self.volume_zone == self.pv_zone


def volume_handle(pv: Any) -> str | None:
    """``spec.csi.volumeHandle`` of an ``ebs.csi.aws.com`` PV (the ``vol-...`` id), else None."""
    if get(pv, "spec", "csi", "driver") != EBS_DRIVER:
        return None
    return get(pv, "spec", "csi", "volumeHandle")


def pv_zone(pv: Any) -> str | None:
    """The zone a PV's required nodeAffinity pins (either EBS topology key)."""
    terms = get(pv, "spec", "nodeAffinity", "required", "nodeSelectorTerms") or []
    for term in terms:
        for expr in get(term, "matchExpressions") or []:
            if get(expr, "key") in PV_ZONE_KEYS and get(expr, "operator") == "In":
                values = get(expr, "values") or []
                if len(values) == 1:
                    return values[0]
    return None


def pv_volumes(ctx: AwsContext, pvs: Iterable[Any]) -> list[PvVolume]:
    """The EBS PVs among ``pvs`` with their volumes' AZs (one DescribeVolumes call per id batch)."""
    rows = []
    for pv in pvs:
        handle = volume_handle(pv)
        if handle:
            ref = get(pv, "spec", "claimRef")
            claim = f"{get(ref, 'namespace')}/{get(ref, 'name')}" if ref else None
            rows.append((name_of(pv), claim, handle, pv_zone(pv)))
    ctx.check_zones(z for *_, z in rows if z)
    found = _describe_volumes(ctx, [r[2] for r in rows])
    return [PvVolume(pv, claim, vid, zone, *(found.get(vid) or (None, None))) for pv, claim, vid, zone in rows]


def _describe_volumes(ctx: AwsContext, ids: list[str]) -> dict[str, tuple[str, str]]:
    out: dict[str, tuple[str, str]] = {}
    for start in range(0, len(ids), 200):
        batch = ids[start:start + 200]
        try:
            volumes = ctx.ec2.describe_volumes(VolumeIds=batch)["Volumes"]
        except ClientError as e:
            if e.response.get("Error", {}).get("Code") not in ("InvalidVolume.NotFound", "InvalidParameterValue"):
                raise
            volumes = []
            for vid in batch:  # find which exist, one by one
                try:
                    volumes += ctx.ec2.describe_volumes(VolumeIds=[vid])["Volumes"]
                except ClientError:
                    continue
        for v in volumes:
            out[v["VolumeId"]] = (v["AvailabilityZone"], v["State"])
    return out
