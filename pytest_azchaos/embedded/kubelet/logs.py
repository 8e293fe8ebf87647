"""``pods/log``: what ``kubectl logs`` reads, served from the running (or previous) container's buffer."""

from __future__ import annotations

from typing import TYPE_CHECKING

from aiohttp import web

from ..apiserver import errors

if TYPE_CHECKING:
    from ..apiserver.server import ApiServer, Request
    from .kubelet import KubeletManager


def log_handler(kubelets: KubeletManager):  # -> SubresourceHandler
    async def handle(req: Request, server: ApiServer) -> web.StreamResponse:
        assert req.name is not None
        ns = req.namespace or ""
        pod = server.store.get(req.rtype, ns, req.name)
        q = req.query
        names = [c["name"] for c in pod["spec"].get("containers") or []]
        container = q.get("container")
        if container is None:
            if len(names) > 1:
                raise errors.bad_request(
                    f"a container name must be specified for pod {req.name}, choose one of: [{' '.join(names)}]")
            container = names[0] if names else ""
        elif container not in names:
            raise errors.bad_request(f"container {container} is not valid for pod {req.name}")
        worker = kubelets.find_worker(ns, req.name)
        rt = worker.container(container) if worker is not None else None
        if rt is None or rt.container is None:
            reason = "ContainerCreating"
            raise errors.bad_request(
                f'container "{container}" in pod "{req.name}" is waiting to start: {reason}')
        tail = q.get("tailLines")
        text = rt.container.logs.render(timestamps=q.get("timestamps") == "true",
                                        tail=int(tail) if tail and tail.isdigit() else None)
        return web.Response(text=text, content_type="text/plain")

    return handle
