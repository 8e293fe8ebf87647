"""Aggregated discovery (apidiscovery.k8s.io/v2), negotiated by Accept, next to the legacy documents."""

from __future__ import annotations

import json
from typing import Any

import pytest
import requests

from tests.golden_data import golden_path

AGGREGATED = "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList"


def _golden(name: str) -> dict[str, Any]:
    return json.loads(golden_path(f"discovery/{name}").read_text())["response"]["body"]


def _resources(doc: dict[str, Any]) -> dict[tuple[str, str, str], dict[str, Any]]:
    out = {}
    for item in doc["items"]:
        for version in item["versions"]:
            for r in version["resources"]:
                out[(item["metadata"].get("name", ""), version["version"], r["resource"])] = r
    return out


@pytest.mark.parametrize(("path", "golden"), [("/api", "aggregated-api.json"), ("/apis", "aggregated-apis.json")])
def test_aggregated_discovery_entries_match_upstream(api_url: str, path: str, golden: str) -> None:
    resp = requests.get(api_url + path, headers={"Accept": AGGREGATED + ",application/json"}, timeout=10)
    assert resp.status_code == 200
    assert resp.headers["Content-Type"] == AGGREGATED
    ours, theirs = _resources(resp.json()), _resources(_golden(golden))
    assert ours and set(ours) <= set(theirs)
    for key, entry in ours.items():
        want = dict(theirs[key])
        # We serve a subset of the subresources (no attach/portforward/proxy/resize/ephemeralcontainers).
        want_subs = {s["subresource"]: s for s in want.pop("subresources", [])}
        got_subs = entry.pop("subresources", [])
        assert entry == want, key
        for sub in got_subs:
            assert sub == want_subs[sub["subresource"]], (key, sub["subresource"])


def test_plain_json_accept_still_gets_legacy_group_list(api_url: str) -> None:
    body = requests.get(api_url + "/apis", headers={"Accept": "application/json"}, timeout=10).json()
    assert body["kind"] == "APIGroupList"
    assert "apps" in [g["name"] for g in body["groups"]]


def test_removed_v2beta1_only_is_not_acceptable(api_url: str) -> None:
    accept = "application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList"
    resp = requests.get(api_url + "/apis", headers={"Accept": accept}, timeout=10)
    assert resp.status_code == 406
    assert resp.json() == _golden("aggregated-apis-v2beta1.json")
