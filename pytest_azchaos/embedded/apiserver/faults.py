"""API faults on demand: make the API server answer a fraction of requests as an overloaded one does.

A real kube-apiserver under load throttles (429 from API Priority and Fairness), fails (500 from a
struggling etcd, 503), answers slowly (requests queued by APF) and, when it restarts, cuts every
watch stream mid-flight so clients must re-watch or re-list. ``ApiFaults`` is the switch that makes
the embedded API server do the same to a chosen fraction of requests; the emulator-only endpoint
``/azchaos/v1/api-faults`` (GET/PUT/DELETE, served by ``install``'s middleware) reads and sets it.

What is never faulted, and why:

- the fault endpoint itself and every other emulator path under ``/azchaos/`` (a test must always be
  able to turn faults off, stop nodes, read the audit);
- ``/healthz``, ``/livez``, ``/readyz`` (and their sub-checks) and ``/metrics``: upstream exempts them
  from overload on purpose -- the suggested APF FlowSchema ``probes`` maps GET ``/healthz``,
  ``/readyz``, ``/livez`` to the ``exempt`` priority level (``k8s.io/apiserver/pkg/apis/flowcontrol/
  bootstrap/default.go``) and ``WithRetryAfter`` never rejects those prefixes nor ``/metrics``
  (``staging/src/k8s.io/apiserver/pkg/server/filters/with_retry_after.go``);
- the cluster's own components: the controllers, scheduler, kubelets, node heartbeats and data plane
  run in the cluster process and read and write the ``Store`` directly, never over HTTP, so they never
  reach this middleware (as a real control plane's system:masters loopback client is exempt from
  max-in-flight and APF). Nodes therefore stay Ready while every external request fails.

Answers, with their upstream sources:

- ``error500``: ``apierrors.NewInternalError(err)`` as the handlers render it: a ``Status`` with
  ``reason: InternalError``, ``message: "Internal error occurred: <err>"`` and
  ``details.causes: [{message: <err>}]``, code 500;
- ``unavailable503``: ``apierrors.NewServiceUnavailable(reason)``: a ``Status`` with
  ``reason: ServiceUnavailable``, ``message: <reason>``, code 503 (default message: client-go's own
  wording for a 503, ``the server is currently unable to handle the request``);
- ``throttle429``: exactly what APF (``filters/priority-and-fairness.go``) and max-in-flight
  (``filters/maxinflight.go``) send: ``http.Error(w, "Too many requests, please try again later.", 429)``
  with ``Retry-After: 1`` -- a ``text/plain; charset=utf-8`` body with a trailing newline and
  ``X-Content-Type-Options: nosniff``, *not* a ``Status`` object (client-go turns it into a
  ``StatusError`` with reason ``TooManyRequests`` itself). Like APF it leaves long-running requests
  other than watches alone (exec, attach, log, portforward, proxy);
- ``slow``: the request waits ``delay`` seconds before it is served (an APF queue);
- ``drop-watch``: a watch stream is cut ``after`` seconds after its headers went out: the connection
  closes without the final chunk, as when the apiserver process goes away, so the client sees the
  stream break and must re-watch.

Each request that passes the filters (``verbs``, ``path``) draws two numbers from a seeded RNG: one
picks at most one of ``error500``, ``unavailable503``, ``throttle429``, ``drop-watch`` (their fractions
partition [0, 1), so they add up to at most 1), the other decides ``slow``, which can come on top.
The same seed and the same sequence of requests give the same faults.

No pytest here: the embedded cluster process imports this module.
"""

from __future__ import annotations

import asyncio
import json
import random
import re
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from aiohttp import web

ENDPOINT = "/azchaos/v1/api-faults"

Kind = Literal["error500", "unavailable503", "throttle429", "slow", "drop-watch"]
KINDS: tuple[Kind, ...] = ("error500", "unavailable503", "throttle429", "slow", "drop-watch")
# Kinds that replace the answer: they share one draw, in this order.
_EXCLUSIVE: tuple[Kind, ...] = ("error500", "unavailable503", "throttle429", "drop-watch")

VERBS = ("get", "list", "watch", "create", "update", "patch", "delete", "deletecollection")

# Upstream wording (see the module docstring for the sources).
THROTTLE_MESSAGE = "Too many requests, please try again later."
UNAVAILABLE_MESSAGE = "the server is currently unable to handle the request"
INTERNAL_CAUSE = "injected by azchaos api-faults"

