"""A small CEL evaluator for ``x-kubernetes-validations`` rules.

Covers what CRD rules usually say: ``self``/``oldSelf`` field access, literals, lists and maps,
``! - * / % + ==  != < <= > >= in && || ?:``, ``has()``, ``size()`` and the string, list and map
methods ``size startsWith endsWith contains matches all exists exists_one``. A rule this evaluator
cannot parse or evaluate (another function, a missing key) is reported as ``Unsupported`` and
skipped: the emulator never rejects an object for a rule it did not understand.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

_TOKEN = re.compile(r"""
    \s*(?:
      (?P<num>\d+\.\d+|\d+u?)
    | (?P<str>"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*')
    | (?P<op>==|!=|<=|>=|&&|\|\||[-+*/%<>!?:.,()\[\]{}])
    | (?P<id>[A-Za-z_][A-Za-z_0-9]*)
    )""", re.X)


class Unsupported(Exception):
    """The rule uses something this evaluator does not implement, or failed to evaluate."""


_MISSING = object()


def _tokens(src: str) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    pos = 0
    src = src.strip()
    while pos < len(src):
        m = _TOKEN.match(src, pos)
        if not m or m.end() == pos:
            raise Unsupported(f"cannot read {src[pos:]!r}")
        pos = m.end()
        kind = m.lastgroup or ""
        out.append((kind, m.group(kind)))
    return out


Node = Callable[[dict[str, Any]], Any]


class _Parser:
    def __init__(self, src: str):
        self.toks = _tokens(src)
        self.i = 0

    def peek(self) -> str | None:
        return self.toks[self.i][1] if self.i < len(self.toks) else None

    def take(self, want: str | None = None) -> tuple[str, str]:
        if self.i >= len(self.toks):
            raise Unsupported("unexpected end")
        tok = self.toks[self.i]
        if want is not None and tok[1] != want:
            raise Unsupported(f"expected {want!r}, got {tok[1]!r}")
        self.i += 1
        return tok

    def parse(self) -> Node:
        node = self.ternary()
        if self.i != len(self.toks):
            raise Unsupported(f"unexpected {self.peek()!r}")
        return node

    def ternary(self) -> Node:
        cond = self.binary(0)
        if self.peek() == "?":
            self.take()
            yes = self.ternary()
            self.take(":")
            no = self.ternary()
            return lambda env: yes(env) if _bool(cond(env)) else no(env)
        return cond

    _LEVELS: tuple[tuple[str, ...], ...] = (("||",), ("&&",), ("==", "!=", "<", "<=", ">", ">=", "in"),
                                            ("+", "-"), ("*", "/", "%"))

    def binary(self, level: int) -> Node:
        if level == len(self._LEVELS):
            return self.unary()
        left = self.binary(level + 1)
        while self.peek() in self._LEVELS[level]:
            op = self.take()[1]
            right = self.binary(level + 1)
            left = _binop(op, left, right)
        return left

    def unary(self) -> Node:
        if self.peek() == "!":
            self.take()
            inner = self.unary()
            return lambda env: not _bool(inner(env))
        if self.peek() == "-":
            self.take()
            inner = self.unary()
            return lambda env: -inner(env)
        return self.postfix(self.primary())

    def args(self) -> list[Node]:
        self.take("(")
        out: list[Node] = []
        while self.peek() != ")":
            out.append(self.ternary())
            if self.peek() == ",":
                self.take()
        self.take(")")
        return out

    def postfix(self, node: Node) -> Node:
        while self.peek() in (".", "["):
            if self.take()[1] == "[":
                index = self.ternary()
                self.take("]")
                node = _index(node, index)
                continue
            name = self.take()[1]
            if self.peek() != "(":
                node = _select(node, name)
                continue
            if name in ("all", "exists", "exists_one"):
                self.take("(")
                var = self.take()[1]
                self.take(",")
                pred = self.ternary()
                self.take(")")
                node = _comprehension(name, node, var, pred)
            else:
                node = _method(name, node, self.args())
        return node

    def primary(self) -> Node:
        kind, text = self.take()
        if kind == "num":
            value: Any = float(text) if "." in text else int(text.rstrip("u"))
            return lambda env: value
        if kind == "str":
            s = bytes(text[1:-1], "utf-8").decode("unicode_escape")
            return lambda env: s
        if text == "(":
            inner = self.ternary()
            self.take(")")
            return inner
        if text == "[":
            items: list[Node] = []
            while self.peek() != "]":
                items.append(self.ternary())
                if self.peek() == ",":
                    self.take()
            self.take("]")
            return lambda env: [f(env) for f in items]
        if kind != "id":
            raise Unsupported(f"unexpected {text!r}")
        if text in ("true", "false", "null"):
            const = {"true": True, "false": False, "null": None}[text]
            return lambda env: const
        if self.peek() == "(":
            if text == "has":
                self.take("(")
                target = self.ternary()
                self.take(")")
                probe = getattr(target, "probe", None)
                if probe is None:
                    raise Unsupported("has() needs a field selection")
                return lambda env: probe(env)
            return _function(text, self.args())
        return lambda env: _lookup(env, text)


def _lookup(env: dict[str, Any], name: str) -> Any:
    if name not in env:
        raise Unsupported(f"undeclared reference to {name!r}")
    return env[name]


def _bool(value: Any) -> bool:
    if not isinstance(value, bool):
        raise Unsupported("no matching overload: a condition must be a bool")
    return value


def _select(node: Node, name: str) -> Node:
    def get(env: dict[str, Any]) -> Any:
        obj = node(env)
        if not isinstance(obj, dict) or name not in obj:
            raise Unsupported(f"no such key: {name}")
        return obj[name]

    def probe(env: dict[str, Any]) -> bool:
        obj = node(env)
        return isinstance(obj, dict) and name in obj

    get.probe = probe  # type: ignore[attr-defined]
    return get


def _index(node: Node, index: Node) -> Node:
    def get(env: dict[str, Any]) -> Any:
        obj, key = node(env), index(env)
        try:
            return obj[key]
        except (KeyError, IndexError, TypeError):
            raise Unsupported("no such key or index") from None

    return get


def _binop(op: str, left: Node, right: Node) -> Node:
    if op == "&&":
        return lambda env: _bool(left(env)) and _bool(right(env))
    if op == "||":
        return lambda env: _bool(left(env)) or _bool(right(env))
    ops: dict[str, Callable[[Any, Any], Any]] = {
        "==": lambda a, b: a == b, "!=": lambda a, b: a != b, "<": lambda a, b: a < b,
        "<=": lambda a, b: a <= b, ">": lambda a, b: a > b, ">=": lambda a, b: a >= b,
        "in": lambda a, b: a in b, "+": lambda a, b: a + b, "-": lambda a, b: a - b, "*": lambda a, b: a * b,
        "/": lambda a, b: a // b if isinstance(a, int) and isinstance(b, int) else a / b,
        "%": lambda a, b: a % b,
    }
    fn = ops[op]

    def run(env: dict[str, Any]) -> Any:
        try:
            return fn(left(env), right(env))
        except (TypeError, ZeroDivisionError):
            raise Unsupported(f"no matching overload for {op}") from None

    return run


def _size(value: Any) -> int:
    if isinstance(value, (str, list, dict)):
        return len(value)
    raise Unsupported("size() of a scalar")


def _method(name: str, target: Node, args: list[Node]) -> Node:
    def run(env: dict[str, Any]) -> Any:
        obj = target(env)
        vals = [a(env) for a in args]
        if name == "size" and not vals:
            return _size(obj)
        if isinstance(obj, str) and len(vals) == 1 and isinstance(vals[0], str):
            if name == "startsWith":
                return obj.startswith(vals[0])
            if name == "endsWith":
                return obj.endswith(vals[0])
            if name == "contains":
                return vals[0] in obj
            if name == "matches":
                return re.search(vals[0], obj) is not None
        raise Unsupported(f"function {name} is not supported")

    return run


def _function(name: str, args: list[Node]) -> Node:
    def run(env: dict[str, Any]) -> Any:
        vals = [a(env) for a in args]
        if name == "size" and len(vals) == 1:
            return _size(vals[0])
        if name == "int" and len(vals) == 1:
            return int(vals[0])
        if name == "string" and len(vals) == 1:
            return str(vals[0])
        raise Unsupported(f"function {name} is not supported")

    return run


def _comprehension(kind: str, target: Node, var: str, pred: Node) -> Node:
    def run(env: dict[str, Any]) -> bool:
        obj = target(env)
        items = list(obj) if isinstance(obj, (list, dict)) else None
        if items is None:
            raise Unsupported(f"{kind}() on a scalar")
        results = [_bool(pred({**env, var: item})) for item in items]
        if kind == "all":
            return all(results)
        if kind == "exists":
            return any(results)
        return results.count(True) == 1

    return run


def evaluate(rule: str, self_value: Any, old_self: Any = _MISSING) -> bool:
    """Whether ``rule`` holds for ``self_value`` (raises ``Unsupported`` when it cannot tell)."""
    env: dict[str, Any] = {"self": self_value}
    if old_self is not _MISSING:
        env["oldSelf"] = old_self
    return _bool(_Parser(rule).parse()(env))
