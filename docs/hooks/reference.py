"""MkDocs hook: the Reference page, generated from the code on every build so it cannot drift.

``docs/reference.md`` holds the prose and the marker ``<!-- azchaos:reference -->``; this hook replaces the
marker with the ``azchaos`` option group and ini keys (``plugin.OPTIONS``), the markers (``plugin.MARKERS``),
the fixtures (their docstrings, as ``pytest --fixtures`` shows them) and the ``azchaos`` CLI (its argparse
parsers' own ``--help``). A hook rather than a generated file: nothing to regenerate or commit, and the strict
build in CI is the only place it runs. ``tests/docs/test_site.py`` checks the built page against ``pytest --help``.
"""

from __future__ import annotations

import argparse
import inspect
import os
import re
from typing import Any

MARKER = "<!-- azchaos:reference -->"


def on_page_markdown(markdown: str, page: Any, config: Any, files: Any) -> str:
    if page.file.src_uri != "reference.md":
        return markdown
    return markdown.replace(MARKER, reference_markdown())


def reference_markdown() -> str:
    return "\n\n".join([options_markdown(), markers_markdown(), fixtures_markdown(), profiles_markdown(),
                        cli_markdown()]) + "\n"


def _md(text: str) -> str:
    """reST-ish docstring markup as Markdown: ``code`` and :class:`x` become `code`; ``<`` kept literal."""
    text = re.sub(r":\w+:`~?([^`]+)`", r"`\1`", text)
    text = text.replace("``", "`")
    return text


def _text(text: str) -> str:
    """``_md`` with ``<`` outside code spans escaped, so ``<URL>`` reads as text, not as an HTML tag."""
    parts = _md(text).split("`")
    return "`".join(p if i % 2 else p.replace("<", "&lt;") for i, p in enumerate(parts))


def _cell(text: str) -> str:
    return _text(text).replace("|", "\\|").replace("\n", " ")


def options_markdown() -> str:
    from pytest_azchaos.plugin import OPTIONS, _ini

    lines = ["## Options and ini keys", "",
             "Every option is in `pytest --help`'s `azchaos` group and is also an ini key (`[pytest]` section of "
             "`pytest.ini`, `pyproject.toml`'s `[tool.pytest.ini_options]`, `tox.ini` or `setup.cfg`); the "
             "command line wins over the ini file.", ""]
    for name, kind, default, metavar, text in OPTIONS:
        flag = f"--azchaos-{name}"
        shown = "" if kind == "bool" else f" {metavar or 'VALUE'}"
        lines += [f"### `{flag}{shown}` {{#azchaos-{name}}}", ""]
        kind_text = {"bool": "flag", "append": "repeatable; the ini key takes one per line"}.get(kind, "value")
        default_text = "off" if kind == "bool" else ("none" if default in (None, []) else f"`{default}`")
        lines += [f"- ini key: `{_ini(name)}`", f"- kind: {kind_text}", f"- default: {default_text}", "",
                  _text(text), ""]
    return "\n".join(lines)


def markers_markdown() -> str:
    from pytest_azchaos.plugin import MARKERS

    lines = ["## Markers", "", "Registered by the plugin (`pytest --markers`); run with `--strict-markers` freely.", "",
             "| marker | what it does |", "|---|---|"]
    for marker in MARKERS:
        signature, _, text = marker.partition(": ")
        lines.append(f"| `@pytest.mark.{signature}` | {_cell(text)} |")
    return "\n".join(lines)


def _fixtures() -> list[tuple[str, str, str]]:
    """(name, scope, docstring) of every public fixture, in the module's order."""
    from pytest_azchaos import fixtures

    found = []
    for name, obj in vars(fixtures).items():
        marker = getattr(obj, "_fixture_function_marker", None) or getattr(obj, "_pytestfixturefunction", None)
        if marker is None or not name.startswith("azchaos_"):
            continue
        func = obj._get_wrapped_function() if hasattr(obj, "_get_wrapped_function") else obj
        found.append((getattr(marker, "name", None) or name, str(marker.scope), inspect.getdoc(func) or ""))
    return found


def fixtures_markdown() -> str:
    lines = ["## Fixtures", "",
             "The public fixtures (`pytest --fixtures`), each overridable in your `conftest.py`; their docstrings:", ""]
    for name, scope, doc in _fixtures():
        lines += [f"### `{name}` {{#{name}}}", "", f"*scope: {scope}*", "", _text(doc), ""]
    return "\n".join(lines)


def profiles_markdown() -> str:
    """Every value of the two timing profiles with its source (``timing.Profile``, ``timing.SOURCES``)."""
    from dataclasses import fields

    from pytest_azchaos.timing import FAST, REALISTIC, SOURCES, Profile

    def fmt(value: object) -> str:
        return "-" if value is None else f"{value:g}" if isinstance(value, float) else str(value)

    lines = ["## Timing profiles {#timing-profiles}", "",
             "Every wait and timeout of the plugin and the suites, and the embedded cluster's timings, come from the "
             "profile ([`--azchaos-profile`](#azchaos-profile)): `realistic` is upstream's and AWS's defaults, `fast` "
             "scales them down for the embedded cluster. Seconds unless the name says otherwise.", "",
             "| setting | fast | realistic | source |", "|---|---|---|---|"]
    for f in fields(Profile):
        if f.name != "name":
            lines.append(f"| `{f.name}` | {fmt(getattr(FAST, f.name))} | {fmt(getattr(REALISTIC, f.name))} | "
                         f"{_cell(SOURCES.get(f.name, ''))} |")
    return "\n".join(lines)


def _walk(parser: argparse.ArgumentParser, path: list[str]) -> list[tuple[list[str], argparse.ArgumentParser]]:
    out = [(path, parser)]
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                out += _walk(sub, [*path, name])
    return out


def cli_markdown() -> str:
    from pytest_azchaos.cli import build_parser

    old = os.environ.get("COLUMNS")
    os.environ["COLUMNS"] = "110"  # argparse wraps to the terminal: the same text on every machine
    try:
        lines = ["## The `azchaos` command", "", "Each command's `--help`, as argparse prints it:", ""]
        for path, parser in _walk(build_parser(), ["azchaos"]):
            anchor = "cli-" + "-".join(path[1:]) if len(path) > 1 else "cli"
            lines += [f"### `{' '.join(path)}` {{#{anchor}}}", "", "```text", parser.format_help().rstrip(), "```", ""]
    finally:
        if old is None:
            os.environ.pop("COLUMNS", None)
        else:
            os.environ["COLUMNS"] = old
    return "\n".join(lines)