# Options each kind takes beside ``fraction``, with their defaults.
_OPTIONS: dict[str, dict[str, Any]] = {
    "error500": {"message": INTERNAL_CAUSE},
    "unavailable503": {"message": UNAVAILABLE_MESSAGE},
    "throttle429": {"retryAfter": 1},
    "slow": {"delay": 1.0},
    "drop-watch": {"after": 1.0},
}

# Never faulted: emulator control paths, and what upstream exempts from overload (probes, metrics).
_EXEMPT_PREFIXES = ("/azchaos/", "/healthz", "/livez", "/readyz", "/metrics")
# kube-apiserver's BasicLongRunningRequestCheck: APF and max-in-flight do not throttle these (watch aside).
_LONG_RUNNING_SUBRESOURCES = frozenset({"attach", "exec", "proxy", "log", "portforward"})
_NAMESPACE_SUBRESOURCES = frozenset({"status", "finalize"})
_METHOD_VERBS = {"POST": "create", "PUT": "update", "PATCH": "patch", "GET": "get", "HEAD": "get", "DELETE": "delete"}

_DROP_AFTER = "azchaos.api-faults.drop-after"
_DROP_HANDLE = "azchaos.api-faults.drop-handle"


class FaultSpecError(ValueError):
    """A fault specification the switch cannot take; the message says what to change."""


@dataclass(frozen=True)
class RequestInfo:
    """What the fault filters look at: the Kubernetes verb and whether the request is long-running."""

    verb: str
    resource: bool
    subresource: str | None = None

    @property
    def watch(self) -> bool:
        return self.verb == "watch"

    @property
    def long_running(self) -> bool:
        """Long-running as kube-apiserver counts it: watches, proxies and connect subresources."""
        return self.verb in ("watch", "proxy") or self.subresource in _LONG_RUNNING_SUBRESOURCES


def request_info(method: str, path: str, query: Mapping[str, str]) -> RequestInfo:
    """The verb of a request as the apiserver's ``RequestInfoFactory`` names it (``list`` vs ``get``,
    ``watch``, ``deletecollection``); non-resource requests get the lowercase method."""
    parts = [p for p in path.split("/") if p]
    if len(parts) >= 3 and parts[0] == "api":
        rest = parts[2:]
    elif len(parts) >= 4 and parts[0] == "apis":
        rest = parts[3:]
    else:
        return RequestInfo(method.lower(), False)
    if rest[0] in ("watch", "proxy"):  # legacy /api/v1/watch/... and /proxy/... paths
        return RequestInfo(rest[0], True)
    if rest[0] == "namespaces" and len(rest) > 2 and rest[2] not in _NAMESPACE_SUBRESOURCES:
        rest = rest[2:]
    name = rest[1] if len(rest) > 1 else None
    sub = rest[2] if len(rest) > 2 else None
    verb = _METHOD_VERBS.get(method.upper(), method.lower())
    watch = (query.get("watch") or "").lower() in ("true", "1")
    if verb == "get" and watch:
        verb = "watch"
    elif verb == "get" and name is None:
        verb = "list"
    elif verb == "delete" and name is None:
        verb = "deletecollection"
    return RequestInfo(verb, True, sub)


@dataclass(frozen=True)
class KindSpec:
    """One fault kind switched on: the fraction of matching requests it hits and its options."""

    kind: Kind
    fraction: float
    options: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"fraction": self.fraction, **self.options}


