"""EKS Auto Mode's instances are EC2 managed instances: EC2 stop/start/reboot/terminate on them is refused.

"Amazon EKS Auto Mode does not support the following AWS Fault Injection Service actions: ec2:RebootInstances,
ec2:SendSpotInstanceInterruptions, ec2:StartInstances, ec2:StopInstances, ec2:TerminateInstances"
(eksug ``automode/automode-learn-instances.adoc``; facts §2), and a direct call fails with ``UnauthorizedOperation``:
"instances are owned by an AWS-managed service principal and customer roles are explicitly denied
ec2:TerminateInstances via a resource-based policy" (aws/eks-node-monitoring-agent PR #151). The wording below is
IAM's explicit-deny form; EC2 answers 403 with the Query API's error XML.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qs

REFUSED_ACTIONS = ("StopInstances", "StartInstances", "RebootInstances", "TerminateInstances")
ACCOUNT_ID = "123456789012"  # moto's default account


def refusal_message(action: str, region: str, instance_id: str) -> str:
    return (f"You are not authorized to perform this operation. User: arn:aws:iam::{ACCOUNT_ID}:user/azchaos is "
            f"not authorized to perform: ec2:{action} on resource: arn:aws:ec2:{region}:{ACCOUNT_ID}:instance/"
            f"{instance_id} with an explicit deny in a resource-based policy")


def managed_instance_guard(region: str, managed: Callable[[], set[str]]
                           ) -> Callable[[dict[str, Any], bytes], tuple[int, str, str] | None]:
    """A moto-server guard refusing ``REFUSED_ACTIONS`` on any instance in ``managed()``."""

    def guard(environ: dict[str, Any], body: bytes) -> tuple[int, str, str] | None:
        form = parse_qs(body.decode(errors="replace"))
        query = parse_qs(environ.get("QUERY_STRING", ""))
        action = (form.get("Action") or query.get("Action") or [""])[0]
        if action not in REFUSED_ACTIONS:
            return None
        ids = [v[0] for k, v in {**query, **form}.items() if k.startswith("InstanceId.")]
        owned = managed()
        hit = next((i for i in ids if i in owned), None)
        if hit is None:
            return None
        return 403, "UnauthorizedOperation", refusal_message(action, region, hit)

    return guard
