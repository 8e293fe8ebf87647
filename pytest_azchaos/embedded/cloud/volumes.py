"""Every dynamically provisioned EBS PersistentVolume has its EBS volume in the emulated account.

The embedded ``ebs.csi.aws.com`` provisioner (``controllers/ebs_provisioner.py``) picks the
``vol-...`` handle itself and stays synchronous; this mirror then creates the volume under that very
id (moto's volume id generator is fed it), in the zone the PV's nodeAffinity pins, with the size of the
PV and the tags the EBS CSI driver sets (``CSIVolumeName``, ``kubernetes.io/created-for/...``,
``ebs.csi.aws.com/cluster: true``). When the PV is gone, the volume is deleted (reclaim ``Delete``; a
``Retain`` PV's volume outlives it, as on AWS). Attachments are not mirrored (a documented gap).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Hashable, Iterator
from typing import TYPE_CHECKING, Any

from ...wellknown import PV_ZONE_KEYS
from ..apiserver.store import Event, Store
from ..controllers.base import Controller
from .api_errors import RETRY_AFTER_API_FAILURE, caught

if TYPE_CHECKING:
    from .layer import CloudLayer

log = logging.getLogger(__name__)
Obj = dict[str, Any]
DRIVER = "ebs.csi.aws.com"


def pv_zone(pv: Obj) -> str | None:
    terms = (((pv.get("spec") or {}).get("nodeAffinity") or {}).get("required") or {}).get("nodeSelectorTerms") or []
    for term in terms:
        for expr in term.get("matchExpressions") or []:
            if expr.get("key") in PV_ZONE_KEYS and expr.get("operator") == "In" and len(expr.get("values") or []) == 1:
                return expr["values"][0]
    return None


def size_gib(pv: Obj) -> int:
    raw = str(((pv.get("spec") or {}).get("capacity") or {}).get("storage", "1Gi"))
    units = {"Gi": 1, "Ti": 1024, "Mi": 1 / 1024, "G": 1, "T": 1000}
    for suffix, factor in units.items():
        if raw.endswith(suffix):
            return max(1, int(-(-float(raw[: -len(suffix)]) * factor // 1)))
    return max(1, int(-(-int(raw) // 2**30)))


@contextlib.contextmanager
def _volume_id(volume_id: str) -> Iterator[None]:
    """Make moto's next volume take ``volume_id``."""
    import moto.ec2.models.elastic_block_store as ebs

    queue = [volume_id]
    generate = ebs.random_volume_id
    ebs.random_volume_id = lambda: queue.pop() if queue else generate()
    try:
        yield
    finally:
        ebs.random_volume_id = generate


class VolumeMirror(Controller):
    """Creates and deletes the EBS volumes of ``ebs.csi.aws.com`` PVs in the emulated account."""

    name = "cloud-ebs"

    def __init__(self, store: Store, cloud: CloudLayer):
        super().__init__(store)
        self.cloud = cloud
        self.volumes: dict[str, str] = {}  # PV name -> volume id
        self._lock = asyncio.Lock()

    def on_event(self, ev: Event) -> None:
        if ev.key == "persistentvolumes" and self.cloud.populated:
            self.enqueue(ev.obj["metadata"]["name"])

    def resync_all(self) -> None:
        for pv in self.store.scan("persistentvolumes"):
            self.enqueue(pv["metadata"]["name"])

    def sync(self, key: Hashable) -> None:
        asyncio.get_running_loop().create_task(self._guarded(str(key)))

    async def _guarded(self, name: str) -> None:
        async with self._lock:
            try:
                await self._sync(name)
            except Exception as e:
                if caught(self, e, f"mirroring the EBS volume of PV {name}"):  # requeued, as the CSI driver does
                    asyncio.get_running_loop().call_later(RETRY_AFTER_API_FAILURE, self.enqueue, name)

    async def _sync(self, name: str) -> None:
        pv = self.store.peek("persistentvolumes", "", name)
        csi = ((pv or {}).get("spec") or {}).get("csi") or {}
        if pv is None or csi.get("driver") != DRIVER:
            volume = self.volumes.pop(name, None)
            if volume is not None and (pv is None):
                await asyncio.to_thread(self.cloud.delete_volume, volume, True)
            return
        handle = csi.get("volumeHandle")
        zone = pv_zone(pv)
        if not handle or not zone or name in self.volumes:
            return
        ref = (pv.get("spec") or {}).get("claimRef") or {}
        from .layer import csi_volume_tags

        tags = csi_volume_tags(name, ref.get("name", ""), ref.get("namespace", ""))
        volume_type = "gp3"
        await asyncio.to_thread(self._create, handle, zone, size_gib(pv), tags, volume_type)
        self.volumes[name] = handle

    def _create(self, handle: str, zone: str, size: int, tags: dict[str, str], volume_type: str) -> None:
        from botocore.exceptions import ClientError

        try:
            self.cloud.client("ec2", internal=True).describe_volumes(VolumeIds=[handle])
            return  # already there (a resync)
        except ClientError as e:
            if e.response.get("Error", {}).get("Code") != "InvalidVolume.NotFound":
                raise
        with _volume_id(handle):
            created = self.cloud.create_volume(zone, size, tags, volume_type, internal=True)
        if created != handle:
            raise RuntimeError(f"moto created {created} instead of {handle}")
