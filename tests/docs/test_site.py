"""The documentation site: it builds with warnings as errors, every check id has a page with the captured
failure output of its negative control, and the reference lists exactly what the code offers."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from pytest_azchaos.checks.result import docs_page

from .capture import CAPTURED, REGENERATE, ROOT

# The catalogue of design.md; the ids the code uses are added to it (code_check_ids), so a new check id anywhere
# in the package or the suites needs a page too.
CATALOGUE = ("AZ-TOPO", "AZ-DRAIN", "AZ-RESCHED", "AZ-CORDON", "AZ-PODKILL", "AZ-SRCIP", "AZ-HCNP", "AZ-BALANCE",
             "AZ-EBS-BIND", "AZ-EBS-DRAIN", "AZ-EBS-RETURN", "AZ-EBS-PERM", "AZ-OUTAGE", "AZ-LBCONF", "AZ-CAPACITY",
             "AZ-SHIFT", "AZ-PARTITION", "AZ-DNS", "AZ-TOPOROUTE", "AZ-ADDONS")
_ID = re.compile(r"[\"'](AZ-[A-Z]+(?:-[A-Z]+)*)[\"'\[]")


def code_check_ids() -> set[str]:
    """Every check id written as a string in pytest_azchaos/ and suites/ (check_id=, azchaos_check(...) ...)."""
    found: set[str] = set()
    for folder in ("pytest_azchaos", "suites"):
        for path in (ROOT / folder).rglob("*.py"):
            found.update(_ID.findall(path.read_text()))
    return found


def all_check_ids() -> list[str]:
    return sorted(set(CATALOGUE) | code_check_ids())


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The site built once with ``mkdocs build --strict`` (a broken link or anchor, a missing snippet fail)."""
    out = tmp_path_factory.mktemp("site")
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1"}
    proc = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "-f", str(ROOT / "mkdocs.yml"),
                           "-d", str(out)], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, f"mkdocs build --strict failed:\n{proc.stdout}\n{proc.stderr}"
    return out


def test_the_site_builds_with_warnings_as_errors(site: Path) -> None:
    assert (site / "index.html").is_file()
    assert (site / "reference" / "index.html").is_file()


@pytest.mark.parametrize("check_id", all_check_ids())
def test_every_check_id_has_a_page_with_its_captured_failure(check_id: str, site: Path) -> None:
    page = ROOT / docs_page(check_id)  # the page its failure messages name
    assert page.is_file(), f"{check_id} has no page: write {page.relative_to(ROOT)} (see docs/checks/AZ-DRAIN.md)"
    snippet = CAPTURED / f"{check_id}.txt"
    assert snippet.is_file(), (f"{check_id} has no captured failure output {snippet.relative_to(ROOT)}: call "
                               f"capture_failure({check_id!r}, ...) in its negative control and run `{REGENERATE}`")
    assert f'--8<-- "{check_id}.txt"' in page.read_text(), f"{page.relative_to(ROOT)} does not include {snippet.name}"
    built = (site / "checks" / check_id / "index.html").read_text()
    assert f"{check_id} FAILED" in built and f"see docs/checks/{check_id}.md" in built, "snippet not rendered"


def test_every_captured_snippet_is_written_by_a_negative_control_and_shown_on_its_page() -> None:
    calls = set()
    for path in (ROOT / "tests").rglob("*.py"):
        if path.parent == ROOT / "tests" / "docs":
            continue  # the capture's own tests
        for check_id, name in re.findall(r'capture_failure\(\s*"([A-Z-]+)"[^)]*?(?:name="([a-z0-9-]+)")?\)',
                                         path.read_text()):
            calls.add(f"{check_id}--{name}.txt" if name else f"{check_id}.txt")
    snippets = {p.name for p in CAPTURED.glob("*.txt")}
    assert snippets <= calls, f"snippets no negative control writes (typed by hand, or stale): {snippets - calls}"
    assert calls <= snippets, f"negative controls whose snippet is missing (run `{REGENERATE}`): {calls - snippets}"
    pages = "".join(p.read_text() for p in (ROOT / "docs" / "checks").glob("AZ-*.md"))
    unshown = {s for s in snippets if f'--8<-- "{s}"' not in pages}
    assert not unshown, f"captured snippets no check page includes: {unshown}"


