"""FIS ``aws:ec2:api-insufficient-instance-capacity-error`` as the embedded Karpenter meets it.

The action "injects InsufficientInstanceCapacity error responses on requests made by the target IAM roles"
(RunInstances, CreateFleet, StartInstances, CreateCapacityReservation), with parameters ``availabilityZoneIdentifiers``
(zone names or IDs, comma-separated), ``percentage`` (1-100 of the calls) and ``duration`` (ISO 8601, ``PT5M``); its
target is ``aws:iam:role`` resources (facts §2, option 2 for keeping Karpenter out of a zone). The role that makes
Karpenter's EC2 calls is its controller's (IRSA / Pod Identity; the getting-started name
``KarpenterControllerRole-<cluster>``), so that is the role an experiment must target here.

moto serves the FIS API (templates, StartExperiment, StopExperiment) but injects nothing; this module reads its
experiments in-process: one started, not stopped, within its action's ``duration``, naming the controller role and the
zone, fails Karpenter's launch there with EC2's own error (code ``InsufficientInstanceCapacity`` and its message).
moto's own state machine would call an experiment ``completed`` at once (so StopExperiment could not stop it):
:func:`hold_experiments` keeps moto from advancing it, and :func:`injected` moves it to ``running`` and, once its
action's ``duration`` has passed, to ``completed`` as FIS does (StopExperiment still makes it ``stopping``).
"""

from __future__ import annotations

import random
import re
import time
from typing import Any

ACTION = "aws:ec2:api-insufficient-instance-capacity-error"
ACCOUNT_ID = "123456789012"  # moto's default account
_ISO_DURATION = re.compile(r"^PT(?:(\d+)H)?(?:(\d+)M)?(?:(\d+)S)?$")


def controller_role_arn(cluster_name: str) -> str:
    return f"arn:aws:iam::{ACCOUNT_ID}:role/KarpenterControllerRole-{cluster_name}"


def iso_seconds(text: str | None) -> float | None:
    """``PT5M`` -> 300; None when absent or not of that form (FIS then runs the action until stopped)."""
    m = _ISO_DURATION.match(text or "")
    if not m or not any(m.groups()):
        return None
    h, mi, s = (int(g or 0) for g in m.groups())
    return float(h * 3600 + mi * 60 + s)


def hold_experiments() -> None:
    """moto advances an experiment only when told (never by itself): its states are this module's."""
    from moto.moto_api import state_manager

    state_manager.set_transition("fis::experiment", {"progression": "manual", "times": 10**9})


def _experiments(region: str) -> list[Any]:
    try:
        from moto.fis.models import fis_backends
    except ImportError:  # a moto without FIS: nothing can have been started
        return []
    return list(fis_backends[ACCOUNT_ID][region].experiments.values())


def injected(region: str, role_arn: str, zone: str, zone_id: str, *, now: float | None = None,
             rng: random.Random | None = None) -> str | None:
    """The id of a running experiment that fails this call (role and zone targeted, within its percentage), or None."""
    now = time.time() if now is None else now
    for exp in _experiments(region):
        actions = [a for a in (exp.actions or {}).values() if a.get("actionId") == ACTION]
        if not actions:
            continue
        if exp.status == "stopping":  # StopExperiment: the injection ends
            exp.status = "stopped"
        if exp.status in ("stopped", "failed", "completed"):
            continue
        durations = [iso_seconds((a.get("parameters") or {}).get("duration")) for a in actions]
        if actions and all(d is not None and now > float(exp.start_time) + d for d in durations):
            exp.status = "completed"  # every action's duration has passed
            continue
        exp.status = "running"
        for action in actions:
            params = action.get("parameters") or {}
            zones = {z.strip() for z in str(params.get("availabilityZoneIdentifiers", "")).split(",") if z.strip()}
            if zone not in zones and zone_id not in zones:
                continue
            duration = iso_seconds(params.get("duration"))
            if duration is not None and now > float(exp.start_time) + duration:
                continue
            roles = {arn for name in (action.get("targets") or {}).values()
                     for arn in ((exp.targets or {}).get(name) or {}).get("resourceArns") or []}
            if role_arn not in roles:
                continue
            percentage = float(params.get("percentage", 100))
            if (rng or random).random() * 100 < percentage:
                return str(exp.id)
    return None


def ice_message(instance_type: str, zone: str, other_zones: list[str]) -> str:
    """EC2's InsufficientInstanceCapacity message for RunInstances in ``zone``."""
    return (f"We currently do not have sufficient {instance_type} capacity in the Availability Zone you requested "
            f"({zone}). Our system will be working on provisioning additional capacity. You can currently get "
            f"{instance_type} capacity by not specifying an Availability Zone in your request or choosing "
            f"{', '.join(other_zones)}.")


def ice_error(instance_type: str, zone: str, other_zones: list[str]) -> Exception:
    """The botocore ClientError a boto3 RunInstances call raises on an ICE answer."""
    from botocore.exceptions import ClientError

    return ClientError({"Error": {"Code": "InsufficientInstanceCapacity",
                                  "Message": ice_message(instance_type, zone, other_zones)}}, "RunInstances")
