"""ARC zonal shift (the ``arc-zonal-shift`` REST-JSON API boto3 calls) for the embedded EKS cluster, and EKS's
effects while a shift is active.

moto 5 does not serve ``arc-zonal-shift``; the moto server routes requests signed for it here
(``LazyMotoApp.services``). Served: StartZonalShift, ListZonalShifts, GetManagedResource, ListManagedResources,
CancelZonalShift, UpdateZonalShift, with the API reference's shapes (``awayFrom`` is an AZ *ID*, e.g. ``use1-az1``)
and error types/reasons (ValidationException ``InvalidExpiresIn``/``InvalidAz``/``InvalidStatus``,
ResourceNotFoundException, ConflictException ``ZonalShiftAlreadyExists``/``ZonalShiftStatusNotActive``). The
messages are ours (the reference gives the types and reasons, not the texts).

EKS's effects (``eksug:latest/ug/clusters/zone-shift.adoc``): every node of the zone cordoned (``spec.unschedulable``;
the node lifecycle controller adds the ``node.kubernetes.io/unschedulable`` taint), the zone's endpoints dropped
from EndpointSlices unless all of a Service's endpoints are there, nothing evicted, nothing launched there. The
cloud layer's poll loop applies them (``ZonalShifts.sync``), and EKS wants 60 s between operations on a resource
(``zone-shift-enable.adoc``): a change of the shifted zones takes effect no sooner than ``spacing`` after the
previous one (the profile's ``zonal_shift_spacing``). Cancel or expiry undoes them (nodes EKS cordoned uncordoned).

``zone_under_shift(zone)`` (or ``ZonalShifts.active_zones()``) is what a provisioner asks before launching in a
zone (Karpenter >= v1.12 honours a shift).
"""

from __future__ import annotations

import json
import re
import threading
import time
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, unquote

SERVICE = "arc-zonal-shift"
ACCOUNT_ID = "123456789012"  # moto's default account
EXPIRES_IN = re.compile(r"^([1-9][0-9]*)(m|h|d)$")
MAX_EXPIRY = 3 * 24 * 3600  # "up to three days (72 hours)"
SHIFT_ID = re.compile(r"^[A-Za-z0-9-]{6,36}$")


class ArcError(Exception):
    """An ARC error answer: HTTP status, error type, message and extra members (``reason``, ``zonalShiftId``)."""

    def __init__(self, status: int, code: str, message: str, **extra: str):
        super().__init__(message)
        self.status, self.code, self.message, self.extra = status, code, message, extra


def _validation(reason: str, message: str) -> ArcError:
    return ArcError(400, "ValidationException", message, reason=reason)


def parse_expires_in(value: str) -> int:
    """``20h`` / ``30m`` / ``1d`` -> seconds, as ARC reads it (whole number, m/h/d, 1 minute to 3 days)."""
    m = EXPIRES_IN.match(value or "")
    if not m:
        raise _validation("InvalidExpiresIn", f"Invalid expiresIn {value!r}: a whole number followed by m, h or d")
    seconds = int(m.group(1)) * {"m": 60, "h": 3600, "d": 86400}[m.group(2)]
    if not 60 <= seconds <= MAX_EXPIRY:
        raise _validation("InvalidExpiresIn", f"Invalid expiresIn {value!r}: between 1 minute and 3 days")
    return seconds


@dataclass
class Shift:
    """One zonal shift as ARC holds it."""

    zonal_shift_id: str
    resource: str
    away_from: str  # AZ ID
    start: float
    expiry: float
    comment: str
    status: str = "ACTIVE"
    shift_type: str = "ZONAL_SHIFT"

    def refresh(self, now: float) -> None:
        if self.status == "ACTIVE" and now >= self.expiry:
            self.status = "EXPIRED"

    def shape(self) -> dict[str, Any]:
        """``ZonalShift`` / ``ZonalShiftSummary`` (timestamps as epoch seconds, REST-JSON's default)."""
        return {"zonalShiftId": self.zonal_shift_id, "resourceIdentifier": self.resource, "awayFrom": self.away_from,
                "expiryTime": self.expiry, "startTime": self.start, "status": self.status,
                "comment": self.comment}


