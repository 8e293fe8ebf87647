"""Read and set the embedded API server's fault switch (``/azchaos/v1/api-faults``) from a kubeconfig.

The functions here are what ``azchaos local api-faults`` runs and what tests call: they find the API
server in the kubeconfig ``azchaos local up`` (or ``start_cluster``) wrote and talk to the emulator-only
endpoint over plain HTTP. A spec is the endpoint's JSON body::

    {"kinds": {"error500": 0.1, "slow": {"fraction": 0.1, "delay": 2.0}},
     "verbs": ["get", "list"], "path": "/api/v1/namespaces/.*/pods", "seed": 1}

Pytest-free and stdlib-only at import (PyYAML and the spec validator load when used).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import urllib.error
import urllib.request
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

ENDPOINT = "/azchaos/v1/api-faults"
DEFAULT_KUBECONFIG = Path(".azchaos") / "kubeconfig"

State = dict[str, Any]


class ApiFaultsError(RuntimeError):
    """The switch could not be read or set; the message says why and what to do."""


def server_url(kubeconfig: str | os.PathLike[str], context: str | None = None) -> str:
    """The API server URL of ``context`` (default: the current context) in ``kubeconfig``."""
    import yaml  # type: ignore[import-untyped]

    path = Path(kubeconfig)
    hint = (f"pass --kubeconfig PATH of the kubeconfig `azchaos local up` wrote (default {DEFAULT_KUBECONFIG})")
    try:
        doc = yaml.safe_load(path.read_text())
    except FileNotFoundError:
        raise ApiFaultsError(f"kubeconfig {path} does not exist: {hint}") from None
    except (OSError, yaml.YAMLError) as e:
        raise ApiFaultsError(f"cannot read kubeconfig {path} ({e}): {hint}") from None
    if not isinstance(doc, dict):
        raise ApiFaultsError(f"kubeconfig {path} is not a kubeconfig: {hint}")
    name = context or doc.get("current-context")
    contexts = {c.get("name"): c.get("context") or {} for c in doc.get("contexts") or []}
    clusters = {c.get("name"): c.get("cluster") or {} for c in doc.get("clusters") or []}
    ctx = contexts.get(name)
    if ctx is None:
        raise ApiFaultsError(f"kubeconfig {path} has no context {name!r}: {hint}")
    server = clusters.get(ctx.get("cluster"), {}).get("server")
    if not server:
        raise ApiFaultsError(f"kubeconfig {path}: context {name!r} names no cluster server: {hint}")
    if not str(server).startswith("http://"):
        raise ApiFaultsError(
            f"{server} (kubeconfig {path}) is not an embedded azchaos cluster: API faults exist only in the embedded "
            f"cluster, which serves plain HTTP on loopback; {hint}")
    return str(server).rstrip("/")


def _call(kubeconfig: str | os.PathLike[str], method: str, body: Mapping[str, Any] | None = None,
          context: str | None = None, timeout: float = 10.0) -> State:
    url = server_url(kubeconfig, context)
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url + ENDPOINT, data=data, method=method,
                                 headers={"Content-Type": "application/json", "Accept": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            return json.loads(resp.read())
    except urllib.error.HTTPError as e:
        text = e.read().decode(errors="replace")
        try:
            detail = json.loads(text).get("error", text)
        except (ValueError, AttributeError):
            detail = text.strip()
        if e.code == 404:
            raise ApiFaultsError(
                f"the API server at {url} has no {ENDPOINT}: it is not an embedded azchaos cluster (or an older one); "
                f"point --kubeconfig at a cluster started by `azchaos local up`") from None
        raise ApiFaultsError(f"the API server at {url} refused the fault spec: {detail}") from None
    except (urllib.error.URLError, OSError) as e:
        reason = getattr(e, "reason", e)
        raise ApiFaultsError(
            f"cannot reach the API server at {url} ({reason}): is the embedded cluster running? start it with "
            f"`azchaos local up --detach --kubeconfig {kubeconfig}`") from None


def validate_spec(spec: Mapping[str, Any]) -> None:
    """Raise ``ApiFaultsError`` with the server's own message if the API server would refuse ``spec``."""
    from .apiserver.faults import FaultSpec, FaultSpecError

    try:
        FaultSpec.parse(dict(spec))
    except FaultSpecError as e:
        raise ApiFaultsError(str(e)) from None


