"""Label and field selectors and limit/continue pagination of LIST, through the official client."""

from __future__ import annotations

import base64
import json
import uuid
from typing import Any

import pytest
from kubernetes import client
from kubernetes.client.rest import ApiException

Obj = dict[str, Any]


def _status(exc: ApiException) -> Obj:
    return json.loads(exc.body)


def _pod(name: str, labels: dict[str, str] | None = None, node: str | None = None) -> client.V1Pod:
    return client.V1Pod(metadata=client.V1ObjectMeta(name=name, labels=labels),
                        spec=client.V1PodSpec(node_name=node, scheduler_name="no-such-scheduler",
                                              containers=[client.V1Container(name="c", image="nginx")]))


@pytest.fixture
def labelled(core, namespace) -> str:
    """Pods a (tier=web, env=prod), b (tier=web, env=dev), c (tier=db), d (no labels)."""
    for name, labels in (("a", {"tier": "web", "env": "prod"}), ("b", {"tier": "web", "env": "dev"}),
                         ("c", {"tier": "db"}), ("d", None)):
        core.create_namespaced_pod(namespace, _pod(name, labels))
    return namespace


def _names(core, namespace: str, **kw: Any) -> list[str]:
    return [p.metadata.name for p in core.list_namespaced_pod(namespace, **kw).items]


# ---------------------------------------------------------------- label selectors


@pytest.mark.parametrize(("selector", "expected"), [
    ("tier=web", ["a", "b"]),
    ("tier==web", ["a", "b"]),
    ("tier!=web", ["c", "d"]),
    ("env in (prod,staging)", ["a"]),
    ("env notin (prod)", ["b", "c", "d"]),
    ("env", ["a", "b"]),
    ("!env", ["c", "d"]),
    ("tier=web,env=dev", ["b"]),
    ("tier in (web), !env", []),
], ids=["equals", "double-equals", "not-equals", "in", "notin", "exists", "does-not-exist", "and", "in-and-not"])
def test_label_selector_operator(core, labelled, selector, expected):
    assert _names(core, labelled, label_selector=selector) == expected


def test_malformed_label_selector_is_bad_request(core, namespace):
    with pytest.raises(ApiException) as e:
        core.list_namespaced_pod(namespace, label_selector="app in (a,b")
    assert e.value.status == 400
    assert _status(e.value) == {
        "kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
        "message": "unable to parse requirement: found '', expected: ',' or ')'", "reason": "BadRequest",
        "code": 400}


def test_label_selector_without_key_is_bad_request(core, namespace):
    with pytest.raises(ApiException) as e:
        core.list_namespaced_pod(namespace, label_selector="=nokey")
    assert e.value.status == 400
    assert _status(e.value)["message"] == "found '=', expected: !, identifier, or 'end of string'"


# ---------------------------------------------------------------- field selectors


def test_field_selector_metadata_name(core, labelled):
    assert _names(core, labelled, field_selector="metadata.name=c") == ["c"]
    assert _names(core, labelled, field_selector="metadata.name!=c") == ["a", "b", "d"]


def test_field_selector_metadata_namespace(core, labelled):
    pods = core.list_pod_for_all_namespaces(field_selector=f"metadata.namespace={labelled}").items
    assert sorted(p.metadata.name for p in pods) == ["a", "b", "c", "d"]


def test_field_selector_spec_node_name(core, namespace):
    node = "ghost-node-without-kubelet"
    core.create_namespaced_pod(namespace, _pod("bound", node=node))
    core.create_namespaced_pod(namespace, _pod("unbound"))
    assert _names(core, namespace, field_selector=f"spec.nodeName={node}") == ["bound"]
    assert _names(core, namespace, field_selector="spec.nodeName=") == ["unbound"]
    core.delete_namespaced_pod("bound", namespace, grace_period_seconds=0)


def test_field_selector_status_phase(core, labelled):
    pod = core.read_namespaced_pod("b", labelled)
    pod.status.phase = "Running"
    core.replace_namespaced_pod_status("b", labelled, pod)
    assert _names(core, labelled, field_selector="status.phase=Running") == ["b"]
    assert _names(core, labelled, field_selector="status.phase=Pending,metadata.name!=a") == ["c", "d"]


def test_field_selector_node_spec_unschedulable(core):
    name = "cordoned-" + uuid.uuid4().hex[:8]
    core.create_node(client.V1Node(metadata=client.V1ObjectMeta(name=name), spec=client.V1NodeSpec(unschedulable=True)))
    try:
        cordoned = [n.metadata.name for n in core.list_node(field_selector="spec.unschedulable=true").items]
        schedulable = [n.metadata.name for n in core.list_node(field_selector="spec.unschedulable=false").items]
        assert cordoned == [name]
        assert name not in schedulable and len(schedulable) >= 1
    finally:
        core.delete_node(name)


def test_unsupported_pod_field_selector_is_bad_request(core, namespace):
    with pytest.raises(ApiException) as e:
        core.list_namespaced_pod(namespace, field_selector="spec.containers=x")
    assert e.value.status == 400
    assert _status(e.value)["message"] == "field label not supported: spec.containers"


def test_unknown_configmap_field_selector_lists_the_known_ones(core, namespace):
    with pytest.raises(ApiException) as e:
        core.list_namespaced_config_map(namespace, field_selector="data.a=1")
    assert e.value.status == 400
    assert _status(e.value)["message"] == '"data.a" is not a known field selector: only "metadata.name", ' \
                                          '"metadata.namespace"'


# ---------------------------------------------------------------- pagination


