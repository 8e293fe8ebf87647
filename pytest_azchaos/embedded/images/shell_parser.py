"""The shell language: tokens, the syntax tree and the parser (ash and bash texts alike).

``Parser(tokenize(script)).parse()`` gives a :class:`Seq` of and-or lists of pipelines of commands
(simple commands, ``if``/``while``/``until``/``for``, ``{ …; }`` and ``( … )`` with redirections);
a syntax error raises :class:`ShellSyntaxError` with the ash/bash wording.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any


class ShellSyntaxError(Exception):
    pass


# ---------------------------------------------------------------------------------------------- lexing

_OPERATORS = ("&&", "||", ";;", ">>", "<<", ">&", "<&", "&>", "|", "&", ";", "<", ">", "(", ")")
_RESERVED = {"if", "then", "else", "elif", "fi", "while", "until", "do", "done", "for", "in", "{", "}", "!"}


@dataclass
class Word:
    """A shell word as written: segments of (kind, text), kind ``lit`` (unquoted), ``sq`` or ``dq``."""

    parts: list[tuple[str, str]]

    @property
    def raw(self) -> str:
        return "".join(t for _, t in self.parts)

    @property
    def quoted(self) -> bool:
        return any(k != "lit" for k, _ in self.parts)

    def plain(self) -> str | None:
        """The text when the word is one unquoted literal without expansions (reserved words, names)."""
        if len(self.parts) == 1 and self.parts[0][0] == "lit":
            return self.parts[0][1]
        return None


@dataclass
class Tok:
    kind: str  # "word", "op", "nl", "redir"
    value: Any
    line: int = 1


def scan_subst(s: str, i: int) -> int:
    """Index just past the ``)`` closing a ``$(`` that starts at ``s[i] == '('``."""
    depth = 0
    while i < len(s):
        c = s[i]
        if c == "\\":
            i += 2
            continue
        if c == "'":
            j = s.find("'", i + 1)
            if j < 0:
                raise ShellSyntaxError('unterminated quoted string')
            i = j + 1
            continue
        if c == '"':
            i = _scan_dq(s, i + 1)
            continue
        if c == "(":
            depth += 1
        elif c == ")":
            depth -= 1
            if depth == 0:
                return i + 1
        i += 1
    raise ShellSyntaxError('unexpected end of file (expecting ")")')


def _scan_dq(s: str, i: int) -> int:
    """Index just past the ``"`` closing a double-quoted string whose body starts at ``i``."""
    while i < len(s):
        c = s[i]
        if c == "\\":
            i += 2
            continue
        if c == '"':
            return i + 1
        if c == "$" and i + 1 < len(s) and s[i + 1] == "(":
            i = scan_subst(s, i + 1)
            continue
        i += 1
    raise ShellSyntaxError("unterminated quoted string")


def tokenize(src: str) -> list[Tok]:
    toks: list[Tok] = []
    i, n, line = 0, len(src), 1
    while i < n:
        c = src[i]
        if c in " \t":
            i += 1
            continue
        if c == "\\" and i + 1 < n and src[i + 1] == "\n":
            i += 2
            line += 1
            continue
        if c == "#":
            while i < n and src[i] != "\n":
                i += 1
            continue
        if c == "\n":
            toks.append(Tok("nl", "\n", line))
            line += 1
            i += 1
            continue
        # fd-prefixed redirection: 2>, 2>>, 1>&2, 0<
        m = re.match(r"(\d+)(>>|>&|<&|>|<)", src[i:])
        if m:
            toks.append(Tok("op", m.group(2), line))
            toks[-1].value = (int(m.group(1)), m.group(2))
            toks[-1].kind = "redir"
            i += m.end()
            continue
        op = next((o for o in _OPERATORS if src.startswith(o, i)), None)
        if op is not None:
            if op in (">>", ">&", "<&", "<", ">", "&>", "<<"):
                toks.append(Tok("redir", (None, op), line))
            else:
                toks.append(Tok("op", op, line))
            i += len(op)
            continue
        parts: list[tuple[str, str]] = []
        lit = []
        while i < n:
            c = src[i]
            if c in " \t\n;&|<>()":
                break
            if c == "\\":
                if i + 1 < n:
                    if lit:
                        parts.append(("lit", "".join(lit)))
                        lit = []
                    parts.append(("sq", src[i + 1]))
                i += 2
                continue
            if c == "'":
                j = src.find("'", i + 1)
                if j < 0:
                    raise ShellSyntaxError("unterminated quoted string")
                if lit:
                    parts.append(("lit", "".join(lit)))
                    lit = []
                parts.append(("sq", src[i + 1:j]))
                i = j + 1
                continue
            if c == '"':
                j = _scan_dq(src, i + 1)
                if lit:
                    parts.append(("lit", "".join(lit)))
                    lit = []
                parts.append(("dq", src[i + 1:j - 1]))
                i = j
                continue
            if c == "$" and i + 1 < n and src[i + 1] == "(":
                j = scan_subst(src, i + 1)
                lit.append(src[i:j])
                i = j
                continue
            if c == "$" and i + 1 < n and src[i + 1] == "{":
                j = src.find("}", i)
                if j < 0:
                    raise ShellSyntaxError("bad substitution")
                lit.append(src[i:j + 1])
                i = j + 1
                continue
            if c == "`":
                j = src.find("`", i + 1)
                if j < 0:
                    raise ShellSyntaxError("unterminated quoted string")
                lit.append("$(" + src[i + 1:j] + ")")
                i = j + 1
                continue
            lit.append(c)
            i += 1
        if lit:
            parts.append(("lit", "".join(lit)))
        toks.append(Tok("word", Word(parts), line))
    return toks


# ---------------------------------------------------------------------------------------------- parsing


@dataclass
class Redirect:
    fd: int
    op: str  # ">", ">>", "<", ">&", "<&"
    target: Word


@dataclass
class Simple:
    assigns: list[tuple[str, Word]]
    words: list[Word]
    redirects: list[Redirect]
    line: int = 1


@dataclass
class Pipeline:
    commands: list[Any]
    negate: bool = False


@dataclass
class AndOr:
    first: Pipeline
    rest: list[tuple[str, Pipeline]]


@dataclass
class Seq:
    items: list[AndOr]


@dataclass
class If:
    branches: list[tuple[Seq, Seq]]
    orelse: Seq | None
    redirects: list[Redirect] = field(default_factory=list)


@dataclass
class Loop:
    cond: Seq
    body: Seq
    until: bool = False
    redirects: list[Redirect] = field(default_factory=list)


@dataclass
class For:
    var: str
    items: list[Word] | None
    body: Seq
    redirects: list[Redirect] = field(default_factory=list)


@dataclass
class Group:
    body: Seq
    subshell: bool
    redirects: list[Redirect] = field(default_factory=list)


NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_ASSIGN = re.compile(r"([A-Za-z_][A-Za-z0-9_]*)=")


class Parser:
    def __init__(self, toks: list[Tok]) -> None:
        self.toks = toks
        self.i = 0

    def peek(self) -> Tok | None:
        return self.toks[self.i] if self.i < len(self.toks) else None

    def next(self) -> Tok:
        tok = self.toks[self.i]
        self.i += 1
        return tok

    def _is_word(self, tok: Tok | None, *names: str) -> bool:
        return tok is not None and tok.kind == "word" and tok.value.plain() in names

    def _unexpected(self, tok: Tok | None, expecting: str | None = None) -> ShellSyntaxError:
        if tok is None:
            return ShellSyntaxError("unexpected end of file" + (f' (expecting "{expecting}")' if expecting else ""))
        text = tok.value.raw if tok.kind == "word" else (tok.value[1] if tok.kind == "redir" else tok.value)
        if text == "\n":
            text = "newline"
        return ShellSyntaxError(f'unexpected "{text}"' + (f' (expecting "{expecting}")' if expecting else ""))

    def skip_newlines(self) -> None:
        while (t := self.peek()) is not None and (t.kind == "nl" or (t.kind == "op" and t.value == ";")):
            self.i += 1

    def parse(self) -> Seq:
        seq = self.seq(())
        if self.peek() is not None:
            raise self._unexpected(self.peek())
        return seq

    def seq(self, stops: tuple[str, ...]) -> Seq:
        items: list[AndOr] = []
        while True:
            while (t := self.peek()) is not None and t.kind == "nl":
                self.i += 1
            t = self.peek()
            if t is None or self._is_word(t, *stops) or (t.kind == "op" and t.value == ")"):
                return Seq(items)
            items.append(self.and_or())
            t = self.peek()
            if (t is not None and t.kind == "op" and t.value in (";", "&")) or (t is not None and t.kind == "nl"):
                self.i += 1

    def and_or(self) -> AndOr:
        first = self.pipeline()
        rest: list[tuple[str, Pipeline]] = []
        while (t := self.peek()) is not None and t.kind == "op" and t.value in ("&&", "||"):
            self.i += 1
            while (n := self.peek()) is not None and n.kind == "nl":
                self.i += 1
            rest.append((t.value, self.pipeline()))
        return AndOr(first, rest)

    def pipeline(self) -> Pipeline:
        negate = False
        if self._is_word(self.peek(), "!"):
            self.i += 1
            negate = True
        cmds = [self.command()]
        while (t := self.peek()) is not None and t.kind == "op" and t.value == "|":
            self.i += 1
            while (n := self.peek()) is not None and n.kind == "nl":
                self.i += 1
            cmds.append(self.command())
        return Pipeline(cmds, negate)

    def expect_word(self, name: str) -> None:
        t = self.peek()
        if not self._is_word(t, name):
            raise self._unexpected(t, name)
        self.i += 1

    def command(self) -> Any:
        t = self.peek()
        if t is None:
            raise self._unexpected(None)
        if t.kind == "op" and t.value == "(":
            self.i += 1
            body = self.seq(())
            t = self.peek()
            if t is None or t.kind != "op" or t.value != ")":
                raise self._unexpected(t, ")")
            self.i += 1
            return self._with_redirects(Group(body, True))
        word = t.value.plain() if t.kind == "word" else None
        if word == "{":
            self.i += 1
            body = self.seq(("}",))
            self.expect_word("}")
            return self._with_redirects(Group(body, False))
        if word == "if":
            self.i += 1
            branches = []
            cond = self.seq(("then",))
            self.expect_word("then")
            body = self.seq(("elif", "else", "fi"))
            branches.append((cond, body))
            orelse = None
            while True:
                t = self.peek()
                if self._is_word(t, "elif"):
                    self.i += 1
                    cond = self.seq(("then",))
                    self.expect_word("then")
                    branches.append((cond, self.seq(("elif", "else", "fi"))))
                    continue
                if self._is_word(t, "else"):
                    self.i += 1
                    orelse = self.seq(("fi",))
                self.expect_word("fi")
                break
            return self._with_redirects(If(branches, orelse))
        if word in ("while", "until"):
            self.i += 1
            cond = self.seq(("do",))
            self.expect_word("do")
            body = self.seq(("done",))
            self.expect_word("done")
            return self._with_redirects(Loop(cond, body, until=word == "until"))
        if word == "for":
            self.i += 1
            t = self.peek()
            if t is None or t.kind != "word" or not NAME.fullmatch(t.value.raw):
                raise ShellSyntaxError("bad for loop variable")
            var = self.next().value.raw
            items: list[Word] | None = None
            while (n := self.peek()) is not None and n.kind == "nl":
                self.i += 1
            if self._is_word(self.peek(), "in"):
                self.i += 1
                items = []
                while (n := self.peek()) is not None and n.kind == "word":
                    items.append(self.next().value)
            self.skip_newlines()
            self.expect_word("do")
            body = self.seq(("done",))
            self.expect_word("done")
            return self._with_redirects(For(var, items, body))
        if word in ("then", "else", "elif", "fi", "do", "done", "}"):
            raise self._unexpected(t)
        return self.simple()

    def _with_redirects(self, node: Any) -> Any:
        while (t := self.peek()) is not None and t.kind == "redir":
            node.redirects.append(self._redirect())
        return node

    def _redirect(self) -> Redirect:
        tok = self.next()
        fd, op = tok.value
        target = self.peek()
        if target is None or target.kind != "word":
            raise self._unexpected(target)
        self.i += 1
        if op == "&>":
            raise ShellSyntaxError('unexpected "&"')
        if fd is None:
            fd = 0 if op in ("<", "<&", "<<") else 1
        return Redirect(fd, op, target.value)

    def simple(self) -> Simple:
        assigns: list[tuple[str, Word]] = []
        words: list[Word] = []
        redirects: list[Redirect] = []
        line = self.peek().line if self.peek() else 1  # type: ignore[union-attr]
        while (t := self.peek()) is not None:
            if t.kind == "redir":
                redirects.append(self._redirect())
                continue
            if t.kind != "word":
                break
            w: Word = t.value
            first = w.parts[0] if w.parts else ("", "")
            m = _ASSIGN.match(first[1]) if first[0] == "lit" else None
            if not words and m:
                rest = [("lit", first[1][m.end():]), *w.parts[1:]]
                assigns.append((m.group(1), Word([p for p in rest if p[1] or p[0] != "lit"])))
                self.i += 1
                continue
            words.append(w)
            self.i += 1
        if not words and not assigns and not redirects:
            raise self._unexpected(self.peek())
        return Simple(assigns, words, redirects, line)