def get_api_faults(kubeconfig: str | os.PathLike[str], context: str | None = None) -> State:
    """The switch as it stands: kinds, filters, seed, ``requests`` matched and ``injected`` per kind."""
    return _call(kubeconfig, "GET", context=context)


def set_api_faults(kubeconfig: str | os.PathLike[str], spec: Mapping[str, Any], context: str | None = None) -> State:
    """Replace the switch with ``spec`` (counters restart); answer the new state (its ``seed`` replays the run)."""
    validate_spec(spec)
    return _call(kubeconfig, "PUT", spec, context=context)


def clear_api_faults(kubeconfig: str | os.PathLike[str], context: str | None = None) -> State:
    """Switch every fault off; answer the state that was cleared (counters included)."""
    return _call(kubeconfig, "DELETE", context=context)


@contextmanager
def api_faults(kubeconfig: str | os.PathLike[str], spec: Mapping[str, Any]) -> Iterator[State]:
    """Faults on for the ``with`` block, off afterwards even if the block fails."""
    state = set_api_faults(kubeconfig, spec)
    try:
        yield state
    finally:
        clear_api_faults(kubeconfig)


# ---------------------------------------------------------------------- CLI: azchaos local api-faults

DESCRIPTION = """\
Make the embedded cluster's API server answer a fraction of requests as a real one under load does:
500 InternalError, 503 ServiceUnavailable, 429 with Retry-After (API Priority and Fairness), slow answers,
or watch streams cut mid-flight. Only external HTTP clients are affected: the cluster's own controllers,
kubelets and heartbeats work in-process, so nodes stay Ready. The switch is also an HTTP endpoint:
GET/PUT/DELETE <server>/azchaos/v1/api-faults.

examples:
  azchaos local api-faults --error500 0.1 --seed 1          10% of API requests fail with 500
  azchaos local api-faults --throttle429 0.5 --verbs create update patch delete
  azchaos local api-faults --drop-watch 1 --path '/pods'    cut every pod watch after 1 s
  azchaos local api-faults --show                           what is on, how much was injected
  azchaos local api-faults --off
"""

# The verbs the switch knows (apiserver.faults.VERBS, kept here so the CLI parser loads no aiohttp).
_VERBS = ("get", "list", "watch", "create", "update", "patch", "delete", "deletecollection")


