"""Telling the emulated AWS API failing a call from a bug of ours, for the components that call it in the background.

The Cluster Autoscaler, Karpenter and the cloud mirrors call the emulated account (the moto server) over HTTP, as
the real controllers call AWS. A call the API answers with a 5xx, or with a body that cannot be parsed, or that
never gets an answer, is the API failing: the real controllers log it and try again on their next scan or
requeue. Our components do the same instead of recording it among their own errors (which the plugin reports as a
bug of ours, ``/azchaos/v1/controller-errors``). A 4xx answer is a request of ours that AWS refuses: still a bug.
"""

from __future__ import annotations

import logging
from typing import Any

log = logging.getLogger(__name__)

#: Seconds before an event-driven mirror tries a key again after the API failed it.
RETRY_AFTER_API_FAILURE = 1.0


def aws_api_failed(error: BaseException) -> bool:
    """Whether ``error`` is the AWS API failing the call (5xx, unparseable answer, no answer) rather than a refusal
    of what we asked (4xx) or a bug."""
    from botocore.exceptions import ClientError, ConnectionClosedError, EndpointConnectionError, ReadTimeoutError
    from botocore.parsers import ResponseParserError

    if isinstance(error, ResponseParserError | EndpointConnectionError | ConnectionClosedError | ReadTimeoutError):
        return True
    if isinstance(error, ClientError):
        status = error.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
        return isinstance(status, int) and status >= 500
    return False


def caught(owner: Any, error: Exception, what: str) -> bool:
    """Log ``error``, met by ``owner`` (a component with ``name`` and ``errors``) while ``what``. The AWS API failing
    is a warning, and True tells the caller to retry; anything else is a bug of ours: logged with its traceback,
    recorded in ``owner.errors`` (the plugin reports it), and False."""
    if aws_api_failed(error):
        log.warning("%s: the AWS API failed %s, retrying: %r", owner.name, what, error)
        return True
    log.error("%s: %s failed", owner.name, what, exc_info=error)
    owner.errors.append(error)
    return False
