"""``pods/log``: what ``kubectl logs`` reads, served from the running (or previous) container's buffer."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from aiohttp import web

from ..apiserver import errors

if TYPE_CHECKING:
    from ..apiserver.server import ApiServer, Request
    from .kubelet import KubeletManager
    from .pod_worker import ContainerRuntime


# kubelet_pods.go validateContainerLogStatus: the two most common pending failures get their own words.
_WAITING_WORDS = {"ErrImagePull": "image can't be pulled", "ImagePullBackOff": "trying and failing to pull image"}


def waiting_message(pod_name: str, container: str, reason: str) -> str:
    """The BadRequest message for the log of a container waiting with ``reason``."""
    return f'container "{container}" in pod "{pod_name}" is waiting to start: {_WAITING_WORDS.get(reason, reason)}'


def _not_started(pod_name: str, container: str, pod: dict[str, Any], rt: ContainerRuntime | None) -> str:
    """Why a container that never ran has no log, from its waiting state: the kubelet's own record when
    it runs the pod, else the pod's published status (as upstream falls back to the apiserver's copy)."""
    reason: str | None = None
    if rt is not None and rt.waiting is not None:
        reason = rt.waiting[0]
    else:
        status = pod.get("status") or {}
        for cs in [*(status.get("containerStatuses") or []), *(status.get("initContainerStatuses") or [])]:
            if cs.get("name") == container:
                reason = ((cs.get("state") or {}).get("waiting") or {}).get("reason")
                break
    return waiting_message(pod_name, container, reason or "ContainerCreating")


def log_handler(kubelets: KubeletManager):  # -> SubresourceHandler
    async def handle(req: Request, server: ApiServer) -> web.StreamResponse:
        assert req.name is not None
        ns = req.namespace or ""
        pod = server.store.get(req.rtype, ns, req.name)
        q = req.query
        spec = pod["spec"]
        names = [c["name"] for c in spec.get("containers") or []]
        init = [c["name"] for c in spec.get("initContainers") or []]
        ephemeral = [c["name"] for c in spec.get("ephemeralContainers") or []]
        container = q.get("container")
        # pkg/registry/core/pod/rest LogLocation: the only container by default, init containers by name.
        if container is None:
            if len(names) != 1:
                message = f"a container name must be specified for pod {req.name}"
                if names:
                    message += f", choose one of: [{' '.join(names)}]"
                    if init:
                        message += f" or one of the init containers: [{' '.join(init)}]"
                raise errors.bad_request(message)
            container = names[0]
        elif container not in names + init + ephemeral:
            raise errors.bad_request(f"container {container} is not valid for pod {req.name}")
        worker = kubelets.find_worker(ns, req.name)
        rt = worker.container(container) if worker is not None else None
        if rt is None or rt.container is None:
            raise errors.bad_request(_not_started(req.name, container, pod, rt))
        tail = q.get("tailLines")
        text = rt.container.logs.render(timestamps=q.get("timestamps") == "true",
                                        tail=int(tail) if tail and tail.isdigit() else None)
        return web.Response(text=text, content_type="text/plain")

    return handle