def _fraction(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = float("nan")
    if not 0.0 <= value <= 1.0:
        raise argparse.ArgumentTypeError(f"{text!r} is not a fraction: give a number from 0 to 1 "
                                         "(0.1 = 10% of requests)")
    return value


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if value < 0:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of seconds (>= 0)")
    return value


def _verbs(text: str) -> list[str]:
    verbs = [v.strip() for v in text.split(",") if v.strip()]
    bad = [v for v in verbs if v not in _VERBS]
    if bad or not verbs:
        raise argparse.ArgumentTypeError(f"{text!r}: use Kubernetes verbs ({', '.join(_VERBS)})")
    return verbs


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The options of ``azchaos local api-faults``."""
    parser.add_argument("--kubeconfig", default=str(DEFAULT_KUBECONFIG),
                        help=f"kubeconfig the embedded cluster was started with (default: {DEFAULT_KUBECONFIG})")
    kinds = parser.add_argument_group("faults (each FRACTION is 0..1 of the matching requests; a new setting "
                                      "replaces the previous one)")
    kinds.add_argument("--error500", type=_fraction, metavar="FRACTION",
                       help="answer 500 InternalError (Status 'Internal error occurred: ...')")
    kinds.add_argument("--unavailable503", type=_fraction, metavar="FRACTION",
                       help="answer 503 ServiceUnavailable (Status)")
    kinds.add_argument("--throttle429", type=_fraction, metavar="FRACTION",
                       help="answer 429 'Too many requests, please try again later.' with Retry-After, as API "
                            "Priority and Fairness does (exec/log/proxy are left alone, as upstream)")
    kinds.add_argument("--retry-after", type=int, metavar="SECONDS",
                       help="Retry-After of --throttle429 answers (default: 1, as upstream)")
    kinds.add_argument("--slow", type=_fraction, metavar="FRACTION",
                       help="delay requests by --slow-delay before serving them (can add to the other faults)")
    kinds.add_argument("--slow-delay", type=_seconds, metavar="SECONDS",
                       help="how long --slow delays a request (default: 1.0)")
    kinds.add_argument("--drop-watch", type=_fraction, metavar="FRACTION",
                       help="cut watch streams mid-flight (connection closed, as on an apiserver restart); "
                            "clients must re-watch")
    kinds.add_argument("--drop-watch-after", type=_seconds, metavar="SECONDS",
                       help="how long after its start --drop-watch cuts a watch (default: 1.0)")
    where = parser.add_argument_group("which requests (default: every API request; /healthz, /livez, /readyz "
                                      "and /azchaos/ are never faulted)")
    where.add_argument("--verbs", type=_verbs, nargs="+", metavar="VERB",
                       help=f"only these Kubernetes verbs, space- or comma-separated ({', '.join(_VERBS)})")
    where.add_argument("--path", metavar="REGEX",
                       help="only request paths matching this regular expression (re.search), "
                            "e.g. '/namespaces/[^/]+/pods'")
    where.add_argument("--seed", type=int, metavar="N",
                       help="seed of the fault draws: the same seed and requests give the same faults "
                            "(default: random, printed)")
    what = parser.add_argument_group("other actions")
    what.add_argument("--off", action="store_true", help="switch every fault off (prints what was injected)")
    what.add_argument("--show", action="store_true",
                      help="print the current switch and counters (the default when no fault is given)")
    what.add_argument("--json", action="store_true", help="print the switch's state as JSON too")


def _spec_from_args(args: argparse.Namespace) -> tuple[dict[str, Any], str]:
    """The endpoint body the options ask for, or '' and the usage error."""
    kinds: dict[str, Any] = {}
    if args.error500 is not None:
        kinds["error500"] = args.error500
    if args.unavailable503 is not None:
        kinds["unavailable503"] = args.unavailable503
    if args.throttle429 is not None:
        kinds["throttle429"] = {"fraction": args.throttle429}
        if args.retry_after is not None:
            kinds["throttle429"]["retryAfter"] = args.retry_after
    elif args.retry_after is not None:
        return {}, "--retry-after sets the Retry-After of --throttle429: give --throttle429 FRACTION too"
    if args.slow is not None:
        kinds["slow"] = {"fraction": args.slow}
        if args.slow_delay is not None:
            kinds["slow"]["delay"] = args.slow_delay
    elif args.slow_delay is not None:
        return {}, "--slow-delay sets how long --slow delays: give --slow FRACTION too"
    if args.drop_watch is not None:
        kinds["drop-watch"] = {"fraction": args.drop_watch}
        if args.drop_watch_after is not None:
            kinds["drop-watch"]["after"] = args.drop_watch_after
    elif args.drop_watch_after is not None:
        return {}, "--drop-watch-after sets when --drop-watch cuts a watch: give --drop-watch FRACTION too"
    filters = {"verbs": [v for group in args.verbs for v in group] if args.verbs else None,
               "path": args.path, "seed": args.seed}
    given = [f"--{k}" for k, v in filters.items() if v is not None]
    if args.off and (kinds or given):
        return {}, f"--off switches every fault off: drop {', '.join([*map(_flag, kinds), *given])} or --off"
    if given and not kinds:
        return {}, (f"{', '.join(given)} only narrow a fault: give one too, e.g. --error500 0.1 "
                    "(or --show to see the switch)")
    spec: dict[str, Any] = {"kinds": kinds} if kinds else {}
    spec.update({k: v for k, v in filters.items() if v is not None})
    return spec, ""


def _flag(kind: str) -> str:
    return f"--{kind}"


def run(args: argparse.Namespace) -> int:
    """``azchaos local api-faults``: set, show or clear the switch; 2 with the fix on bad input."""
    from .apiserver.faults import describe

    spec, problem = _spec_from_args(args)
    if problem:
        print(f"azchaos: {problem}", file=sys.stderr)
        return 2
    try:
        if args.off:
            state = clear_api_faults(args.kubeconfig)
            before = describe(state).removeprefix("API faults: ")
            print("API faults: off (they were off already)" if before == "off" else
                  f"API faults switched off; they were: {before}")
        elif spec:
            state = set_api_faults(args.kubeconfig, spec)
            print(describe(state))
        else:
            state = get_api_faults(args.kubeconfig)
            print(describe(state))
    except ApiFaultsError as e:
        print(f"azchaos: {e}", file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps(state, indent=2))
    return 0
