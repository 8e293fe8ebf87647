"""ci/iam/azchaos-policy.json allows exactly the AWS calls pytest_azchaos/aws/ makes (found with ast)."""

from __future__ import annotations

import ast
import fnmatch
import functools
import json
from pathlib import Path

import boto3

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "pytest_azchaos" / "aws"
POLICY = ROOT / "ci" / "iam" / "azchaos-policy.json"
#: How the package names its clients (``ctx.ec2``, ``ctx.autoscaling``, ``ctx.elbv2``, ``arc``) -> boto3 service.
CLIENTS = {"ec2": "ec2", "autoscaling": "autoscaling", "elbv2": "elbv2", "arc": "arc-zonal-shift"}
NOT_API = {"get_paginator", "close"}


def calls_in_package() -> set[tuple[str, str]]:
    """(boto3 service, python method) for every ``<client>.<method>(`` and ``get_paginator("<method>")``."""
    found = set()
    for path in sorted(PACKAGE.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)):
                continue
            owner = node.func.value
            name = owner.attr if isinstance(owner, ast.Attribute) else getattr(owner, "id", None)
            if name not in CLIENTS:
                continue
            method = node.func.attr
            if method == "get_paginator":
                arg = node.args[0]
                assert isinstance(arg, ast.Constant), f"{path}: get_paginator needs a literal name"
                method = arg.value
            elif method in NOT_API:
                continue
            found.add((CLIENTS[name], method))
            if CLIENTS[name] == "ec2" and any(k.arg == "TagSpecifications" for k in node.keywords):
                found.add(("ec2", "create_tags"))  # tag on create is authorised as ec2:CreateTags too
    return found


@functools.cache
def boto_client(service: str):  # -> botocore client (never called: only its service model is read)
    return boto3.session.Session().client(service, region_name="us-east-1", aws_access_key_id="x",
                                          aws_secret_access_key="y")


def iam_action(service: str, method: str) -> str:
    """``ec2.describe_instances`` -> ``ec2:DescribeInstances`` via botocore's service model."""
    c = boto_client(service)
    operation = c.meta.method_to_api_mapping[method]
    model = c.meta.service_model
    return f"{model.signing_name}:{model.operation_model(operation).name}"


def allowed_actions() -> set[str]:
    doc = json.loads(POLICY.read_text())
    out = set()
    for st in doc["Statement"]:
        assert st["Effect"] == "Allow"
        actions = st["Action"] if isinstance(st["Action"], list) else [st["Action"]]
        out.update(actions)
    return out


def test_the_package_makes_aws_calls_the_scan_can_see() -> None:
    assert ("ec2", "stop_instances") in calls_in_package()


def test_every_call_the_plugin_makes_is_allowed_by_the_policy() -> None:
    allowed = allowed_actions()
    used = {iam_action(s, m) for s, m in calls_in_package()}
    missing = sorted(a for a in used if not any(fnmatch.fnmatchcase(a, p) for p in allowed))
    assert not missing, f"add to {POLICY.name}: {missing}"


def test_the_policy_allows_nothing_the_plugin_does_not_use() -> None:
    used = {iam_action(s, m) for s, m in calls_in_package()}
    unused = sorted(p for p in allowed_actions() if "*" in p or p not in used)
    assert not unused, f"remove from {POLICY.name} (least privilege, no wildcards): {unused}"


#: Read-only action name prefixes (Describe*, and ARC's List*/Get*).
READ_ONLY = (":Describe", ":List", ":Get")
#: Write actions IAM cannot scope: the Service Authorization Reference lists no resource type or condition key for
#: them, so a policy can only allow them on "*" (the plugin acts only on the cluster's own managed resource).
UNSCOPABLE = {"arc-zonal-shift:StartZonalShift", "arc-zonal-shift:CancelZonalShift"}


def test_mutating_actions_are_scoped_to_eks_cluster_resources() -> None:
    doc = json.loads(POLICY.read_text())
    for st in doc["Statement"]:
        actions = st["Action"] if isinstance(st["Action"], list) else [st["Action"]]
        if any(not any(r in a for r in READ_ONLY) and a not in UNSCOPABLE for a in actions):
            assert st["Resource"] != "*" and "Condition" in st, st["Sid"]