def _number(value: Any, what: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise FaultSpecError(f"{what} must be a number, not {value!r}")
    return float(value)


def _kind_spec(kind: str, value: Any) -> KindSpec:
    if kind not in KINDS:
        raise FaultSpecError(f"unknown fault kind {kind!r}: use one of {', '.join(KINDS)}")
    options = dict(_OPTIONS[kind])
    if isinstance(value, dict):
        value = dict(value)
        if "fraction" not in value:
            raise FaultSpecError(f"{kind}: give a fraction, e.g. {{\"fraction\": 0.1}}")
        raw = value.pop("fraction")
        for key, given in value.items():
            if key not in options:
                known = ", ".join(["fraction", *options]) or "fraction"
                raise FaultSpecError(f"{kind}: unknown option {key!r}; it takes {known}")
            options[key] = given
    else:
        raw = value
    fraction = _number(raw, f"{kind} fraction")
    if not 0.0 <= fraction <= 1.0:
        raise FaultSpecError(f"{kind} fraction {fraction:g} is outside 0..1: give the share of requests to hit, "
                             "e.g. 0.1 for 10%")
    if kind == "slow":
        delay = _number(options["delay"], "slow delay")
        if not 0.0 <= delay <= 600.0:
            raise FaultSpecError(f"slow delay {delay:g} s is outside 0..600 seconds")
        options["delay"] = delay
    elif kind == "drop-watch":
        after = _number(options["after"], "drop-watch after")
        if not 0.0 <= after <= 3600.0:
            raise FaultSpecError(f"drop-watch after {after:g} s is outside 0..3600 seconds")
        options["after"] = after
    elif kind == "throttle429":
        retry = options["retryAfter"]
        if isinstance(retry, bool) or not isinstance(retry, int) or not 0 <= retry <= 3600:
            raise FaultSpecError(f"throttle429 retryAfter must be whole seconds from 0 to 3600, not {retry!r}")
    else:
        message = options["message"]
        if not isinstance(message, str) or not message:
            raise FaultSpecError(f"{kind} message must be a non-empty string, not {message!r}")
    return KindSpec(kind, fraction, options)  # type: ignore[arg-type]


@dataclass(frozen=True)
class FaultSpec:
    """A validated fault configuration: kinds switched on, filters, seed."""

    kinds: dict[str, KindSpec] = field(default_factory=dict)
    verbs: tuple[str, ...] | None = None
    path: str | None = None
    seed: int | None = None

    @classmethod
    def parse(cls, body: Any) -> FaultSpec:
        """Validate a JSON body such as ``{"kinds": {"error500": 0.1, "slow": {"fraction": 0.1, "delay": 2}},
        "verbs": ["get", "list"], "path": "/api/v1/namespaces/.*/pods", "seed": 1}``."""
        if not isinstance(body, dict):
            raise FaultSpecError("the body must be a JSON object like {\"kinds\": {\"error500\": 0.1}}")
        unknown = set(body) - {"kinds", "verbs", "path", "seed"}
        if unknown:
            raise FaultSpecError(f"unknown field(s) {', '.join(sorted(unknown))}: the body takes kinds, verbs, "
                                 "path and seed")
        kinds_in = body.get("kinds") or {}
        if not isinstance(kinds_in, dict):
            raise FaultSpecError("kinds must be an object of kind -> fraction (or {\"fraction\": F, ...})")
        kinds = {k: _kind_spec(k, v) for k, v in kinds_in.items()}
        total = sum(s.fraction for s in kinds.values() if s.kind in _EXCLUSIVE)
        if total > 1.0 + 1e-9:
            raise FaultSpecError(
                f"the fractions of {', '.join(_EXCLUSIVE)} add up to {total:g}: each request gets at most one of "
                "them, so together they must be at most 1 (slow can come on top)")
        verbs = body.get("verbs")
        if verbs is not None:
            if isinstance(verbs, str) or not isinstance(verbs, list) or not verbs:
                raise FaultSpecError(f"verbs must be a non-empty list of Kubernetes verbs ({', '.join(VERBS)})")
            bad = [v for v in verbs if v not in VERBS]
            if bad:
                raise FaultSpecError(f"unknown verb(s) {', '.join(map(str, bad))}: use Kubernetes verbs "
                                     f"({', '.join(VERBS)})")
            verbs = tuple(dict.fromkeys(verbs))
        path = body.get("path")
        if path is not None:
            if not isinstance(path, str) or not path:
                raise FaultSpecError("path must be a non-empty regular expression (matched with re.search)")
            try:
                re.compile(path)
            except re.error as e:
                raise FaultSpecError(f"path {path!r} is not a valid regular expression: {e}")
        seed = body.get("seed")
        if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int)):
            raise FaultSpecError(f"seed must be an integer, not {seed!r}")
        return cls(kinds, verbs, path, seed)


@dataclass(frozen=True)
class Decision:
    """What to do to one request: an answer to replace it with (or none), and a delay before."""

    kind: Kind | None = None
    delay: float = 0.0


