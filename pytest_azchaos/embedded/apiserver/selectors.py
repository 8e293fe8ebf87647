"""Label and field selectors, parsed and matched as upstream's ``labels`` and ``fields`` packages do.

The one home of label selector semantics: the ``?labelSelector=`` text of a list or watch, a
``metav1.LabelSelector`` object (``label_selector_matches``: a nil selector matches nothing, an
empty one everything) and a plain ``map[string]string`` selector (``set_selector_matches``:
Service, ReplicationController, a pod's nodeSelector). Node selector requirements use the same
``requirement_matches``. Error texts are the apimachinery ones, since clients show them to users
verbatim.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from . import validation_text as vt
from .errors import bad_request

# ---------------------------------------------------------------- label selectors

_SPECIAL = {"!": "!", "!=": "!=", "=": "=", "==": "==", "(": "(", ")": ")", ",": ",", ">": "gt", "<": "lt"}
_END = "end of string"


@dataclass(frozen=True)
class Requirement:
    key: str
    op: str  # "=", "!=", "in", "notin", "exists", "!", "gt", "lt"
    values: tuple[str, ...] = ()

    def matches(self, labels: Mapping[str, str]) -> bool:
        return requirement_matches(self.key, self.op, self.values, labels)


def requirement_matches(key: str | None, op: str, values: Sequence[str], labels: Mapping[str, str]) -> bool:
    """``labels.Requirement.Matches``; ``op`` as the selector text spells it (an unknown one matches nothing).

    ``gt``/``lt`` need exactly one value and compare integers (a label that is no integer does not match).
    """
    present = key in labels
    value = labels.get(key) if key is not None else None
    if op in ("=", "==", "in"):
        return present and value in values
    if op in ("!=", "notin"):
        return not present or value not in values
    if op == "exists":
        return present
    if op == "!":
        return not present
    if op in ("gt", "lt"):
        if not present or len(values) != 1:
            return False
        try:
            have, want = int(value or ""), int(values[0])
        except (TypeError, ValueError):
            return False
        return have > want if op == "gt" else have < want
    return False


class LabelSelector:
    """A parsed label selector; ``matches(labels)``. The empty selector matches everything."""

    def __init__(self, requirements: list[Requirement]):
        self.requirements = requirements

    def matches(self, labels: Mapping[str, str] | None) -> bool:
        labels = labels or {}
        return all(r.matches(labels) for r in self.requirements)

    def __bool__(self) -> bool:
        return bool(self.requirements)


def _lex(text: str) -> list[tuple[str, str]]:
    """Tokens as (type, literal): type is 'id', 'end' or the operator itself."""
    tokens: list[tuple[str, str]] = []
    i, n = 0, len(text)
    while i < n:
        ch = text[i]
        if ch.isspace():
            i += 1
            continue
        if ch in "!=(),<>":
            two = text[i : i + 2]
            if two in ("!=", "=="):
                tokens.append((two, two))
                i += 2
            else:
                tokens.append((_SPECIAL[ch], ch))
                i += 1
            continue
        j = i
        while j < n and not text[j].isspace() and text[j] not in "!=(),<>":
            j += 1
        word = text[i:j]
        tokens.append((word if word in ("in", "notin") else "id", word))
        i = j
    tokens.append(("end", ""))
    return tokens


class _LabelParser:
    def __init__(self, text: str):
        self.tokens = _lex(text)
        self.pos = 0

    def peek(self) -> tuple[str, str]:
        return self.tokens[self.pos]

    def take(self) -> tuple[str, str]:
        tok = self.tokens[self.pos]
        if tok[0] != "end":
            self.pos += 1
        return tok

    def parse(self) -> list[Requirement]:
        reqs: list[Requirement] = []
        while True:
            kind, lit = self.peek()
            if kind in ("id", "!"):
                try:
                    reqs.append(self.requirement())
                except ValueError as e:
                    raise ValueError(f"unable to parse requirement: {e}") from None
                kind, lit = self.take()
                if kind == "end":
                    return reqs
                if kind == ",":
                    nxt, nlit = self.peek()
                    if nxt not in ("id", "!"):
                        raise ValueError(f"found '{nlit}', expected: identifier after ','")
                    continue
                raise ValueError(f"found '{lit}', expected: ',' or 'end of string'")
            if kind == "end":
                return reqs
            raise ValueError(f"found '{lit}', expected: !, identifier, or 'end of string'")

    def requirement(self) -> Requirement:
        kind, lit = self.take()
        negate = False
        if kind == "!":
            negate = True
            kind, lit = self.take()
        if kind != "id":
            raise ValueError(f"found '{lit}', expected: identifier")
        key = lit
        err = vt.label_key_error(key)
        if err:
            raise ValueError(f"key: Invalid value: \"{key}\": {err}")
        nxt, _ = self.peek()
        if nxt in ("end", ","):
            return Requirement(key, "!" if negate else "exists")
        if negate:
            return Requirement(key, "!")
        op, olit = self.take()
        if op not in ("=", "==", "!=", "in", "notin", "gt", "lt"):
            raise ValueError(f"found '{olit}', expected: in, notin, =, ==, !=, gt, lt")
        values = self.value_set() if op in ("in", "notin") else [self.exact_value()]
        if op in ("gt", "lt"):
            try:
                int(values[0])
            except ValueError:
                raise ValueError(
                    f"values[0]: Invalid value: \"{values[0]}\": for 'Gt', 'Lt' operators, the value must be an integer"
                ) from None
        for v in values:
            err = vt.label_value_error(v)
            if err:
                raise ValueError(f"values[0][{key}]: Invalid value: \"{v}\": {err}")
        return Requirement(key, "=" if op == "==" else op, tuple(values))

    def exact_value(self) -> str:
        kind, lit = self.peek()
        if kind in ("end", ","):
            return ""
        kind, lit = self.take()
        if kind == "id":
            return lit
        raise ValueError(f"found '{lit}', expected: identifier")

    def value_set(self) -> list[str]:
        kind, lit = self.take()
        if kind != "(":
            raise ValueError(f"found '{lit}' expected: '('")
        values: list[str] = []
        kind, lit = self.peek()
        if kind == ")":
            self.take()
            return [""]
        while True:
            kind, lit = self.take()
            if kind == "id":
                values.append(lit)
                kind2, lit2 = self.take()
                if kind2 == ")":
                    return values
                if kind2 == ",":
                    continue
                raise ValueError(f"found '{lit2}', expected: ',' or ')'")
            if kind == ",":
                values.append("")
                continue
            if kind == ")":
                values.append("")
                return values
            raise ValueError(f"found '{lit}', expected: ',', ')' or identifier")


def parse_label_selector(text: str | None) -> LabelSelector:
    """Parse ``labelSelector``; raises a 400 ``ApiError`` with upstream's text."""
    if not text:
        return LabelSelector([])
    try:
        return LabelSelector(_LabelParser(text).parse())
    except ValueError as e:
        raise bad_request(str(e)) from None