@pytest.fixture(scope="module")
def pytest_help() -> str:
    """``pytest --help`` as a user's run shows it (the plugin loaded through its entry point)."""
    proc = subprocess.run([sys.executable, "-m", "pytest", "--help", "-p", "no:cacheprovider"], cwd=ROOT,
                          env={**os.environ, "COLUMNS": "200"}, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


def test_the_reference_lists_exactly_the_options_pytest_help_shows_in_the_azchaos_group(site: Path,
                                                                                        pytest_help: str) -> None:
    text = pytest_help
    start = text.index("multi-AZ chaos conformance (pytest-azchaos):")
    group = text[start:].split("\n\n", 1)[0]
    shown = set(re.findall(r"^\s+--(azchaos-[a-z-]+)", group, flags=re.M))
    assert shown, group
    reference = (site / "reference" / "index.html").read_text()
    listed = set(re.findall(r'id="(azchaos-[a-z-]+)"', reference))
    assert listed == shown, f"only in pytest --help: {shown - listed}; only in the reference: {listed - shown}"


def test_the_reference_lists_every_azchaos_ini_key_pytest_help_shows(site: Path, pytest_help: str) -> None:
    keys = set(re.findall(r"^\s+(azchaos_[a-z_]+)\s", pytest_help, flags=re.M))
    assert keys, "pytest --help shows no azchaos ini key"
    reference = (site / "reference" / "index.html").read_text()
    missing = {k for k in keys if f"<code>{k}</code>" not in reference}
    assert not missing, f"ini keys missing from the reference: {missing}"


def test_the_reference_has_every_marker_fixture_and_cli_command(site: Path) -> None:
    import argparse

    from pytest_azchaos.cli import build_parser
    from pytest_azchaos.plugin import MARKERS

    reference = (site / "reference" / "index.html").read_text()
    for marker in MARKERS:
        assert f"@pytest.mark.{marker.split(':')[0].split('(')[0]}" in reference, marker
    for name in ("azchaos_cluster", "azchaos_chaos", "azchaos_check", "azchaos_echo_app"):
        assert f'id="{name}"' in reference, name
    from dataclasses import fields

    from pytest_azchaos.timing import Profile

    assert 'id="timing-profiles"' in reference
    for field in fields(Profile):
        assert field.name == "name" or f"<code>{field.name}</code>" in reference, field.name

    def commands(parser: argparse.ArgumentParser, path: tuple[str, ...]) -> list[tuple[str, ...]]:
        found = [path]
        for action in parser._actions:
            if isinstance(action, argparse._SubParsersAction):
                for name, sub in action.choices.items():
                    found += commands(sub, (*path, name))
        return found

    for path in commands(build_parser(), ()):
        anchor = "cli-" + "-".join(path) if path else "cli"
        assert f'id="{anchor}"' in reference, f"azchaos {' '.join(path)} is missing from the reference"


def test_every_test_and_suite_a_page_names_exists() -> None:
    """Pages name the negative control behind each captured output and the suite of each check: a rename must
    not leave them pointing at nothing."""
    missing = []
    for page in (ROOT / "docs").rglob("*.md"):
        text = page.read_text()
        for path, name in re.findall(r"((?:tests|suites)/[\w/]+\.py)(?:::(\w+))?", text):
            source = ROOT / path
            if not source.is_file() or (name and f"def {name}(" not in source.read_text()):
                missing.append(f"{page.relative_to(ROOT)}: {path}{'::' + name if name else ''}")
    assert not missing, "pages name tests or suites that do not exist:\n" + "\n".join(missing)