class ApiFaults:
    """The switch: current spec, seeded RNG and counters. Lives in the API server; no I/O of its own."""

    def __init__(self) -> None:
        self.spec = FaultSpec()
        self._rng = random.Random()
        self._path: re.Pattern[str] | None = None
        self.seed: int | None = None
        self.requests = 0
        self.injected: dict[str, int] = dict.fromkeys(KINDS, 0)
        self._pending: set[asyncio.TimerHandle] = set()

    @property
    def active(self) -> bool:
        """True when some kind has a fraction above 0."""
        return any(s.fraction > 0 for s in self.spec.kinds.values())

    def configure(self, spec: FaultSpec) -> None:
        """Replace the configuration; counters restart and the RNG is seeded (a random seed when none given,
        reported in ``state()`` so the run can be replayed)."""
        self.cancel_pending()
        self.spec = spec
        self._path = re.compile(spec.path) if spec.path else None
        self.seed = spec.seed if spec.seed is not None else random.SystemRandom().randrange(2**32)
        self._rng = random.Random(self.seed)
        self.requests = 0
        self.injected = dict.fromkeys(KINDS, 0)

    def clear(self) -> None:
        """Switch every fault off and reset the counters."""
        self.configure(FaultSpec(seed=0))
        self.seed = None

    def cancel_pending(self) -> None:
        """Forget watch cuts that were decided but have not happened yet."""
        for handle in self._pending:
            handle.cancel()
        self._pending.clear()

    def matches(self, path: str, info: RequestInfo) -> bool:
        """True when ``path``/``info`` pass the filters and are not exempt."""
        if path.startswith(_EXEMPT_PREFIXES):
            return False
        if self.spec.verbs is not None and info.verb not in self.spec.verbs:
            return False
        return self._path is None or self._path.search(path) is not None

    def decide(self, info: RequestInfo) -> Decision:
        """Draw this request's fate (two draws, always, so a seed replays the same sequence)."""
        self.requests += 1
        pick, slow_draw = self._rng.random(), self._rng.random()
        kinds = self.spec.kinds
        chosen: Kind | None = None
        edge = 0.0
        for kind in _EXCLUSIVE:
            spec = kinds.get(kind)
            if spec is None:
                continue
            edge += spec.fraction
            if pick < edge:
                chosen = kind
                break
        if chosen == "drop-watch" and not info.watch:
            chosen = None
        if chosen == "throttle429" and info.long_running and not info.watch:
            chosen = None  # APF and max-in-flight let exec/log/proxy through
        if chosen is not None and chosen != "drop-watch":
            self.injected[chosen] += 1
        slow = kinds.get("slow")
        delay = 0.0
        if slow is not None and slow_draw < slow.fraction:
            delay = float(slow.options["delay"])
            self.injected["slow"] += 1
        return Decision(chosen, delay)

    def state(self) -> dict[str, Any]:
        """The switch as the endpoint answers it: spec, seed and counters."""
        return {
            "active": self.active,
            "kinds": {k: s.to_dict() for k, s in self.spec.kinds.items()},
            "verbs": list(self.spec.verbs) if self.spec.verbs is not None else None,
            "path": self.spec.path,
            "seed": self.seed,
            "requests": self.requests,
            "injected": dict(self.injected),
        }

    # ------------------------------------------------------------------ answers

    def answer(self, kind: Kind) -> web.Response:
        """The response a real apiserver gives for ``kind`` (see the module docstring)."""
        options = self.spec.kinds[kind].options
        if kind == "throttle429":
            headers = {"Retry-After": str(options["retryAfter"]), "X-Content-Type-Options": "nosniff"}
            return web.Response(status=429, text=THROTTLE_MESSAGE + "\n", content_type="text/plain", charset="utf-8",
                                headers=headers)
        if kind == "error500":
            cause = options["message"]
            return _status(500, "InternalError", f"Internal error occurred: {cause}", {"causes": [{"message": cause}]})
        return _status(503, "ServiceUnavailable", options["message"])

    def schedule_drop(self, request: web.Request, after: float) -> None:
        """Cut ``request``'s stream ``after`` seconds from now (its headers are out)."""
        loop = asyncio.get_running_loop()

        def cut() -> None:
            self._pending.discard(handle)
            transport = request.transport
            if transport is not None and not transport.is_closing():
                self.injected["drop-watch"] += 1
                transport.close()  # no final chunk: the client sees the stream break, as on an apiserver restart

        handle = loop.call_later(after, cut)
        self._pending.add(handle)
        request[_DROP_HANDLE] = handle

    def forget_drop(self, request: web.Request) -> None:
        """The watch ended by itself: its connection may carry other requests now, so never cut it later."""
        handle = request.get(_DROP_HANDLE)
        if handle is not None:
            handle.cancel()
            self._pending.discard(handle)


