"""What can go wrong on the AWS side; every message says what and how to fix it."""

from __future__ import annotations


class AwsError(RuntimeError):
    """Base of the plugin's AWS errors."""


class AwsConfigError(AwsError):
    """Region, credentials or endpoint cannot be used; nothing was touched. The message names the fix."""


class UnknownInstanceError(AwsError):
    """An instance id does not exist in the region (or is not in the expected zone); nothing was touched."""


class AwsSafetyError(AwsError):
    """The fault would touch more than the one zone it targets (e.g. a multi-zone Auto Scaling group)."""


class AwsTimeoutError(AwsError):
    """AWS did not reach the awaited state in time; the message has the last state seen."""
