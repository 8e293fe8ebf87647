"""CRD schema rules without a cluster: the CEL subset, transition rules, and that a rule the
evaluator cannot read never rejects an object."""

from __future__ import annotations

import pytest

from pytest_azchaos.embedded.apiserver.crd import schema
from pytest_azchaos.embedded.apiserver.crd.cel import Unsupported, evaluate

SCHEMA = {"type": "object", "properties": {"spec": {
    "type": "object",
    "x-kubernetes-validations": [{"rule": "self.min <= self.max", "message": "min must not exceed max"},
                                 {"rule": "self.name == oldSelf.name", "message": "name is immutable",
                                  "fieldPath": ".name"},
                                 {"rule": "self.name.someFunction()", "message": "never evaluated"}],
    "properties": {"min": {"type": "integer"}, "max": {"type": "integer"}, "name": {"type": "string"},
                   "tags": {"type": "array", "items": {"type": "string",
                                                      "x-kubernetes-validations": [{"rule": "size(self) < 4"}]}}}}}}


@pytest.mark.parametrize(("rule", "value", "want"), [
    ("self.a > 1 && self.b == 'x'", {"a": 2, "b": "x"}, True),
    ("!has(self.c) || self.c in ['p', 'q']", {"c": "r"}, False),
    ("self.items.exists(i, i.endsWith('z')) ? size(self.items) == 2 : false", {"items": ["a", "bz"]}, True),
    ("self.items.all(i, i.matches('^[a-z]+$'))", {"items": ["ok", "NO"]}, False),
    ("self.n % 2 == 0 && -self.n < 0", {"n": 4}, True),
])
def test_cel_subset(rule: str, value: dict, want: bool) -> None:
    assert evaluate(rule, value) is want


def test_unknown_function_and_missing_key_are_unsupported() -> None:
    with pytest.raises(Unsupported):
        evaluate("self.quantity().isGreaterThan(1)", {})
    with pytest.raises(Unsupported):
        evaluate("self.missing == 1", {})


def test_failed_rule_reports_message_at_its_node() -> None:
    causes = schema.validate({"spec": {"min": 3, "max": 1, "name": "a"}}, SCHEMA, has_rules=True)
    assert [(c.field, c.message) for c in causes] == [("spec", "Invalid value: min must not exceed max")]


def test_rule_without_message_reports_the_rule_on_list_items() -> None:
    causes = schema.validate({"spec": {"min": 1, "max": 1, "tags": ["ok", "long"]}}, SCHEMA, has_rules=True)
    assert [(c.field, c.message) for c in causes] == [("spec.tags[1]", "Invalid value: failed rule: size(self) < 4")]


def test_transition_rule_runs_on_update_only() -> None:
    new = {"spec": {"min": 1, "max": 2, "name": "b"}}
    assert schema.validate(new, SCHEMA, has_rules=True) == []
    causes = schema.validate(new, SCHEMA, has_rules=True, old={"spec": {"min": 1, "max": 2, "name": "a"}})
    assert [(c.field, c.message) for c in causes] == [("spec.name", "Invalid value: name is immutable")]


def test_blocking_schema_error_skips_rules_and_says_so() -> None:
    causes = schema.validate({"spec": {"min": "x", "max": 1}}, SCHEMA, has_rules=True)
    assert [c.field for c in causes] == ["spec.min", "<nil>"]


def test_install_serves_a_crd_at_once_and_deleting_it_unserves(tmp_path: object) -> None:
    """What an add-on of the embedded cluster uses: no event loop turn needed in between."""
    from pytest_azchaos.embedded.apiserver.crd.controller import install
    from pytest_azchaos.embedded.apiserver.store import Store

    store = Store()
    crd = {"metadata": {"name": "gadgets.inproc.example.org"},
           "spec": {"group": "inproc.example.org", "scope": "Cluster", "names": {"plural": "gadgets", "kind": "Gadget"},
                    "versions": [{"name": "v1", "served": True, "storage": True, "schema": {"openAPIV3Schema": {
                        "type": "object", "properties": {"spec": {"type": "object", "properties": {
                            "n": {"type": "integer", "default": 3}}}}}}}]}}
    (rtype,) = install(store, crd)
    assert (rtype.plural, rtype.kind, rtype.namespaced) == ("gadgets", "Gadget", False)
    assert store.registry.lookup("inproc.example.org", "v1", "gadgets") is rtype
    made = store.create(rtype, "", {"metadata": {"name": "g"}, "spec": {}})
    assert (made["apiVersion"], made["spec"]) == ("inproc.example.org/v1", {"n": 3})
    assert install(store, crd) == [rtype]  # idempotent
    crd_type = store.registry.lookup("apiextensions.k8s.io", "v1", "customresourcedefinitions")
    store.delete(crd_type, "", "gadgets.inproc.example.org")
    assert store.peek("customresourcedefinitions.apiextensions.k8s.io", "", "gadgets.inproc.example.org") is None
    assert store.registry.lookup("inproc.example.org", "v1", "gadgets") is None
    assert list(store.scan(rtype.key)) == []