@pytest.fixture
def many_configmaps(core, namespace) -> list[str]:
    """60 ConfigMaps besides kube-root-ca.crt; returns all 61 names in list order."""
    for i in range(60):
        core.create_namespaced_config_map(
            namespace, client.V1ConfigMap(metadata=client.V1ObjectMeta(name=f"cm-{i:03d}")))
    return sorted([f"cm-{i:03d}" for i in range(60)] + ["kube-root-ca.crt"])


def test_limit_returns_first_page_with_continue_and_remaining_count(core, namespace, many_configmaps):
    page = core.list_namespaced_config_map(namespace, limit=25)
    assert [c.metadata.name for c in page.items] == many_configmaps[:25]
    assert page.metadata._continue
    assert page.metadata.remaining_item_count == 36


def test_continue_token_walks_every_object_once(core, namespace, many_configmaps):
    seen: list[str] = []
    token = None
    rvs = set()
    while True:
        page = core.list_namespaced_config_map(namespace, limit=25, _continue=token)
        seen += [c.metadata.name for c in page.items]
        rvs.add(page.metadata.resource_version)
        token = page.metadata._continue
        if not token:
            assert page.metadata.remaining_item_count is None
            break
    assert seen == many_configmaps
    assert len(rvs) == 1  # every page is served at the first page's resourceVersion


def test_continue_token_encodes_version_rv_and_start_key(core, namespace, many_configmaps):
    page = core.list_namespaced_config_map(namespace, limit=2)
    token = page.metadata._continue
    decoded = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
    assert decoded == {"v": "meta.k8s.io/v1", "rv": int(page.metadata.resource_version),
                       "start": many_configmaps[1] + "\x00"}


def test_limit_with_label_selector_pages_matching_objects(core, namespace, many_configmaps):
    for i in range(5):
        core.patch_namespaced_config_map(f"cm-{i * 10:03d}", namespace, {"metadata": {"labels": {"pick": "yes"}}})
    first = core.list_namespaced_config_map(namespace, limit=3, label_selector="pick=yes")
    assert [c.metadata.name for c in first.items] == ["cm-000", "cm-010", "cm-020"]
    rest = core.list_namespaced_config_map(namespace, limit=3, label_selector="pick=yes",
                                           _continue=first.metadata._continue)
    assert [c.metadata.name for c in rest.items] == ["cm-030", "cm-040"]
    assert not rest.metadata._continue


def test_continued_pages_show_the_first_pages_snapshot(core, namespace, many_configmaps):
    first = core.list_namespaced_config_map(namespace, limit=10)
    core.create_namespaced_config_map(namespace, client.V1ConfigMap(metadata=client.V1ObjectMeta(name="cm-050a")))
    core.delete_namespaced_config_map("cm-020", namespace)
    core.patch_namespaced_config_map("cm-030", namespace, {"data": {"late": "write"}})
    rest: list[client.V1ConfigMap] = []
    token = first.metadata._continue
    while token:
        page = core.list_namespaced_config_map(namespace, limit=25, _continue=token)
        rest += page.items
        token = page.metadata._continue
    names = [c.metadata.name for c in first.items + rest]
    assert names == many_configmaps  # cm-020 still there, cm-050a not yet
    assert next(c for c in rest if c.metadata.name == "cm-030").data is None
    fresh = [c.metadata.name for c in core.list_namespaced_config_map(namespace).items]
    assert "cm-050a" in fresh and "cm-020" not in fresh


def test_invalid_continue_token_is_bad_request(core, namespace):
    with pytest.raises(ApiException) as e:
        core.list_namespaced_config_map(namespace, limit=1, _continue="garbage")
    assert e.value.status == 400
    assert _status(e.value)["message"] == \
        "invalid continue token: continue key is not valid: invalid character '\\u0081' looking for beginning of value"


# ---------------------------------------------------------------- metav1.LabelSelector and map selectors


@pytest.mark.parametrize(
    ("selector", "expected"),
    [
        (None, False),  # a nil selector matches nothing
        ({}, True),  # an empty one everything
        ({"matchLabels": {"tier": "web"}}, True),
        ({"matchLabels": {"tier": "db"}}, False),
        ({"matchLabels": {"tier": "web"}, "matchExpressions": [{"key": "env", "operator": "In",
                                                                "values": ["dev"]}]}, False),
        ({"matchExpressions": [{"key": "env", "operator": "NotIn", "values": ["dev"]}]}, True),
        ({"matchExpressions": [{"key": "missing", "operator": "NotIn", "values": ["x"]}]}, True),
        ({"matchExpressions": [{"key": "env", "operator": "Exists"}]}, True),
        ({"matchExpressions": [{"key": "env", "operator": "DoesNotExist"}]}, False),
        ({"matchExpressions": [{"key": "env", "operator": "Bogus"}]}, True),  # skipped, as before
    ],
)
def test_label_selector_matches(selector: Obj | None, expected: bool) -> None:
    from pytest_azchaos.embedded.apiserver.selectors import label_selector_matches

    assert label_selector_matches(selector, {"tier": "web", "env": "prod"}) is expected


def test_set_selector_needs_every_pair_and_empty_selects_all() -> None:
    from pytest_azchaos.embedded.apiserver.selectors import set_selector_matches

    assert set_selector_matches({"app": "web"}, {"app": "web", "x": "y"})
    assert not set_selector_matches({"app": "web", "x": "z"}, {"app": "web", "x": "y"})
    assert set_selector_matches({}, {"app": "web"})
    assert set_selector_matches(None, None)
    assert not set_selector_matches({"app": "web"}, None)
