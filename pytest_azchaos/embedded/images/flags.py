"""Command-line flags parsed as cobra/pflag parse them, with pflag's error texts.

agnhost ignores the error ``rootCmd.Execute()`` returns, so a bad flag prints ``Error: ...`` and
the process exits 0; the callers reproduce that.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

# klog's flags, which agnhost accepts on every subcommand (values ignored here).
KLOG_FLAGS: Mapping[str, type] = {
    "v": int, "vmodule": str, "logtostderr": bool, "alsologtostderr": bool, "log_dir": str, "log_file": str,
    "log_file_max_size": int, "skip_headers": bool, "skip_log_headers": bool, "add_dir_header": bool,
    "one_output": bool, "stderrthreshold": str, "log_backtrace_at": str,
}
_INT = re.compile(r"^[+-]?(0[xX][0-9a-fA-F]+|0[0-7]*|[1-9][0-9]*)$")


class FlagError(Exception):
    """pflag's message (printed by cobra as ``Error: <message>``)."""


def _parse_int(name: str, value: str) -> int:
    """``strconv.ParseInt(value, 0, 64)`` for decimal and ``0x`` forms."""
    text = value.lstrip("+-")
    try:
        if not _INT.match(value):
            raise ValueError
        number = int(text, 16) if text[:2] in ("0x", "0X") else int(text, 8) if text.startswith("0") else int(text)
    except ValueError:
        raise FlagError(f'invalid argument "{value}" for "--{name}" flag: strconv.ParseInt: parsing '
                        f'"{value}": invalid syntax') from None
    return -number if value.startswith("-") else number


def _parse_bool(name: str, value: str) -> bool:
    if value in ("1", "t", "T", "TRUE", "true", "True"):
        return True
    if value in ("0", "f", "F", "FALSE", "false", "False"):
        return False
    raise FlagError(f'invalid argument "{value}" for "--{name}" flag: strconv.ParseBool: parsing "{value}": '
                    "invalid syntax")


def parse_flags(args: Sequence[str], spec: Mapping[str, tuple[type, Any]],
                max_args: int | None = 0) -> dict[str, Any]:
    """Parse ``args`` against ``spec`` (name → (type, default)); raises FlagError with pflag's text."""
    values = {name: default for name, (_, default) in spec.items()}
    known: dict[str, type] = {**KLOG_FLAGS, **{name: t for name, (t, _) in spec.items()}}
    positional: list[str] = []
    i = 0
    while i < len(args):
        arg = args[i]
        i += 1
        if arg == "--":
            positional.extend(args[i:])
            break
        if arg.startswith("--"):
            name, eq, value = arg[2:].partition("=")
            if name in ("help",):
                raise FlagError("help requested")
            if name not in known:
                raise FlagError(f"unknown flag: --{name}")
        elif arg.startswith("-") and len(arg) > 1:
            short = arg[1]
            if short == "h":
                raise FlagError("help requested")
            if short != "v":
                raise FlagError(f"unknown shorthand flag: '{short}' in {arg}")
            name, rest = "v", arg[2:]
            eq, value = ("=", rest[1:]) if rest.startswith("=") else (("=", rest) if rest else ("", ""))
        else:
            positional.append(arg)
            continue
        kind = known[name]
        if not eq:
            if kind is bool:
                value = "true"
            elif i < len(args):
                value = args[i]
                i += 1
            else:
                raise FlagError(f"flag needs an argument: --{name}")
        if kind is int:
            parsed: Any = _parse_int(name, value)
        elif kind is bool:
            parsed = _parse_bool(name, value)
        else:
            parsed = value
        if name in spec:
            values[name] = parsed
    if max_args is not None and len(positional) > max_args:
        raise FlagError(f"accepts at most {max_args} arg(s), received {len(positional)}")
    values["__args__"] = positional
    return values
