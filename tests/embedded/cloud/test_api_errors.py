"""The background components tell the AWS API failing a call (retried, as the real controllers do) from a request of
ours AWS refuses or a bug (recorded and reported as ours)."""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError, EndpointConnectionError
from botocore.parsers import ResponseParserError

from pytest_azchaos.embedded.cloud.api_errors import aws_api_failed, caught


def _client_error(status: int, code: str) -> ClientError:
    return ClientError({"Error": {"Code": code, "Message": "m"}, "ResponseMetadata": {"HTTPStatusCode": status}},
                       "DescribeAutoScalingGroups")


@pytest.mark.parametrize("error", [
    ResponseParserError("Unable to parse response (syntax error: line 1, column 0), invalid XML received"),
    EndpointConnectionError(endpoint_url="http://127.0.0.1:1"),
    _client_error(500, "InternalError"),
    _client_error(503, "ServiceUnavailable"),
], ids=["unparseable-answer", "no-answer", "500", "503"])
def test_the_api_failing_a_call_is_retried_not_recorded(error: BaseException) -> None:
    assert aws_api_failed(error)


@pytest.mark.parametrize("error", [
    _client_error(400, "ValidationError"),
    _client_error(404, "InvalidVolume.NotFound"),
    KeyError("instance"),
], ids=["validation-400", "not-found-404", "bug"])
def test_a_refusal_or_a_bug_is_recorded(error: BaseException) -> None:
    assert not aws_api_failed(error)


class _Component:
    name = "cloud-ebs"

    def __init__(self) -> None:
        self.errors: list[BaseException] = []


def test_caught_asks_for_a_retry_when_the_api_failed_and_records_nothing() -> None:
    owner = _Component()
    assert caught(owner, _client_error(503, "ServiceUnavailable"), "mirroring the EBS volume of PV pv-1")
    assert owner.errors == []


def test_caught_records_a_bug_of_ours_for_the_plugin_to_report() -> None:
    owner, bug = _Component(), KeyError("instance")
    assert not caught(owner, bug, "mirroring the EBS volume of PV pv-1")
    assert owner.errors == [bug]