_LABEL_SELECTOR_OPS = {"In": "in", "NotIn": "notin", "Exists": "exists", "DoesNotExist": "!"}


def label_selector_matches(sel: Mapping[str, Any] | None, labels: Mapping[str, str] | None) -> bool:
    """Whether a ``metav1.LabelSelector`` selects ``labels`` (``LabelSelectorAsSelector(sel).Matches``).

    ``None`` matches nothing, ``{}`` everything; matchLabels and matchExpressions are ANDed, and an
    expression with an unknown operator is skipped.
    """
    if sel is None:
        return False
    labels = labels or {}
    for k, v in (sel.get("matchLabels") or {}).items():
        if k not in labels or labels[k] != v:
            return False
    for expr in sel.get("matchExpressions") or []:
        op = _LABEL_SELECTOR_OPS.get(expr.get("operator", ""))
        if op is not None and not requirement_matches(expr.get("key", ""), op, expr.get("values") or (), labels):
            return False
    return True


def set_selector_matches(selector: Mapping[str, str] | None, labels: Mapping[str, str] | None) -> bool:
    """A plain ``map[string]string`` selector (``labels.SelectorFromSet``): every pair present; empty selects all."""
    labels = labels or {}
    return all(labels.get(k) == v for k, v in (selector or {}).items())


