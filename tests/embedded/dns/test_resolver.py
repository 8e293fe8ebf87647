"""Go's resolv.conf reading and the names it tries (nameList), which decide how many queries a lookup costs."""

from __future__ import annotations

from pytest_azchaos.embedded.dns.resolver import ResolvConf

POD = "search shop.svc.cluster.local svc.cluster.local cluster.local ec2.internal\nnameserver 10.100.0.10\n" \
      "options ndots:5\n"


def test_reads_nameservers_search_and_options() -> None:
    conf = ResolvConf.parse(POD + "options ndots:2 timeout:1 attempts:3 rotate use-vc\n")
    assert conf.nameservers == ("10.100.0.10",)
    assert conf.search == ("shop.svc.cluster.local.", "svc.cluster.local.", "cluster.local.", "ec2.internal.")
    assert (conf.ndots, conf.timeout, conf.attempts, conf.rotate, conf.use_tcp) == (2, 1.0, 3, True, True)


def test_defaults_without_a_file() -> None:
    conf = ResolvConf.parse("")
    assert (conf.nameservers, conf.ndots, conf.timeout, conf.attempts) == (("127.0.0.1", "::1"), 1, 5.0, 2)


def test_a_short_name_tries_every_search_suffix_before_itself() -> None:
    assert ResolvConf.parse(POD).name_list("web") == [
        "web.shop.svc.cluster.local.", "web.svc.cluster.local.", "web.cluster.local.", "web.ec2.internal.", "web."]


def test_a_name_with_ndots_dots_is_tried_first_and_a_rooted_name_alone() -> None:
    conf = ResolvConf.parse(POD.replace("ndots:5", "ndots:2"))
    assert conf.name_list("a.b.example")[0] == "a.b.example."
    assert conf.name_list("web.shop.svc.cluster.local.") == ["web.shop.svc.cluster.local."]
