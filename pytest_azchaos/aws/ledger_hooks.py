"""How the AWS faults' undos reach the ledger: ``Ledger.replay`` and ``azchaos restore`` call an undo with the
cluster; the AWS faults undo with the AWS context of that cluster's kubeconfig, in the region they recorded."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .context import AwsContext


def register_aws_undo(kind: str, undo: Callable[[dict[str, Any], AwsContext], Any]) -> None:
    """Make the ledger able to replay undo records of ``kind`` with ``undo(record, aws_context)`` (which returns
    an ``UndoResult``: ok, action, detail)."""
    try:
        from ..chaos.ledger import register_undo
    except ImportError:  # the chaos package is optional for the AWS helpers
        return

    def handler(record: dict[str, Any], cluster: Any) -> Any:
        from ..chaos.ledger import UndoOutcome

        ctx = AwsContext.for_kubeconfig(cluster.kubeconfig, region=record.get("region"))
        result = undo(record, ctx)
        return UndoOutcome(kind, f"zone/{record.get('zone')}", result.ok, result.action, result.detail)

    register_undo(kind, handler)