def _status(code: int, reason: str, message: str, details: dict[str, Any] | None = None) -> web.Response:
    body: dict[str, Any] = {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
                            "message": message, "reason": reason}
    if details is not None:
        body["details"] = details
    body["code"] = code
    return web.Response(body=json.dumps(body, separators=(",", ":")).encode(), status=code,
                        content_type="application/json")


# ---------------------------------------------------------------------- HTTP glue

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


async def _endpoint(faults: ApiFaults, request: web.Request) -> web.StreamResponse:
    """``/azchaos/v1/api-faults``: GET the state; PUT a spec (replaces the previous one, counters restart);
    DELETE switches every fault off and answers the state it cleared (so no count is lost)."""
    if request.method == "GET":
        return web.json_response(faults.state())
    if request.method == "DELETE":
        before = faults.state()
        faults.clear()
        return web.json_response(before)
    if request.method != "PUT":
        return web.json_response({"error": f"{request.method} is not supported here: use GET, PUT or DELETE"},
                                 status=405, headers={"Allow": "GET, PUT, DELETE"})
    try:
        body = json.loads(await request.read() or b"{}")
    except ValueError as e:
        example = '{"kinds": {"error500": 0.1}}'
        return web.json_response({"error": f"the body is not JSON ({e}): send e.g. {example}"}, status=400)
    try:
        spec = FaultSpec.parse(body)
    except FaultSpecError as e:
        return web.json_response({"error": str(e)}, status=400)
    faults.configure(spec)
    return web.json_response(faults.state())


def install(app: web.Application, faults: ApiFaults) -> None:
    """Serve the fault endpoint on ``app`` and apply ``faults`` to every other request that reaches it.

    Install before any other middleware so the endpoint and the exemptions come first.
    """

    @web.middleware
    async def api_faults(request: web.Request, handler: Handler) -> web.StreamResponse:
        path = request.path
        if path.rstrip("/") == ENDPOINT:
            return await _endpoint(faults, request)
        if not faults.active:
            return await handler(request)
        info = request_info(request.method, path, request.query)
        if not faults.matches(path, info):
            return await handler(request)
        decision = faults.decide(info)
        if decision.delay:
            await asyncio.sleep(decision.delay)
        if decision.kind is not None and decision.kind != "drop-watch":
            return faults.answer(decision.kind)
        if decision.kind is None:
            return await handler(request)
        request[_DROP_AFTER] = float(faults.spec.kinds["drop-watch"].options["after"])  # cut once it started
        try:
            return await handler(request)
        finally:
            faults.forget_drop(request)

    async def on_prepare(request: web.Request, response: web.StreamResponse) -> None:
        after = request.get(_DROP_AFTER)
        if after is not None:
            faults.schedule_drop(request, after)

    app.middlewares.insert(0, api_faults)
    app.on_response_prepare.append(on_prepare)


def describe(state: Mapping[str, Any]) -> str:
    """One line for people: what is switched on, where, and how much was injected."""
    kinds: Mapping[str, Any] = state.get("kinds") or {}
    on = [(k, v) for k, v in kinds.items() if v.get("fraction", 0) > 0]
    if not on:
        return "API faults: off"
    parts: list[str] = []
    for kind, v in on:
        text = f"{kind} {v['fraction'] * 100:g}%"
        if kind == "slow":
            text += f" ({v['delay']:g} s)"
        elif kind == "drop-watch":
            text += f" (after {v['after']:g} s)"
        elif kind == "throttle429":
            text += f" (Retry-After: {v['retryAfter']})"
        parts.append(text)
    where: list[str] = []
    if state.get("verbs"):
        where.append("verbs " + ",".join(state["verbs"]))
    if state.get("path"):
        where.append(f"path ~ {state['path']}")
    injected: Mapping[str, int] = state.get("injected") or {}
    counts = ", ".join(f"{k} {n}" for k, n in injected.items() if n) or "none yet"
    return (f"API faults: {'; '.join(parts)} of {' and '.join(where) if where else 'all API requests'} "
            f"(seed {state.get('seed')}); requests matched: {state.get('requests', 0)}, injected: {counts}")
