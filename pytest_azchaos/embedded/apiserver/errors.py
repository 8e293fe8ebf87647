"""Typed API errors that render as Kubernetes ``Status`` objects.

The backend raises these; the HTTP layer renders them. Messages follow the upstream
apiserver (``k8s.io/apimachinery/pkg/api/errors``) word for word, because clients
(kubectl, the official client, our own plugin) match on code, reason and sometimes text.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

T = TypeVar("T")


@dataclass
class Cause:
    """One entry of ``details.causes``."""

    reason: str
    message: str
    field: str | None = None

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"reason": self.reason, "message": self.message}
        if self.field is not None:
            out["field"] = self.field
        return out


@dataclass
class ApiError(Exception):
    """An error the API server answers with a ``Status`` body."""

    code: int
    reason: str
    message: str
    details: dict[str, Any] | None = None
    causes: list[Cause] = field(default_factory=list)
    retry_after: int | None = None

    def __str__(self) -> str:
        return f"{self.code} {self.reason}: {self.message}"

    def status(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "kind": "Status",
            "apiVersion": "v1",
            "metadata": {},
            "status": "Failure",
            "message": self.message,
            "reason": self.reason,
        }
        if not self.reason:  # omitempty: a Status built by hand upstream may carry no reason
            del body["reason"]
        if self.details is not None or self.causes:
            details = dict(self.details or {})
            if self.causes:
                details["causes"] = [c.to_dict() for c in self.causes]
            if self.retry_after is not None:
                details["retryAfterSeconds"] = self.retry_after
            body["details"] = details
        body["code"] = self.code
        return body


def _details(name: str | None, group: str, plural: str) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if name is not None:
        out["name"] = name
    if group:
        out["group"] = group
    out["kind"] = plural
    return out


def qualified(group: str, plural: str) -> str:
    """``pods`` for core, ``deployments.apps`` for a named group (as upstream messages say)."""
    return f"{plural}.{group}" if group else plural


def not_found(group: str, plural: str, name: str) -> ApiError:
    return ApiError(404, "NotFound", f'{qualified(group, plural)} "{name}" not found',
                    _details(name, group, plural))


def already_exists(group: str, plural: str, name: str) -> ApiError:
    return ApiError(409, "AlreadyExists", f'{qualified(group, plural)} "{name}" already exists',
                    _details(name, group, plural))


def conflict(group: str, plural: str, name: str, why: str) -> ApiError:
    return ApiError(
        409,
        "Conflict",
        f'Operation cannot be fulfilled on {qualified(group, plural)} "{name}": {why}',
        _details(name, group, plural),
    )


STALE_OBJECT = "the object has been modified; please apply your changes to the latest version and try again"


def invalid(group: str, kind: str, name: str, causes: list[Cause]) -> ApiError:
    """422 Invalid with the upstream aggregate message (``Kind "name" is invalid: ...``)."""
    parts = [f"{c.field}: {c.message}" if c.field else c.message for c in causes]
    joined = parts[0] if len(parts) == 1 else "[" + ", ".join(parts) + "]"
    details: dict[str, Any] = {"name": name} if name else {}
    if group:
        details["group"] = group
    details["kind"] = kind
    return ApiError(422, "Invalid", f'{kind}.{group} "{name}" is invalid: {joined}' if group
                    else f'{kind} "{name}" is invalid: {joined}', details, causes)


def bad_request(message: str) -> ApiError:
    return ApiError(400, "BadRequest", message)


def method_not_allowed() -> ApiError:
    return ApiError(405, "MethodNotAllowed", "the server does not allow this method on the requested resource",
                    {})


def resource_not_found() -> ApiError:
    return ApiError(404, "NotFound", "the server could not find the requested resource", {})


def gone(message: str) -> ApiError:
    return ApiError(410, "Expired", message)


def forbidden(group: str, plural: str, name: str, why: str) -> ApiError:
    return ApiError(403, "Forbidden", f'{qualified(group, plural)} "{name}" is forbidden: {why}',
                    _details(name, group, plural))


def unsupported_media_type(message: str) -> ApiError:
    return ApiError(415, "UnsupportedMediaType", message, {})


def too_many_requests(message: str, causes: list[Cause], retry_after: int | None = None) -> ApiError:
    return ApiError(429, "TooManyRequests", message, {}, causes, retry_after)


def too_large_resource_version(requested: int, current: int) -> ApiError:
    """504 for a LIST whose resourceVersion the watch cache has not reached (it waited ~3 s upstream)."""
    return ApiError(504, "Timeout", f"Timeout: Too large resource version: {requested}, current: {current}", {},
                    [Cause("ResourceVersionTooLarge", "Too large resource version")], retry_after=1)


RV_TOO_OLD_FOR_LIST = "The resourceVersion for the provided list is too old."


def internal(message: str) -> ApiError:
    return ApiError(500, "InternalError", message, {})


def quiet(write: Callable[[], T]) -> T | None:
    """Run a store write; a 404 or 409 (the object is gone or changed under us) answers None instead.

    The controllers' and the kubelet's way to write: the watch event that follows brings them back.
    """
    try:
        return write()
    except ApiError as e:
        if e.code not in (404, 409):
            raise
        return None
