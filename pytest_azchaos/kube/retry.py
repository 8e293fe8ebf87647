"""Retrying API requests, so an apiserver under load is not taken for a verdict about the cluster.

As client-go does (``rest/request.go``, ``rest/with_retry.go``): a request answered 429 or 5xx **with** a
``Retry-After`` header (APF and max-in-flight throttling, a server shutting down) is retried, up to ten
times, after what the header says; a GET whose connection broke is retried. The official Python client does
neither.

Beyond client-go, a 5xx without ``Retry-After`` is retried a few times with backoff, for every verb: a chaos
run makes few, deliberate writes, and a failed one would end the run's observation. A read has no effect; a
write answered 5xx may still have happened upstream, so every write site accepts the outcome of its own
earlier attempt (a create answering 409 AlreadyExists for an object of this run, a delete answering 404, a
lease update answering 409 while this run already holds it). What still fails reaches the caller: waits keep
polling inside their deadline, and a test that ends on an API error is reported inconclusive (``plugin.py``).
"""

from __future__ import annotations

from typing import Any

import tenacity

#: client-go's default ``maxRetries``.
MAX_RETRIES = 10
#: Longest ``Retry-After`` honoured; longer waits are capped (the caller's deadline still holds).
MAX_RETRY_AFTER = 10.0
#: Attempts at a request answered 5xx without ``Retry-After``, and the backoff between them.
SERVER_ERROR_ATTEMPTS = 6
SERVER_ERROR_BACKOFF = (0.1, 2.0)


class _RetryAfter(Exception):
    def __init__(self, seconds: float, outcome: Any, raised: bool) -> None:
        super().__init__(f"retry after {seconds}s")
        self.seconds, self.outcome, self.raised = seconds, outcome, raised


class _ServerError(Exception):
    def __init__(self, outcome: Any, raised: bool) -> None:
        super().__init__("server error")
        self.outcome, self.raised = outcome, raised


class _ConnectionBroke(Exception):
    def __init__(self, error: BaseException) -> None:
        super().__init__(str(error))
        self.error = error


def retry_after(status: int | None, headers: Any) -> float | None:
    """Seconds to wait before retrying an answer with ``status`` and ``headers``; None: do not retry."""
    if status is None or not (status == 429 or status >= 500):
        return None
    value = (headers or {}).get("Retry-After") if hasattr(headers, "get") else None
    if value is None:
        return None
    try:
        return min(max(float(value), 0.0), MAX_RETRY_AFTER)
    except ValueError:
        return None


def _broken_connection(error: BaseException) -> bool:
    import urllib3

    return isinstance(error, urllib3.exceptions.ProtocolError | ConnectionResetError)


def install_retries(api_client: Any) -> Any:
    """Wrap ``api_client``'s REST layer with client-go's retry rules; returns ``api_client``."""
    from kubernetes.client import ApiException

    rest = api_client.rest_client
    if getattr(rest, "_azchaos_retries", False):
        return api_client
    request = rest.request

    def once(method: str, url: str, *args: Any, **kwargs: Any) -> Any:
        try:
            response = request(method, url, *args, **kwargs)
        except ApiException as e:  # the older client raises for any non-2xx answer
            wait = retry_after(e.status, e.headers)
            if wait is not None:
                raise _RetryAfter(wait, e, raised=True) from None
            if e.status and int(e.status) >= 500:
                raise _ServerError(e, raised=True) from None
            raise
        except Exception as e:
            if method == "GET" and _broken_connection(e):
                raise _ConnectionBroke(e) from None
            raise
        status = getattr(response, "status", None)
        wait = retry_after(status, getattr(response, "headers", None))
        if wait is not None:
            raise _RetryAfter(wait, response, raised=False)
        if status is not None and status >= 500:
            raise _ServerError(response, raised=False)
        return response

    def wait_for(state: tenacity.RetryCallState) -> float:
        error = state.outcome.exception() if state.outcome else None
        if isinstance(error, _RetryAfter):
            return error.seconds
        first, most = SERVER_ERROR_BACKOFF
        return min(first * 2 ** (state.attempt_number - 1), most)

    def stop(state: tenacity.RetryCallState) -> bool:
        error = state.outcome.exception() if state.outcome else None
        limit = SERVER_ERROR_ATTEMPTS if isinstance(error, _ServerError) else MAX_RETRIES + 1
        return state.attempt_number >= limit

    def give_up(state: tenacity.RetryCallState) -> Any:
        error = state.outcome.exception() if state.outcome else None
        if isinstance(error, _RetryAfter | _ServerError):
            if error.raised:
                raise error.outcome
            return error.outcome
        if isinstance(error, _ConnectionBroke):
            raise error.error
        raise error  # type: ignore[misc]

    retrying = tenacity.Retrying(stop=stop, wait=wait_for,
                                 retry=tenacity.retry_if_exception_type((_RetryAfter, _ServerError, _ConnectionBroke)),
                                 retry_error_callback=give_up)

    def with_retries(method: str, url: str, *args: Any, **kwargs: Any) -> Any:
        return retrying.copy()(once, method, url, *args, **kwargs)  # a copy per call: threads share the client

    rest.request = with_retries
    rest._azchaos_retries = True
    return api_client


def api_failure(error: BaseException | None) -> str:
    """Why ``error`` (or an exception it was raised from) is the Kubernetes API failing us — a 429/5xx answer
    or a broken connection — or '' when it is something else. Such an error is no evidence about the
    cluster's resilience: the observation that met it is inconclusive."""
    import urllib3
    from kubernetes.client import ApiException

    seen: set[int] = set()
    while error is not None and id(error) not in seen:
        seen.add(id(error))
        if type(error).__module__.split(".")[0] in ("botocore", "boto3"):
            return ""  # AWS, not the Kubernetes API (boto3 rides on urllib3 too)
        if isinstance(error, ApiException) and (error.status in (0, None, 429) or int(error.status) >= 500):
            return f"the Kubernetes API answered {error.status} {error.reason}".strip()
        if isinstance(error, urllib3.exceptions.HTTPError | ConnectionError):
            return f"a request to the Kubernetes API failed: {type(error).__name__}: {error}"
        error = error.__cause__ or error.__context__
    return ""
