"""``--azchaos-target`` syntax: what parses into which ``Target``, and what is refused with which fix."""

from __future__ import annotations

from pathlib import Path

import pytest

from pytest_azchaos.targets import DEFAULT_STATUSES, Target, TargetError, parse_target, parse_targets


def test_a_bare_workload_uses_the_defaults() -> None:
    t = parse_target("deployment/shop/checkout")
    assert (t.kind, t.namespace, t.name, t.id) == ("deployment", "shop", "checkout", "deployment/shop/checkout")
    assert (t.service, t.ingress, t.url, t.port, t.path, t.statuses) == (None, None, None, None, "/", DEFAULT_STATUSES)
    assert (t.scheme, t.verify, t.keep_alive, t.echo, t.pod_header, t.headers) == ("http", True, False, None, None, ())


def test_a_statefulset_is_a_statefulset() -> None:
    t = parse_target("statefulset/db/pg,service=pg-lb")
    assert (t.controller_kind, t.service) == ("StatefulSet", "pg-lb")


def test_status_lists_and_ranges_continue_over_commas() -> None:
    t = parse_target("deployment/shop/checkout,status=200-299,301,path=/healthz")
    assert t.statuses == ((200, 299), (301, 301)) and t.path == "/healthz"
    assert t.accepts(204) and t.accepts(301) and not t.accepts(302) and not t.accepts(404)
    assert t.describe_statuses() == "200-299,301"


def test_headers_repeat_and_keep_commas_in_their_values() -> None:
    t = parse_target("deployment/shop/checkout,header=Accept:text/html,application/json,header=X-Api-Key: k")
    assert t.headers == (("Accept", "text/html,application/json"), ("X-Api-Key", "k"))


def test_an_https_url_sets_scheme_port_and_path() -> None:
    t = parse_target("deployment/shop/checkout,url=https://shop.example.com:8443/health?deep=1,verify=false")
    assert (t.scheme, t.port, t.path, t.verify) == ("https", 8443, "/health?deep=1", False)


def test_a_ca_bundle_is_kept_as_a_path(tmp_path: Path) -> None:
    ca = tmp_path / "ca.pem"
    ca.write_text("-----BEGIN CERTIFICATE-----\n")
    t = parse_target(f"deployment/shop/checkout,scheme=https,ca={ca},host=shop.example.com,keep-alive=true")
    assert (t.ca, t.host, t.keep_alive) == (str(ca), "shop.example.com", True)


def test_echo_and_pod_header_enable_what_only_agnhost_answers() -> None:
    t = parse_target("deployment/shop/checkout,echo=/debug/clientip,pod-header=X-Served-By")
    assert (t.echo, t.pod_header) == ("/debug/clientip", "X-Served-By")


def test_the_target_is_frozen() -> None:
    t = parse_target("deployment/shop/checkout")
    with pytest.raises(AttributeError):
        t.name = "other"  # type: ignore[misc]
    assert isinstance(t, Target)


def test_several_targets_keep_their_order_and_skip_blank_ini_lines() -> None:
    targets = parse_targets(["deployment/a/x", "", "statefulset/b/y"])
    assert [t.id for t in targets] == ["deployment/a/x", "statefulset/b/y"]


@pytest.mark.parametrize("text, fix", [
    ("deploy/shop/checkout", "kind must be deployment or statefulset, not 'deploy' (write deployment/shop/checkout)"),
    ("deployment/checkout", "write KIND/NAMESPACE/NAME, e.g. deployment/shop/checkout"),
    ("deployment/Shop/checkout", "namespace 'Shop' is not a namespace name"),
    ("deployment/shop/checkout,tls", "'tls' is not key=value"),
    ("deployment/shop/checkout,timeout=3", "unknown setting 'timeout'; the settings are service, ingress, url"),
    ("deployment/shop/checkout,path=/a,path=/b", "path is given twice; keep one"),
    ("deployment/shop/checkout,service=a,ingress=b", "give one way to reach it, not service and ingress"),
    ("deployment/shop/checkout,url=ftp://x", "must be http://HOST[:PORT][/PATH]"),
    ("deployment/shop/checkout,url=http://x/a,path=/b", "the path is given twice (url and path=)"),
    ("deployment/shop/checkout,url=http://x:80,port=81", "put the port in the url"),
    ("deployment/shop/checkout,path=healthz", "must be a path starting with '/'"),
    ("deployment/shop/checkout,status=ok", "write e.g. status=200-299,301"),
    ("deployment/shop/checkout,status=299-200", "write e.g. status=200-299,301"),
    ("deployment/shop/checkout,port=0", "port number 1-65535"),
    ("deployment/shop/checkout,verify=false", "add scheme=https"),
    ("deployment/shop/checkout,scheme=https,ca=/nonexistent/ca.pem", "CA file /nonexistent/ca.pem does not exist"),
    ("deployment/shop/checkout,scheme=https,verify=maybe", "verify='maybe' must be true or false"),
    ("deployment/shop/checkout,header=X-Key", "is not NAME:VALUE: write it as header=X-Api-Key:secret"),
    ("deployment/shop/checkout,header=Host:x", "use host= for the Host header"),
    ("deployment/shop/checkout,scheme=ftp", "scheme must be http or https"),
    ("deployment/shop/checkout,pod-header=X Pod", "is not a header name"),
])
def test_bad_targets_are_refused_naming_the_fix(text: str, fix: str) -> None:
    with pytest.raises(TargetError) as info:
        parse_target(text)
    assert fix in str(info.value)
    assert str(info.value).startswith(f"--azchaos-target {text!r}"), str(info.value)


def test_the_same_workload_twice_is_refused() -> None:
    with pytest.raises(TargetError, match="is given twice: keep one"):
        parse_targets(["deployment/a/x", "deployment/a/x,path=/h"])
