"""Where the golden transcripts live: ``tests/golden/``, inside the repository.

Recorded upstream behaviour is data the tests depend on, so it ships with the code and a missing file is a
failure naming the path, never a skip. Pytest-free, so the replay scripts (``python -m ...golden``) use it too.
"""

from __future__ import annotations

from pathlib import Path

GOLDEN_DIR = Path(__file__).resolve().parent / "golden"

#: Files per folder of ``tests/golden/`` as recorded (``README.md`` at the top is not counted).
EXPECTED_FILES: dict[str, int] = {
    "admission": 3, "artifacts-etcd-3.5.1": 2, "batch": 1, "controllers": 5, "crd": 19, "defaulting": 28,
    "discovery": 21, "endpointslices": 5, "errors": 77, "nodes": 4, "patch": 22, "psa": 8, "scheduling": 19,
    "statefulset": 1, "tables": 13, "watch": 6,
}


class GoldenDataMissing(FileNotFoundError):
    """A golden transcript or folder the tests need is not in the checkout."""


def golden_path(relative: str = "") -> Path:
    """``GOLDEN_DIR / relative``; raises ``GoldenDataMissing`` naming the path when it does not exist."""
    path = GOLDEN_DIR / relative
    if not path.exists():
        raise GoldenDataMissing(f"golden data missing: {path} does not exist (the recorded transcripts belong in "
                                f"the repository at {GOLDEN_DIR}; restore them from version control)")
    return path
