"""Replay every golden transcript of the API-level categories against the embedded cluster.

One test per transcript (id ``category/case``). Cases that cannot match for a documented reason are
strict xfails listed in ``golden.KNOWN_MISMATCHES``, so a fix that makes one match shows up as XPASS.
"""

from __future__ import annotations

import pytest

from . import golden


def _params() -> list:
    out = []
    for case in golden.cases():
        reason = golden.KNOWN_MISMATCHES.get(case.id)
        marks = [pytest.mark.xfail(strict=True, reason=reason)] if reason else []
        out.append(pytest.param(case, id=case.id, marks=marks))
    return out


@pytest.mark.parametrize("case", _params())
def test_golden_transcript_matches(case: golden.Case, api_url: str) -> None:
    result = golden.replay(case, api_url)
    assert result.matched, f"{case.id} ({case.what}):\n" + "\n".join(result.mismatches)


def test_every_known_mismatch_names_an_existing_transcript() -> None:
    ids = {c.id for c in golden.cases()}
    assert sorted(set(golden.KNOWN_MISMATCHES) - ids) == []


def test_every_setup_names_an_existing_transcript() -> None:
    ids = {c.id for c in golden.cases()}
    assert sorted(set(golden.SETUP) - ids) == []


def test_normalize_blanks_volatile_fields_and_the_openshift_source() -> None:
    pod = {"metadata": {"name": "p", "uid": "u", "resourceVersion": "7", "creationTimestamp": "t",
                        "managedFields": [{}]},
           "spec": {"volumes": [{"name": "kube-api-access-abcde", "projected": {"sources": [
               {"serviceAccountToken": {"path": "token"}},
               {"configMap": {"name": "openshift-service-ca.crt"}}]}}]}}
    assert golden.normalize(pod) == {
        "metadata": {"name": "p", "uid": golden.V, "resourceVersion": golden.V, "creationTimestamp": golden.V},
        "spec": {"volumes": [{"name": "kube-api-access-<rand>", "projected": {"sources": [
            {"serviceAccountToken": {"path": "token"}}]}}]}}


def test_diff_reports_a_changed_message() -> None:
    assert golden.diff({"message": "a"}, {"message": "b"}) == ['message: expected "a" got "b"']
