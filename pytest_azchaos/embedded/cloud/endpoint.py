"""Where the embedded cluster's AWS API answers, as the standard AWS settings a client reads.

Written next to the kubeconfig as ``<kubeconfig>.aws.env`` (``export KEY=value`` lines, for
``source``) and ``<kubeconfig>.aws.json``; boto3, the AWS CLI and the plugin pick the endpoint up
from ``AWS_ENDPOINT_URL`` like any other AWS setting. No moto import here: the plugin process
reads these files without paying for the emulator.
"""

from __future__ import annotations

import json
import shlex
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ...wellknown import aws_settings_path

# Dummy credentials: the emulator accepts any; these are the conventional moto ones.
ACCESS_KEY_ID = "testing"
SECRET_ACCESS_KEY = "testing"


@dataclass(frozen=True)
class AwsEndpoint:
    """The emulated AWS API: URL, region and the dummy credentials that reach it."""

    url: str
    region: str
    access_key_id: str = ACCESS_KEY_ID
    secret_access_key: str = SECRET_ACCESS_KEY

    def env(self) -> dict[str, str]:
        """The standard environment variables that point boto3 / the AWS CLI at this endpoint."""
        return {
            "AWS_ENDPOINT_URL": self.url,
            "AWS_ACCESS_KEY_ID": self.access_key_id,
            "AWS_SECRET_ACCESS_KEY": self.secret_access_key,
            "AWS_DEFAULT_REGION": self.region,
        }

    def to_dict(self) -> dict[str, Any]:
        return {"url": self.url, "region": self.region, "access_key_id": self.access_key_id,
                "secret_access_key": self.secret_access_key}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> AwsEndpoint:
        return cls(d["url"], d["region"], d.get("access_key_id", ACCESS_KEY_ID),
                   d.get("secret_access_key", SECRET_ACCESS_KEY))


def env_file_for(kubeconfig: Path) -> Path:
    """``<kubeconfig>.aws.env``: shell exports of the AWS settings."""
    return kubeconfig.with_name(kubeconfig.name + ".aws.env")


def json_file_for(kubeconfig: Path) -> Path:
    """``<kubeconfig>.aws.json``: the same settings as a JSON object of environment variables."""
    return aws_settings_path(kubeconfig)


def write_env_files(kubeconfig: Path, endpoint: AwsEndpoint) -> dict[str, str]:
    """Write both files next to ``kubeconfig`` (atomically) and return the environment they hold."""
    env = endpoint.env()
    text = "".join(f"export {k}={shlex.quote(v)}\n" for k, v in env.items())
    for path, body in ((env_file_for(kubeconfig), text), (json_file_for(kubeconfig), json.dumps(env, indent=2) + "\n")):
        tmp = path.with_name(path.name + ".tmp")
        tmp.write_text(body)
        tmp.replace(path)
    return env


def remove_env_files(kubeconfig: Path) -> None:
    for path in (env_file_for(kubeconfig), json_file_for(kubeconfig)):
        path.unlink(missing_ok=True)


def read_env_file(kubeconfig: Path) -> dict[str, str] | None:
    """The AWS environment written for the cluster of ``kubeconfig``, or None when there is none."""
    try:
        return json.loads(json_file_for(kubeconfig).read_text())
    except (FileNotFoundError, ValueError):
        return None
