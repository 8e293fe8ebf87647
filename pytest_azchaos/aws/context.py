"""Which AWS account, region and endpoint the plugin talks to, from the standard settings.

Resolution is boto3's own: ``AWS_ACCESS_KEY_ID``/``AWS_SECRET_ACCESS_KEY`` (or ``AWS_PROFILE``, the
shared config and credentials files, SSO, instance roles), ``AWS_REGION``/``AWS_DEFAULT_REGION`` or the
profile's ``region``, and ``AWS_ENDPOINT_URL`` for an emulator. The embedded cluster writes those
settings next to its kubeconfig (``<kubeconfig>.aws.json``), which ``for_kubeconfig`` reads.
Problems are raised as ``AwsConfigError`` before any call that could change anything.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ProfileNotFound

from ..wellknown import aws_settings_path
from .errors import AwsConfigError

CREDENTIALS_FIX = ("set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or AWS_PROFILE (after `aws configure` or "
                   "`aws sso login`); for the embedded cluster `source <kubeconfig>.aws.env`")
REGION_FIX = "set AWS_REGION (or AWS_DEFAULT_REGION, or `region` in your AWS profile)"


@dataclass
class AwsContext:
    """A boto3 session for one region (and optional endpoint), with the clients the plugin uses.

    ``state_timeout``/``poll_interval``: how long waits for instance states take at most and how often
    they look (tenacity); pass the timing profile's figures.
    """

    session: Any
    region: str
    endpoint_url: str | None = None
    state_timeout: float = 600.0
    poll_interval: float = 2.0
    _clients: dict[str, Any] = field(default_factory=dict, repr=False)

    # ------------------------------------------------------------------ construction

    @classmethod
    def from_environment(cls, environ: Mapping[str, str] | None = None, *, region: str | None = None,
                         **kw: Any) -> AwsContext:
        """The context the standard AWS settings describe (``environ`` defaults to ``os.environ``)."""
        env = os.environ if environ is None else environ
        keys = {}
        if env.get("AWS_ACCESS_KEY_ID") and env.get("AWS_SECRET_ACCESS_KEY"):
            keys = {"aws_access_key_id": env["AWS_ACCESS_KEY_ID"],
                    "aws_secret_access_key": env["AWS_SECRET_ACCESS_KEY"],
                    "aws_session_token": env.get("AWS_SESSION_TOKEN") or None}
        profile = None if keys else (env.get("AWS_PROFILE") or None)
        try:
            session = boto3.session.Session(profile_name=profile, **keys)
        except ProfileNotFound:
            raise AwsConfigError(f"AWS profile {profile!r} (AWS_PROFILE) is not in your AWS config; "
                                 f"run `aws configure --profile {profile}` or unset AWS_PROFILE") from None
        chosen = region or env.get("AWS_REGION") or env.get("AWS_DEFAULT_REGION") or session.region_name
        if not chosen:
            raise AwsConfigError(f"no AWS region is configured: {REGION_FIX}")
        try:
            credentials = session.get_credentials()
        except BotoCoreError as e:
            raise AwsConfigError(f"AWS credentials cannot be loaded ({e}): {CREDENTIALS_FIX}") from None
        if credentials is None:
            raise AwsConfigError(f"no AWS credentials found: {CREDENTIALS_FIX}")
        known = set(session.get_available_regions("ec2")) | set(
            session.get_available_regions("ec2", partition_name="aws-cn")) | set(
            session.get_available_regions("ec2", partition_name="aws-us-gov"))
        if chosen not in known:
            raise AwsConfigError(f"unknown AWS region {chosen!r}: {REGION_FIX} to a region such as us-east-1")
        return cls(session, chosen, env.get("AWS_ENDPOINT_URL") or None, **kw)

    @classmethod
    def for_kubeconfig(cls, kubeconfig: Path | str, environ: Mapping[str, str] | None = None,
                       **kw: Any) -> AwsContext:
        """The embedded cluster's AWS (``<kubeconfig>.aws.json``) when it has one, else the environment's."""
        path = Path(kubeconfig)
        side = aws_settings_path(path)
        try:
            settings = json.loads(side.read_text())
        except FileNotFoundError:
            return cls.from_environment(environ, **kw)
        except ValueError as e:  # never fall back to the environment's account for a cluster that has its own
            raise AwsConfigError(f"{side} is not valid JSON ({e}): it holds this cluster's AWS settings; restart the "
                                 "embedded cluster (azchaos local down; azchaos local up) to write it again, or "
                                 "delete it to use the environment's AWS settings") from None
        if not isinstance(settings, dict):
            raise AwsConfigError(f"{side} must be a JSON object of AWS settings (AWS_REGION, AWS_ENDPOINT_URL ...); "
                                 "restart the embedded cluster to write it again")
        return cls.from_environment({**(os.environ if environ is None else environ), **settings}, **kw)

    # ------------------------------------------------------------------ clients

    def client(self, service: str) -> Any:
        c = self._clients.get(service)
        if c is None:
            c = self.session.client(service, region_name=self.region, endpoint_url=self.endpoint_url,
                                    config=Config(retries={"max_attempts": 5, "mode": "standard"}))
            self._clients[service] = c
        return c

    @property
    def ec2(self) -> Any:
        return self.client("ec2")

    @property
    def autoscaling(self) -> Any:
        return self.client("autoscaling")

    @property
    def elbv2(self) -> Any:
        return self.client("elbv2")

    # ------------------------------------------------------------------ checks

    def check_zones(self, zones: Iterable[str]) -> None:
        """The cluster's zones must belong to this region (else every lookup would come back empty)."""
        wrong = sorted({z for z in zones if z and not z.startswith(self.region)})
        if wrong:
            hint = _region_of(wrong[0])
            raise AwsConfigError(
                f"AWS region is {self.region!r} but the cluster's zone(s) {', '.join(wrong)} are in "
                f"{hint or 'another region'}: set AWS_REGION={hint or '<the cluster region>'} (or AWS_DEFAULT_REGION) "
                "and retry; nothing was changed")

    def describe(self) -> str:
        return f"AWS region {self.region}" + (f" at {self.endpoint_url}" if self.endpoint_url else "")


def _region_of(zone: str) -> str:
    """``us-east-1a`` -> ``us-east-1`` (Local Zones ``us-east-1-bos-1a`` -> ``us-east-1``)."""
    parts = zone.split("-")
    if len(parts) >= 3 and parts[2][:1].isdigit():
        digits = "".join(ch for ch in parts[2] if ch.isdigit())
        return "-".join([*parts[:2], digits])
    return ""
