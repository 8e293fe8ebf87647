"""The golden transcripts ship with the repository, and a missing one fails naming its path (never a skip)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests import golden_data
from tests.golden_data import EXPECTED_FILES, GOLDEN_DIR, GoldenDataMissing, golden_path


def test_golden_dir_is_inside_the_repository() -> None:
    assert Path(golden_data.__file__).resolve().parent / "golden" == GOLDEN_DIR
    assert golden_path("README.md").is_file()


@pytest.mark.parametrize("folder", sorted(EXPECTED_FILES))
def test_every_golden_folder_holds_its_recorded_cases(folder: str) -> None:
    files = sorted(p.name for p in golden_path(folder).iterdir() if p.is_file())
    assert len(files) == EXPECTED_FILES[folder], f"{GOLDEN_DIR / folder}: {len(files)} files, expected " \
                                                 f"{EXPECTED_FILES[folder]}: {files}"


def test_no_unexpected_golden_folder() -> None:
    assert sorted(p.name for p in GOLDEN_DIR.iterdir() if p.is_dir()) == sorted(EXPECTED_FILES)


def test_missing_golden_data_is_an_error_naming_the_path(monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:
    monkeypatch.setattr(golden_data, "GOLDEN_DIR", tmp_path / "nowhere")
    with pytest.raises(GoldenDataMissing, match=str(tmp_path / "nowhere" / "patch")):
        golden_data.golden_path("patch")


def test_replay_case_listing_fails_when_a_category_is_missing(tmp_path) -> None:
    from tests.embedded.apiserver import golden

    with pytest.raises(GoldenDataMissing, match=str(tmp_path / "errors")):
        golden.cases(("errors",), root=tmp_path)
