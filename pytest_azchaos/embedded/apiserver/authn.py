"""``authentication.k8s.io/v1``: SelfSubjectReview (``kubectl auth whoami``) and TokenReview.

The embedded API server authorizes every request (there is no RBAC), but it knows one credential: the
bearer token of the kubeconfig it writes (``process.kubeconfig_document``). That token authenticates as the
cluster admin a kubeadm cluster hands out, ``kubernetes-admin`` in ``system:masters``, plus
``system:authenticated`` that upstream's authenticated-group adder appends to every authenticated user.

* SelfSubjectReview (``pkg/registry/authentication/selfsubjectreview/rest.go``) answers 201 with the
  request's own user and ``metadata.creationTimestamp`` set to now. The server speaks plain HTTP, and
  client-go (so kubectl) only sends a kubeconfig's credentials over TLS: a request without credentials is
  therefore the kubeconfig's user too, the cluster admin, which is also what the emulator lets every request
  do. A request with another bearer token is 401 Unauthorized, as the authentication filter answers it.
* TokenReview (``pkg/registry/authentication/tokenreview/storage.go``) answers 201 with the review and its
  status: ``authenticated: true`` with the user and audiences for the cluster's token, else
  ``authenticated`` omitted, ``user: {}`` and the bearer-token authenticator's ``invalid bearer token``.
  An empty token is 400 ``token is required for TokenReview in authentication``.

Nothing is stored: both kinds are create-only and never appear in a list or watch.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from aiohttp import web

from ...wellknown import EMBEDDED_TOKEN
from ..objects import now_rfc3339
from . import errors
from .store import dumps

if TYPE_CHECKING:
    from .server import ApiServer, Request

Obj = dict[str, Any]

# The bearer token of the kubeconfig the embedded cluster writes (process.kubeconfig_document).
CLUSTER_TOKEN = EMBEDDED_TOKEN
ADMIN_USER = "kubernetes-admin"
ADMIN_GROUPS = ("system:masters", "system:authenticated")
# --api-audiences default: the service-account issuer of a kubeadm cluster.
API_AUDIENCES = ("https://kubernetes.default.svc.cluster.local",)
INVALID_BEARER_TOKEN = "invalid bearer token"  # k8s.io/apiserver/pkg/authentication/request/bearertoken


def unauthorized() -> errors.ApiError:
    """What the authentication filter answers a request whose credentials are not valid."""
    return errors.ApiError(401, "Unauthorized", "Unauthorized")


def bearer_token(request: web.Request) -> str | None:
    """The request's bearer token ("" for a malformed Authorization header), None without one."""
    header = request.headers.get("Authorization")
    if header is None:
        return None
    scheme, _, token = header.strip().partition(" ")
    return token.strip() if scheme.lower() == "bearer" else ""


def token_user(token: str) -> Obj | None:
    """The UserInfo a bearer token authenticates as, None if it does not authenticate."""
    if token != CLUSTER_TOKEN:
        return None
    return {"username": ADMIN_USER, "groups": list(ADMIN_GROUPS)}


def request_user(request: web.Request) -> Obj:
    """The UserInfo of the request's credentials (the admin without any, see above); 401 for a bad token."""
    token = bearer_token(request)
    user = token_user(CLUSTER_TOKEN if token is None else token)
    if user is None:
        raise unauthorized()
    return user


def _created(body: Obj) -> web.Response:
    return web.Response(body=dumps(body), status=201, content_type="application/json")


async def self_subject_review_handler(req: Request, server: ApiServer) -> web.StreamResponse:
    user = request_user(req.http)
    obj = await server._read_body(req)
    server._check_kind(req, obj)
    return _created({"kind": "SelfSubjectReview", "apiVersion": "authentication.k8s.io/v1",
                     "metadata": {"creationTimestamp": now_rfc3339()}, "status": {"userInfo": user}})


async def token_review_handler(req: Request, server: ApiServer) -> web.StreamResponse:
    request_user(req.http)
    obj = await server._read_body(req)
    server._check_kind(req, obj)
    spec = obj.get("spec") or {}
    token = spec.get("token") or ""
    if not token:
        raise errors.bad_request("token is required for TokenReview in authentication")
    wanted = list(spec.get("audiences") or API_AUDIENCES)
    user = token_user(token)
    matched = [a for a in wanted if a in API_AUDIENCES]
    status: Obj
    if user is not None and matched:
        status = {"authenticated": True, "user": user, "audiences": matched}
    else:
        # A token for other audiences fails without an error of its own (WrapAudienceAgnosticToken); the
        # bearer-token authenticator then reports the default error.
        status = {"user": {}, "error": INVALID_BEARER_TOKEN}
    out: Obj = {"kind": "TokenReview", "apiVersion": "authentication.k8s.io/v1",
                "metadata": obj.get("metadata") or {}, "spec": spec, "status": status}
    return _created(out)


def register(server: ApiServer) -> None:
    server.creators["selfsubjectreviews.authentication.k8s.io"] = self_subject_review_handler
    server.creators["tokenreviews.authentication.k8s.io"] = token_review_handler
