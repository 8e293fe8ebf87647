"""Only a create refused because a webhook could not be called becomes a finding about the cluster; any other API
error stays the API's (an inconclusive observation, plugin.py), and a webhook's refusal keeps the API's words."""

from __future__ import annotations

import json

from kubernetes.client import ApiException

from pytest_azchaos.apps.refused import api_message, webhook_refusal

SERVICE = {"kind": "Service", "metadata": {"name": "echo"}}


def _error(status: int, message: str) -> ApiException:
    e = ApiException(status=status, reason="Internal Server Error")
    e.body = json.dumps({"kind": "Status", "status": "Failure", "message": message, "code": status})
    return e


def test_a_server_error_that_is_not_a_webhook_call_stays_an_api_failure() -> None:
    assert webhook_refusal(None, "ns", SERVICE, _error(500, "etcdserver: request timed out")) is None  # type: ignore[arg-type]


def test_a_webhook_denial_is_not_a_failed_call() -> None:
    denied = 'admission webhook "vpod.example.com" denied the request: no'
    assert webhook_refusal(None, "ns", SERVICE, _error(400, denied)) is None  # type: ignore[arg-type]


def test_the_api_message_is_read_from_the_status_body() -> None:
    assert api_message(_error(500, 'Internal error occurred: failed calling webhook "x"')) == \
        'Internal error occurred: failed calling webhook "x"'
