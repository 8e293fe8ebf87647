"""What the LBC / Auto Mode builds for a Service (``lbc/model.py``), one default or annotation per test.

Expected values are the facts file's (``eks-flavours-facts.md`` §1.1-1.3, ``k8s-aws-facts.md`` §E2)."""

from __future__ import annotations

import re
from typing import Any

from pytest_azchaos.embedded.lbc.model import (
    AUTO_MODE_CLASS,
    LBC_CLASS,
    HealthCheck,
    build_model,
    controller_of,
    parse_pairs,
)

A = "service.beta.kubernetes.io/"


def svc(annotations: dict[str, str] | None = None, cls: str | None = LBC_CLASS, **spec: Any) -> dict[str, Any]:
    return {"metadata": {"namespace": "shop-frontend", "name": "checkout-api", "uid": "0b5c6f0e-1",
                         "annotations": {A + k: v for k, v in (annotations or {}).items()}},
            "spec": {"type": "LoadBalancer", "loadBalancerClass": cls,
                     "ports": [{"name": "http", "port": 80, "targetPort": 8080, "nodePort": 30080}], **spec}}


def test_lbc_takes_its_class_and_external_with_a_target_type_but_not_plain_nlb() -> None:
    assert controller_of(svc(), "lbc") == "lbc"
    assert controller_of(svc({"aws-load-balancer-type": "external", "aws-load-balancer-nlb-target-type": "ip"},
                             cls=None), "lbc") == "lbc"
    assert controller_of(svc({"aws-load-balancer-type": "nlb-ip"}, cls=None), "lbc") == "lbc"
    assert controller_of(svc({"aws-load-balancer-type": "nlb"}, cls=None), "lbc") is None
    assert controller_of(svc(cls=AUTO_MODE_CLASS), "lbc") is None
    assert controller_of(svc(cls=AUTO_MODE_CLASS), "auto-mode") == "auto-mode"


def test_lbc_nlb_is_internal_by_default() -> None:
    assert build_model(svc(), "lbc", "us-east-1").scheme == "internal"


def test_scheme_annotation_wins_over_the_legacy_internal_one() -> None:
    m = build_model(svc({"aws-load-balancer-scheme": "internet-facing", "aws-load-balancer-internal": "true"}),
                    "lbc", "us-east-1")
    assert m.scheme == "internet-facing"
    assert build_model(svc({"aws-load-balancer-internal": "false"}), "lbc", "r").scheme == "internet-facing"


def test_auto_mode_ignores_the_unsupported_internal_and_proxy_protocol_annotations() -> None:
    m = build_model(svc({"aws-load-balancer-internal": "false", "aws-load-balancer-proxy-protocol": "*"},
                        cls=AUTO_MODE_CLASS), "auto-mode", "us-east-1")
    assert (m.scheme, m.proxy_protocol) == ("internal", False)


def test_target_type_defaults_to_instance_with_a_class() -> None:
    assert build_model(svc(), "lbc", "r").target_type == "instance"
    assert build_model(svc({"aws-load-balancer-nlb-target-type": "ip"}), "lbc", "r").target_type == "ip"


def test_health_check_defaults_per_target_type_and_traffic_policy() -> None:
    tcp = HealthCheck("TCP", "traffic-port", None, 10, 10, 3, 3)
    assert build_model(svc(), "lbc", "r").health == tcp
    assert build_model(svc({"aws-load-balancer-nlb-target-type": "ip"}, externalTrafficPolicy="Local"),
                       "lbc", "r").health == tcp
    local = build_model(svc(externalTrafficPolicy="Local", healthCheckNodePort=31234), "lbc", "r").health
    assert local == HealthCheck("HTTP", "31234", "/healthz", 10, 6, 2, 2)


def test_health_check_annotations_override_the_defaults() -> None:
    hc = build_model(svc({"aws-load-balancer-healthcheck-protocol": "http", "aws-load-balancer-healthcheck-path":
                          "/ready", "aws-load-balancer-healthcheck-interval": "5",
                          "aws-load-balancer-healthcheck-healthy-threshold": "2"}), "lbc", "r").health
    assert (hc.protocol, hc.path, hc.interval, hc.healthy, hc.unhealthy) == ("HTTP", "/ready", 5, 2, 3)


def test_client_ip_preserved_for_instance_not_for_ip_unless_set() -> None:
    assert build_model(svc(), "lbc", "r").preserve_client_ip is True
    assert build_model(svc({"aws-load-balancer-nlb-target-type": "ip"}), "lbc", "r").preserve_client_ip is False
    kept = build_model(svc({"aws-load-balancer-nlb-target-type": "ip", "aws-load-balancer-target-group-attributes":
                            "preserve_client_ip.enabled=true,deregistration_delay.timeout_seconds=30"}), "lbc", "r")
    assert (kept.preserve_client_ip, kept.deregistration_delay) == (True, 30)


def test_target_group_attribute_defaults() -> None:
    m = build_model(svc(), "lbc", "r")
    assert (m.deregistration_delay, m.unhealthy_termination, m.proxy_protocol, m.cross_zone) == (300, True, False,
                                                                                                 False)
    assert m.attribute("deregistration_delay.connection_termination.enabled") == "false"


def test_proxy_protocol_annotation_enables_proxy_protocol_v2() -> None:
    assert build_model(svc({"aws-load-balancer-proxy-protocol": "*"}), "lbc", "r").proxy_protocol is True


def test_cross_zone_from_the_load_balancer_attributes() -> None:
    m = build_model(svc({"aws-load-balancer-attributes": "load_balancing.cross_zone.enabled=true"}), "lbc", "r")
    assert m.cross_zone is True


def test_names_as_aws_gives_them() -> None:
    m = build_model(svc(), "lbc", "eu-west-1")
    assert re.fullmatch(r"k8s-shopfron-checkout-[0-9a-f]{10}", m.lb_name) and len(m.lb_name) <= 32, m.lb_name
    assert re.fullmatch(rf"{m.lb_name}-[0-9a-f]{{16}}\.elb\.eu-west-1\.amazonaws\.com", m.dns_name), m.dns_name
    assert [c.startswith("target-health.elbv2.k8s.aws/k8s-shopfron-checkout-") for c in m.gate_conditions()] == [True]


def test_attribute_pairs_parse_commas_and_newlines() -> None:
    assert parse_pairs("a=1, b = 2\nc=3\n") == {"a": "1", "b": "2", "c": "3"}