@dataclass
class ZonalShifts:
    """The shifts of one account/region and the EKS cluster as its one managed resource.

    ``zone_ids``: zone name -> AZ ID (from EC2). ``cordon(node, on)`` and ``resync_endpoints()`` are the
    cluster-side effects; ``nodes_in(zone)`` lists the zone's node names."""

    region: str
    cluster_name: str
    zone_ids: dict[str, str]
    spacing: float = 60.0
    clock: Callable[[], float] = time.time
    shifts: dict[str, Shift] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    applied: frozenset[str] = frozenset()  # zone names whose effects are in place
    _applied_at: float = float("-inf")
    cordoned: set[str] = field(default_factory=set)  # nodes we cordoned (uncordoned on cancel/expiry)

    @property
    def cluster_arn(self) -> str:
        return f"arn:aws:eks:{self.region}:{ACCOUNT_ID}:cluster/{self.cluster_name}"

    # ------------------------------------------------------------------ state

    def _resource(self, identifier: str) -> str:
        if not identifier:
            raise _validation("MissingValue", "resourceIdentifier is required")
        if identifier in (self.cluster_arn, self.cluster_name):
            return self.cluster_arn
        if not identifier.startswith("arn:"):
            raise _validation("InvalidResourceIdentifier", f"Invalid resource identifier {identifier!r}")
        raise ArcError(404, "ResourceNotFoundException", f"Resource {identifier} not found")

    def _shift(self, shift_id: str) -> Shift:
        if not SHIFT_ID.match(shift_id or ""):
            raise _validation("InvalidToken", f"Invalid zonalShiftId {shift_id!r}")
        s = self.shifts.get(shift_id)
        if s is None:
            raise ArcError(404, "ResourceNotFoundException", f"Zonal shift {shift_id} not found")
        s.refresh(self.clock())
        return s

    def active(self) -> list[Shift]:
        now = self.clock()
        with self._lock:
            for s in self.shifts.values():
                s.refresh(now)
            return [s for s in self.shifts.values() if s.status == "ACTIVE"]

    def active_zones(self) -> frozenset[str]:
        """Zone *names* under an active shift now (what ARC says, before EKS has applied it)."""
        names = {v: k for k, v in self.zone_ids.items()}
        return frozenset(names.get(s.away_from, s.away_from) for s in self.active())

    # ------------------------------------------------------------------ operations

    def start(self, body: dict[str, Any]) -> dict[str, Any]:
        for member in ("resourceIdentifier", "awayFrom", "expiresIn", "comment"):
            if body.get(member) is None:
                raise _validation("MissingValue", f"{member} is required")
        resource = self._resource(body["resourceIdentifier"])
        away = body["awayFrom"]
        if away not in self.zone_ids.values():
            raise _validation("InvalidAz", f"{away} is not a valid AZ ID for the resource; valid: "
                                           f"{', '.join(sorted(self.zone_ids.values()))}")
        seconds = parse_expires_in(body["expiresIn"])
        if len(body["comment"]) > 128:
            raise _validation("MissingValue", "comment is longer than 128 characters")
        with self._lock:
            now = self.clock()
            for s in self.shifts.values():
                s.refresh(now)
                if s.resource == resource and s.status == "ACTIVE":
                    raise ArcError(409, "ConflictException",
                                   f"A zonal shift {s.zonal_shift_id} is already active for resource {resource}",
                                   reason="ZonalShiftAlreadyExists", zonalShiftId=s.zonal_shift_id)
            shift = Shift(str(uuid.uuid4()), resource, away, now, now + seconds, body["comment"])
            self.shifts[shift.zonal_shift_id] = shift
            return shift.shape()

    def update(self, shift_id: str, body: dict[str, Any]) -> dict[str, Any]:
        with self._lock:
            s = self._shift(shift_id)
            if s.status != "ACTIVE":
                raise ArcError(409, "ConflictException", f"Zonal shift {shift_id} is {s.status}, not ACTIVE",
                               reason="ZonalShiftStatusNotActive", zonalShiftId=shift_id)
            if body.get("expiresIn") is not None:
                s.expiry = self.clock() + parse_expires_in(body["expiresIn"])
            if body.get("comment") is not None:
                s.comment = body["comment"]
            return s.shape()

    def cancel(self, shift_id: str) -> dict[str, Any]:
        with self._lock:
            s = self._shift(shift_id)
            if s.status != "ACTIVE":
                raise ArcError(409, "ConflictException", f"Zonal shift {shift_id} is {s.status}, not ACTIVE",
                               reason="ZonalShiftStatusNotActive", zonalShiftId=shift_id)
            s.status = "CANCELED"
            return s.shape()

    def list_shifts(self, query: dict[str, list[str]]) -> dict[str, Any]:
        status = (query.get("status") or [None])[0]
        if status is not None and status not in ("ACTIVE", "EXPIRED", "CANCELED"):
            raise _validation("InvalidStatus", f"Invalid status {status!r}")
        resource = (query.get("resourceIdentifier") or [None])[0]
        self.active()  # refresh expiries
        items = [{**s.shape(), "shiftType": s.shift_type} for s in self.shifts.values()
                 if (status is None or s.status == status) and (resource is None or s.resource == resource)]
        return {"items": items}

    def _in_resource(self) -> list[dict[str, Any]]:
        applied_ids = {self.zone_ids.get(z) for z in self.applied}
        return [{**{k: v for k, v in s.shape().items() if k != "status"}, "shiftType": s.shift_type,
                 "appliedStatus": "APPLIED" if s.away_from in applied_ids else "NOT_APPLIED"} for s in self.active()]

    def _weights(self) -> dict[str, float]:
        away = {s.away_from for s in self.active()}
        return {az: 0.0 if az in away else 1.0 for az in sorted(self.zone_ids.values())}

    def get_managed_resource(self, identifier: str) -> dict[str, Any]:
        resource = self._resource(identifier)
        return {"arn": resource, "name": self.cluster_name, "appliedWeights": self._weights(),
                "zonalShifts": self._in_resource(), "autoshifts": [], "zonalAutoshiftStatus": "DISABLED"}

    def list_managed_resources(self) -> dict[str, Any]:
        return {"items": [{"arn": self.cluster_arn, "name": self.cluster_name,
                           "availabilityZones": sorted(self.zone_ids.values()), "appliedWeights": self._weights(),
                           "zonalShifts": self._in_resource(), "autoshifts": [],
                           "zonalAutoshiftStatus": "DISABLED", "practiceRunStatus": "DISABLED"}]}

    # ------------------------------------------------------------------ EKS's effects

    def due(self) -> frozenset[str] | None:
        """The zones whose effects should be in place now, or None when nothing is to change (yet)."""
        wanted = self.active_zones()
        if wanted == self.applied or self.clock() < self._applied_at + self.spacing:
            return None
        return wanted

    def sync(self, nodes_in: Callable[[str], Iterable[tuple[str, bool]]], cordon: Callable[[str, bool], None],
             resync_endpoints: Callable[[], None]) -> bool:
        """Apply the active shifts: cordon the shifted zones' nodes (``nodes_in(zone)`` -> (name, unschedulable)),
        uncordon those we cordoned in zones no longer shifted, refresh EndpointSlices. True when it changed."""
        wanted = self.due()
        if wanted is None:
            return False
        for zone in sorted(wanted):
            for name, unschedulable in nodes_in(zone):
                if not unschedulable:
                    cordon(name, True)
                    self.cordoned.add(name)
        for zone in sorted(self.applied - wanted):
            for name, _ in nodes_in(zone):
                if name in self.cordoned:
                    cordon(name, False)
                    self.cordoned.discard(name)
        self.applied = wanted
        self._applied_at = self.clock()
        resync_endpoints()
        return True

    # ------------------------------------------------------------------ HTTP (WSGI)

    def route(self, method: str, path: str, query: dict[str, list[str]], body: dict[str, Any]) -> dict[str, Any]:
        parts = [unquote(p) for p in path.strip("/").split("/") if p]
        if parts == ["zonalshifts"] and method == "POST":
            return self.start(body)
        if parts == ["zonalshifts"] and method == "GET":
            return self.list_shifts(query)
        if len(parts) == 2 and parts[0] == "zonalshifts" and method == "DELETE":
            return self.cancel(parts[1])
        if len(parts) == 2 and parts[0] == "zonalshifts" and method == "PATCH":
            return self.update(parts[1], body)
        if parts == ["managedresources"] and method == "GET":
            return self.list_managed_resources()
        if len(parts) >= 2 and parts[0] == "managedresources" and method == "GET":  # an ARN holds "/"
            return self.get_managed_resource("/".join(parts[1:]))
        raise ArcError(400, "ValidationException", f"{method} /{'/'.join(parts)} is not served by the embedded "
                                                   "cloud's zonal shift", reason="MissingValue")

    def __call__(self, environ: dict[str, Any], start_response: Any) -> list[bytes]:
        try:
            length = int(environ.get("CONTENT_LENGTH") or 0)
            raw = environ["wsgi.input"].read(length) if length else b""
            body = json.loads(raw) if raw.strip() else {}
            out = self.route(environ["REQUEST_METHOD"], environ.get("PATH_INFO", "/"),
                             parse_qs(environ.get("QUERY_STRING", "")), body)
            status, payload, headers = "200 OK", json.dumps(out).encode(), []
        except ArcError as e:
            reason = {400: "Bad Request", 404: "Not Found", 409: "Conflict"}.get(e.status, "Error")
            status = f"{e.status} {reason}"
            payload = json.dumps({"message": e.message, **e.extra}).encode()
            headers = [("x-amzn-ErrorType", e.code)]
        except ValueError as e:
            status, headers = "400 Bad Request", [("x-amzn-ErrorType", "ValidationException")]
            payload = json.dumps({"message": f"malformed request body: {e}", "reason": "MissingValue"}).encode()
        start_response(status, [("Content-Type", "application/json"), ("Content-Length", str(len(payload))),
                                *headers])
        return [payload]


#: The shifts of the cluster in this process (one embedded cluster per process), for provisioners.
CURRENT: ZonalShifts | None = None


def zone_under_shift(zone: str) -> bool:
    """Whether ``zone`` (a zone name) is under an active zonal shift now: a provisioner launches nothing there."""
    return CURRENT is not None and zone in CURRENT.active_zones()