def format_label_selector(sel: Mapping[str, Any] | None) -> str:
    """String form of a metav1.LabelSelector (as ``kubectl get -o wide`` shows it)."""
    if not sel:
        return "<none>"
    parts = [f"{k}={v}" for k, v in sorted((sel.get("matchLabels") or {}).items())]
    for expr in sel.get("matchExpressions") or []:
        op = expr.get("operator")
        key = expr.get("key")
        vals = ",".join(sorted(expr.get("values") or []))
        if op == "In":
            parts.append(f"{key} in ({vals})")
        elif op == "NotIn":
            parts.append(f"{key} notin ({vals})")
        elif op == "Exists":
            parts.append(key)
        elif op == "DoesNotExist":
            parts.append(f"!{key}")
    return ",".join(parts) if parts else "<none>"


# ---------------------------------------------------------------- field selectors


@dataclass(frozen=True)
class FieldRequirement:
    field: str
    op: str  # "=" or "!="
    value: str


class FieldSelector:
    def __init__(self, requirements: list[FieldRequirement]):
        self.requirements = requirements

    def matches(self, obj: Mapping[str, Any], getter: Callable[[Mapping[str, Any], str], str]) -> bool:
        for r in self.requirements:
            have = getter(obj, r.field)
            if (have == r.value) != (r.op == "="):
                return False
        return True

    def __bool__(self) -> bool:
        return bool(self.requirements)

    def value_of(self, field: str) -> str | None:
        for r in self.requirements:
            if r.field == field and r.op == "=":
                return r.value
        return None


def _split_terms(text: str) -> list[str]:
    terms, cur, i = [], [], 0
    while i < len(text):
        ch = text[i]
        if ch == "\\" and i + 1 < len(text):
            cur.append(text[i : i + 2])
            i += 2
            continue
        if ch == ",":
            terms.append("".join(cur))
            cur = []
        else:
            cur.append(ch)
        i += 1
    terms.append("".join(cur))
    return terms


def _unescape(value: str) -> str:
    out, i = [], 0
    while i < len(value):
        if value[i] == "\\" and i + 1 < len(value):
            out.append(value[i + 1])
            i += 2
        else:
            out.append(value[i])
            i += 1
    return "".join(out)


def parse_field_selector(text: str | None, supported: tuple[str, ...], custom: bool) -> FieldSelector:
    """Parse ``fieldSelector`` and check each field is supported by the resource.

    ``custom`` resources (pods, nodes, events ...) answer ``field label not supported``;
    the rest answer the generic ``is not a known field selector`` text, as upstream does.
    """
    if not text:
        return FieldSelector([])
    reqs: list[FieldRequirement] = []
    for term in _split_terms(text):
        if not term:
            continue
        for op in ("!=", "==", "="):
            idx = term.find(op)
            if idx >= 0:
                field, value = term[:idx], term[idx + len(op) :]
                reqs.append(FieldRequirement(field, "!=" if op == "!=" else "=", _unescape(value)))
                break
        else:
            raise bad_request(f"invalid selector: '{text}'; can't understand '{term}'")
    for r in reqs:
        if r.field not in supported:
            if custom:
                raise bad_request(f"field label not supported: {r.field}")
            only = ", ".join(f'"{f}"' for f in supported)
            raise bad_request(f'"{r.field}" is not a known field selector: only {only}')
    return FieldSelector(reqs)


def field_value(obj: Mapping[str, Any], path: str) -> str:
    """The string value of a dotted field path, as the field-set conversion renders it."""
    if path == "metadata.name":
        return (obj.get("metadata") or {}).get("name", "")
    if path == "metadata.namespace":
        return (obj.get("metadata") or {}).get("namespace", "")
    cur: Any = obj
    for part in path.split("."):
        if not isinstance(cur, Mapping):
            cur = None
            break
        cur = cur.get(part)
    if cur is None:
        # Upstream renders absent booleans as "false" (spec.unschedulable, spec.hostNetwork).
        return "false" if path in ("spec.unschedulable", "spec.hostNetwork") else ""
    if isinstance(cur, bool):
        return "true" if cur else "false"
    if isinstance(cur, list):
        return ",".join(str(x.get("ip", x)) if isinstance(x, Mapping) else str(x) for x in cur)
    if isinstance(cur, Mapping):
        return ""
    return str(cur)

