"""The sample Service asks each controller for exactly the NLB chosen: class, scheme and target type stated for the
LBC and Auto Mode (never a default), the legacy controller's own annotations for legacy."""

from __future__ import annotations

from pytest_azchaos.apps.echo import EchoSpec, echo_manifests
from pytest_azchaos.lb.flavours import (
    AUTO_MODE_CLASS,
    LBC_CLASS,
    SCHEME_ANNOTATION,
    TARGET_TYPE_ANNOTATION,
    TG_ATTRIBUTES_ANNOTATION,
    LbFlavour,
    parse_attributes,
    service_fields,
    service_scheme,
)


def _service(lb: LbFlavour | None, **spec: object) -> dict:
    return next(m for m in echo_manifests(EchoSpec(lb=lb, **spec)) if m["kind"] == "Service")  # type: ignore[arg-type]


def test_lbc_ip_states_class_scheme_target_type_and_client_ip_preservation() -> None:
    svc = _service(LbFlavour("lbc-ip", "internet-facing"))
    ann = svc["metadata"]["annotations"]
    assert svc["spec"]["loadBalancerClass"] == LBC_CLASS
    assert ann[SCHEME_ANNOTATION] == "internet-facing" and ann[TARGET_TYPE_ANNOTATION] == "ip"
    assert parse_attributes(ann[TG_ATTRIBUTES_ANNOTATION]) == {"preserve_client_ip.enabled": "true"}
    assert "service.beta.kubernetes.io/aws-load-balancer-type" not in ann  # never on an LBC Service (nlb.md)


def test_lbc_instance_states_the_target_type_it_would_default_to() -> None:
    svc = _service(LbFlavour("lbc-instance", "internal"))
    ann = svc["metadata"]["annotations"]
    assert (svc["spec"]["loadBalancerClass"], ann[SCHEME_ANNOTATION], ann[TARGET_TYPE_ANNOTATION]) == (
        LBC_CLASS, "internal", "instance")


def test_auto_mode_uses_its_class_and_the_attributes_annotation_for_cross_zone() -> None:
    svc = _service(LbFlavour("auto-mode", "internet-facing"), cross_zone=True)
    ann = svc["metadata"]["annotations"]
    assert svc["spec"]["loadBalancerClass"] == AUTO_MODE_CLASS
    assert ann["service.beta.kubernetes.io/aws-load-balancer-attributes"] == "load_balancing.cross_zone.enabled=true"
    # Auto Mode does not support these (auto-configure-nlb.adoc)
    assert not {"service.beta.kubernetes.io/aws-load-balancer-type",
                "service.beta.kubernetes.io/aws-load-balancer-internal",
                "service.beta.kubernetes.io/aws-load-balancer-cross-zone-load-balancing-enabled"} & set(ann)


def test_legacy_internet_facing_is_the_old_service_and_internal_uses_the_legacy_annotation() -> None:
    assert _service(None)["metadata"]["annotations"] == {"service.beta.kubernetes.io/aws-load-balancer-type": "nlb"}
    assert "loadBalancerClass" not in _service(None)["spec"]
    cls, ann = service_fields(LbFlavour("legacy", "internal"))
    assert cls is None and ann["service.beta.kubernetes.io/aws-load-balancer-internal"] == "true"


def test_negative_control_knob_turns_client_ip_preservation_off() -> None:
    ann = _service(LbFlavour("lbc-ip"), preserve_client_ip=False)["metadata"]["annotations"]
    assert parse_attributes(ann[TG_ATTRIBUTES_ANNOTATION])["preserve_client_ip.enabled"] == "false"


def test_scheme_as_each_controller_reads_it() -> None:
    assert service_scheme({}, LBC_CLASS) == "internal"  # the LBC's default since v2.2.0
    assert service_scheme({SCHEME_ANNOTATION: "internet-facing"}, AUTO_MODE_CLASS) == "internet-facing"
    assert service_scheme({}, None) == "internet-facing"  # legacy: no Scheme sent, ELBv2's default
    assert service_scheme({"service.beta.kubernetes.io/aws-load-balancer-internal": "false"}, None) == "internet-facing"
    assert service_scheme({"service.beta.kubernetes.io/aws-load-balancer-internal": "0.0.0.0/0"}, None) == "internal"
