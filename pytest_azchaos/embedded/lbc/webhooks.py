"""Mutating admission webhooks as the API server calls them (``admissionregistration.k8s.io/v1``).

``MutatingWebhookConfiguration`` objects are served and stored like any other; on every create the
dispatcher (``k8s.io/apiserver/pkg/admission/plugin/webhook/mutating/dispatcher.go``) walks their
webhooks in order: a webhook applies when one of its rules names the resource and operation and its
``namespaceSelector`` / ``objectSelector`` match. The call goes to a ready endpoint of the webhook's
Service; what answers there is the container bound to that pod address and port (``WebhookServers``:
the embedded images register their handlers, so no TLS is spoken, the AdmissionReview round trip is a
function call). Failures are worded as upstream words them:

- no ready endpoint: ``failed calling webhook "<name>": failed to call webhook: Post
  "https://<svc>.<ns>.svc:443/<path>?timeout=10s": no endpoints available for service "<svc>"``
  (the service resolver's error inside the dispatcher's ``ErrCallingWebhook``);
- nothing listening on the endpoint: ``... dial tcp <ip>:<port>: connect: connection refused``.

``failurePolicy: Fail`` refuses the request with ``apierrors.NewInternalError`` (500 ``InternalError``,
``Internal error occurred: <err>``, the error as the one cause); ``Ignore`` lets it through unchanged.
The response's JSONPatch is applied to the object.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from ..apiserver.errors import ApiError
from ..apiserver.patch_json import json_patch
from ..apiserver.resources import REGISTRY, ResourceType
from ..apiserver.selectors import label_selector_matches
from ..apiserver.store import Store

log = logging.getLogger(__name__)
Obj = dict[str, Any]
MUTATING_WEBHOOKS = ResourceType(
    "admissionregistration.k8s.io", "v1", "mutatingwebhookconfigurations", "mutatingwebhookconfiguration",
    "MutatingWebhookConfiguration", False, categories=("api-extensions",))
KEY = MUTATING_WEBHOOKS.key
# A handler: (path, AdmissionReview request) -> the review's response ({"allowed", "patch" (ops), "status"}).
Handler = Callable[[str, Obj], Obj]


def serve_webhook_configurations() -> None:
    """Serve ``mutatingwebhookconfigurations`` (idempotent)."""
    if REGISTRY.lookup(MUTATING_WEBHOOKS.group, "v1", MUTATING_WEBHOOKS.plural) is None:
        REGISTRY.add(MUTATING_WEBHOOKS)


class WebhookServers:
    """Which container answers webhook calls on ``(pod address, port)``."""

    def __init__(self) -> None:
        self._handlers: dict[tuple[str, int], Handler] = {}

    def bind(self, address: str, port: int, handler: Handler) -> None:
        self._handlers[(address, port)] = handler

    def unbind(self, address: str, port: int) -> None:
        self._handlers.pop((address, port), None)

    def get(self, address: str, port: int) -> Handler | None:
        return self._handlers.get((address, port))


def _rule_matches(rule: Obj, rtype: ResourceType, operation: str) -> bool:
    def has(values: list[str] | None, want: str) -> bool:
        return bool(values) and ("*" in values or want in values)  # type: ignore[operator]

    return (has(rule.get("apiGroups"), rtype.group) and has(rule.get("apiVersions"), rtype.version)
            and has(rule.get("resources"), rtype.plural) and has(rule.get("operations"), operation))


class WebhookDispatcher:
    """The mutating webhook admission plugin for creates (registered as a store admission hook)."""

    def __init__(self, store: Store, servers: WebhookServers):
        self.store = store
        self.servers = servers
        self.calls = 0

    def __call__(self, rtype: ResourceType, namespace: str, obj: Obj) -> None:
        configs = sorted(self.store.scan(KEY), key=lambda c: c["metadata"]["name"])
        for config in configs:
            for hook in config.get("webhooks") or []:
                if self._applies(hook, rtype, namespace, obj):
                    self._call(hook, rtype, namespace, obj)

    def _applies(self, hook: Obj, rtype: ResourceType, namespace: str, obj: Obj) -> bool:
        if not any(_rule_matches(r, rtype, "CREATE") for r in hook.get("rules") or []):
            return False
        labels = (obj.get("metadata") or {}).get("labels") or {}
        if not label_selector_matches(hook.get("objectSelector") or {}, labels):
            return False
        if rtype.namespaced:
            ns = self.store.peek("namespaces", "", namespace)
            ns_labels = dict((ns or {}).get("metadata", {}).get("labels") or {})
            ns_labels.setdefault("kubernetes.io/metadata.name", namespace)
            if not label_selector_matches(hook.get("namespaceSelector") or {}, ns_labels):
                return False
        return True

    def _call(self, hook: Obj, rtype: ResourceType, namespace: str, obj: Obj) -> None:
        ref = (hook.get("clientConfig") or {}).get("service") or {}
        svc_name, svc_ns = ref.get("name", ""), ref.get("namespace", "")
        path, port = ref.get("path") or "/", int(ref.get("port") or 443)
        timeout = int(hook.get("timeoutSeconds") or 10)
        url = f"https://{svc_name}.{svc_ns}.svc:{port}{path}?timeout={timeout}s"
        try:
            handler = self._resolve(svc_ns, svc_name, port)
        except _CallError as e:
            self._fail(hook, f'Post "{url}": {e}')
            return
        self.calls += 1
        request = {"uid": obj.get("metadata", {}).get("uid", ""), "operation": "CREATE", "namespace": namespace,
                   "kind": {"group": rtype.group, "version": rtype.version, "kind": rtype.kind},
                   "resource": {"group": rtype.group, "version": rtype.version, "resource": rtype.plural},
                   "object": obj}
        try:
            response = handler(path, request)
        except Exception as e:  # the webhook server failed: as a 500 from it
            log.exception("webhook %s failed", hook.get("name"))
            self._fail(hook, f'Post "{url}": {e}')
            return
        if not response.get("allowed", False):
            status = response.get("status") or {}
            code = int(status.get("code") or 400)
            raise ApiError(code, status.get("reason") or "", f'admission webhook "{hook.get("name")}" denied the '
                           f'request: {status.get("message", "")}'.rstrip(": "))
        if response.get("patch"):
            patched = json_patch(obj, response["patch"])
            obj.clear()
            obj.update(patched)

    def _resolve(self, namespace: str, name: str, port: int) -> Handler:
        svc = self.store.peek("services", namespace, name)
        if svc is None:
            raise _CallError(f'service "{name}" not found')
        spec_port = next((p for p in (svc.get("spec") or {}).get("ports") or [] if int(p.get("port", 0)) == port),
                         None)
        if spec_port is None:
            raise _CallError(f'no service port {port} found for service "{name}"')
        for s in self.store.scan("endpointslices.discovery.k8s.io", namespace):
            if (s["metadata"].get("labels") or {}).get("kubernetes.io/service-name") != name:
                continue
            target = next((int(p["port"]) for p in s.get("ports") or []
                           if (p.get("name") or "") == (spec_port.get("name") or "")), None)
            for ep in s.get("endpoints") or []:
                if (ep.get("conditions") or {}).get("ready") is False or target is None:
                    continue
                for address in ep.get("addresses") or []:
                    handler = self.servers.get(address, target)
                    if handler is None:
                        raise _CallError(f"dial tcp {address}:{target}: connect: connection refused")
                    return handler
        raise _CallError(f'no endpoints available for service "{name}"')

    @staticmethod
    def _fail(hook: Obj, reason: str) -> None:
        message = f'failed calling webhook "{hook.get("name")}": failed to call webhook: {reason}'
        if hook.get("failurePolicy", "Fail") == "Ignore":
            log.info("ignoring webhook failure (failurePolicy Ignore): %s", message)
            return
        raise ApiError(500, "InternalError", f"Internal error occurred: {message}", {"causes": [{"message": message}]})


class _CallError(Exception):
    pass
