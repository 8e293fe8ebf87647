"""Nodes <-> EC2 instances <-> zones, from each node's ``spec.providerID`` (``aws:///<zone>/<instance-id>``)."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from botocore.exceptions import ClientError

from .context import AwsContext
from .errors import UnknownInstanceError
from .kube_objects import get, name_of, zone_label

PROVIDER_ID = re.compile(r"^aws:///(?P<zone>[a-z0-9-]+)/(?P<instance>i-[0-9a-f]+)$")
NOT_FOUND_CODES = ("InvalidInstanceID.NotFound", "InvalidInstanceID.Malformed")


@dataclass(frozen=True)
class Instance:
    """An EC2 instance as the plugin needs it."""

    id: str
    zone: str
    state: str
    asg: str | None = None
    tags: dict[str, str] = field(default_factory=dict, hash=False)


@dataclass(frozen=True)
class NodeInstance:
    """A node, its instance and zone (``instance`` None when no such instance exists)."""

    node: str
    zone: str | None
    instance_id: str | None
    instance: Instance | None


def parse_provider_id(provider_id: str | None) -> tuple[str, str] | None:
    """``aws:///us-east-1a/i-0abc`` -> ``("us-east-1a", "i-0abc")``; None for anything else."""
    m = PROVIDER_ID.match(provider_id or "")
    return (m["zone"], m["instance"]) if m else None


def describe_instances(ctx: AwsContext, instance_ids: Iterable[str]) -> dict[str, Instance]:
    """Look the ids up; an id that does not exist raises ``UnknownInstanceError`` naming it."""
    ids = sorted(set(instance_ids))
    if not ids:
        return {}
    out: dict[str, Instance] = {}
    try:
        pages = ctx.ec2.get_paginator("describe_instances").paginate(InstanceIds=ids)
        for page in pages:
            for res in page["Reservations"]:
                for i in res["Instances"]:
                    tags = {t["Key"]: t["Value"] for t in i.get("Tags") or []}
                    out[i["InstanceId"]] = Instance(i["InstanceId"], i["Placement"]["AvailabilityZone"],
                                                    i["State"]["Name"], tags.get("aws:autoscaling:groupName"), tags)
    except ClientError as e:
        if e.response.get("Error", {}).get("Code") in NOT_FOUND_CODES:
            raise UnknownInstanceError(
                f"{e.response['Error'].get('Message', e)} in {ctx.describe()}: check the instance id(s) "
                f"{', '.join(ids)} and the region; nothing was changed") from None
        raise
    missing = [i for i in ids if i not in out]
    if missing:
        raise UnknownInstanceError(f"instance(s) {', '.join(missing)} do not exist in {ctx.describe()}; "
                                   "nothing was changed")
    return out


def node_instances(ctx: AwsContext, nodes: Iterable[Any]) -> list[NodeInstance]:
    """Each node (dict or client model) with its instance; nodes without an AWS providerID get None."""
    rows = []
    for node in nodes:
        parsed = parse_provider_id(get(node, "spec", "providerID"))
        zone = parsed[0] if parsed else zone_label(node)
        rows.append((name_of(node), zone, parsed[1] if parsed else None))
    ctx.check_zones(z for _, z, _ in rows if z)
    found = describe_instances(ctx, [i for _, _, i in rows if i])
    return [NodeInstance(n, z, i, found.get(i) if i else None) for n, z, i in rows]


def instances_by_zone(node_rows: Iterable[NodeInstance]) -> dict[str, list[NodeInstance]]:
    out: dict[str, list[NodeInstance]] = {}
    for row in node_rows:
        out.setdefault(row.zone or "", []).append(row)
    return out
