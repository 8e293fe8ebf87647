"""Issue 12's last negative control through the plugin, as a user runs it: on a session cluster with the AWS Load
Balancer Controller (``--azchaos-embedded-lb-controller lbc``) both controller replicas sit in one zone (AZ-ADDONS
says so before the fault), that zone is drained through the plugin's Chaos facade, and deploying the sample app
then fails: its LoadBalancer Service is refused by the fail-closed webhook ``mservice.elbv2.k8s.aws``, and the
message names the webhook, its configuration, the controller with its zone and the fix. The controller's
placement is restored in the test (its replicas come back in the zones left) and a Service is accepted again."""

from __future__ import annotations

import pytest

pytest_plugins = ["pytester"]

TEST = '''
import pytest

from pytest_azchaos.checks.addons import addons
from pytest_azchaos.kube.wait import wait_until
from pytest_azchaos.wellknown import ZONE_LABEL

NAME, NS = "aws-load-balancer-controller", "kube-system"


def _ready_in(cluster, zones):
    pods = [p for p in cluster.core.list_namespaced_pod(NS, label_selector=f"app.kubernetes.io/name={NAME}").items
            if p.metadata.deletion_timestamp is None]
    nodes = {n for z, names in cluster.nodes_by_zone().items() if z in zones for n in names}
    return len(pods) == 2 and all(p.spec.node_name in nodes and p.status.phase == "Running" for p in pods)


@pytest.mark.azchaos_destructive
def test_lbc_in_the_lost_zone(azchaos_cluster, azchaos_chaos, azchaos_zone, azchaos_deploy, azchaos_namespace):
    apps = azchaos_cluster.apps
    before = apps.read_namespaced_deployment(NAME, NS).spec.template.spec.node_selector
    apps.patch_namespaced_deployment(NAME, NS, {"spec": {"template": {"spec": {
        "nodeSelector": {ZONE_LABEL: azchaos_zone}}}}})
    try:
        assert wait_until(lambda: None, lambda _: _ready_in(azchaos_cluster, {azchaos_zone}), timeout=60,
                          what="the controller's replicas in one zone").ok
        print("ADDONS", addons(azchaos_cluster.core).message())
        azchaos_chaos.drain_zone(azchaos_zone)
        azchaos_deploy()  # fails the test with the plugin's message
    finally:
        apps.patch_namespaced_deployment(NAME, NS, {"spec": {"template": {"spec": {"nodeSelector": before}}}})
        others = set(azchaos_cluster.nodes_by_zone()) - {azchaos_zone}
        back = wait_until(lambda: None, lambda _: _ready_in(azchaos_cluster, others), timeout=60,
                          what="the controller's replicas back in the zones left").ok
        svc = {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "after"},
               "spec": {"type": "LoadBalancer", "selector": {"app": "none"}, "ports": [{"port": 8080}]}}
        created = azchaos_cluster.core.create_namespaced_service(azchaos_namespace, svc)
        print("RESTORED", back, created.spec.load_balancer_class)
'''


def test_both_lbc_replicas_in_the_lost_zone_refuse_new_load_balancer_services_naming_the_webhook(
        pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_zone_loss=TEST)
    result = pytester.runpytest_subprocess("-s", "-p", "no:cacheprovider", "--azchaos-embedded-lb-controller", "lbc",
                                           "--azchaos-lb", "lbc-instance", timeout=600)
    out = result.stdout.str()
    result.assert_outcomes(failed=1)
    assert "ADDONS AZ-ADDONS FAILED" in out and "aws-load-balancer-controller" in out, out[-4000:]
    assert "runs only in" in out, out[-4000:]
    flat = " ".join(out.split())  # the terminal wraps the failure message
    assert "creating Service" in flat and "was refused by the API server: its admission webhook " \
        "mservice.elbv2.k8s.aws could not be called" in flat, out[-4000:]
    assert 'no endpoints available for service "aws-load-balancer-webhook-service"' in flat, out[-4000:]
    assert "MutatingWebhookConfiguration/aws-load-balancer-webhook has failurePolicy Fail" in flat, out[-4000:]
    assert "Deployment kube-system/aws-load-balancer-controller, pinned to zone" in flat, out[-4000:]
    assert "fix: helm upgrade aws-load-balancer-controller with replicaCount >= 2" in flat, out[-4000:]
    assert "RESTORED True service.k8s.aws/nlb" in out, out[-4000:]
