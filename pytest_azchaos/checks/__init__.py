"""Assertions over a recording and cluster state; each failure says what failed and why, with evidence."""

from __future__ import annotations

from .result import CheckFailed, CheckResult, require

__all__ = ["CheckFailed", "CheckResult", "require"]
