"""An embedded cluster started with ``lb_controller="lbc"``: the AWS Load Balancer Controller as EKS clusters run it.

Real HTTP to the API server, real sockets through the NLBs, real DNS questions to the declared resolver.
Facts: ``eks-flavours-facts.md`` §1, ``k8s-aws-facts.md`` §E2.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import time
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from kubernetes import client

from pytest_azchaos.embedded.process import ClusterHandle

from ...clusters import api_client, own_cluster, without_kubectl_log
from ..waiting import wait_for
from .helpers import a_records, ask, deploy, hostname_of, http_get, node_address, resolver_of, service

LBC = "aws-load-balancer-controller"
GATE = "target-health.elbv2.k8s.aws/"
NO_ENDPOINTS = (
    'Internal error occurred: failed calling webhook "mservice.elbv2.k8s.aws": failed to call webhook: Post '
    '"https://aws-load-balancer-webhook-service.kube-system.svc:443/mutate-v1-service?timeout=10s": no endpoints '
    'available for service "aws-load-balancer-webhook-service"')


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ClusterHandle]:
    with own_cluster(tmp_path_factory.mktemp("lbc"), lb_controller="lbc") as handle:
        yield handle


@pytest.fixture(scope="module")
def api(cluster: ClusterHandle) -> Iterator[client.ApiClient]:
    with api_client(cluster) as api:
        core, apps = client.CoreV1Api(api), client.AppsV1Api(api)
        wait_for(lambda: apps.read_namespaced_deployment(LBC, "kube-system"),
                 lambda d: (d.status.ready_replicas or 0) == 2, timeout=30, what="both LBC replicas ready")
        wait_for(lambda: core.read_namespaced_endpoints("aws-load-balancer-webhook-service", "kube-system"),
                 lambda e: bool(e.subsets), timeout=30, what="the webhook Service's endpoints")
        yield api


@pytest.fixture
def core(api: client.ApiClient) -> client.CoreV1Api:
    return client.CoreV1Api(api)


@pytest.fixture
def apps(api: client.ApiClient) -> client.AppsV1Api:
    return client.AppsV1Api(api)


@pytest.fixture
def ns(core: client.CoreV1Api) -> Iterator[str]:
    name = f"lbc-{uuid.uuid4().hex[:6]}"
    core.create_namespace({"metadata": {"name": name}})
    yield name
    core.delete_namespace(name)


def test_controller_runs_as_two_replicas_in_kube_system(core: client.CoreV1Api) -> None:
    pods = core.list_namespaced_pod("kube-system", label_selector=f"app.kubernetes.io/name={LBC}").items
    assert len(pods) == 2 and all(p.status.phase == "Running" for p in pods), [(p.metadata.name, p.status.phase)
                                                                              for p in pods]


def test_webhook_stamps_the_lbc_class_whatever_the_annotations_say(core: client.CoreV1Api, ns: str) -> None:
    svc = service(core, ns, "web", "web", {"aws-load-balancer-type": "nlb"})
    assert svc.spec.load_balancer_class == "service.k8s.aws/nlb", svc.spec
    plain = core.create_namespaced_service(ns, {"metadata": {"name": "plain"}, "spec": {
        "selector": {"app": "web"}, "ports": [{"port": 80}]}})
    assert plain.spec.load_balancer_class is None, "only LoadBalancer Services get the class"


def test_service_gets_an_nlb_dns_name_not_addresses(core: client.CoreV1Api, ns: str) -> None:
    service(core, ns, "web", "web")
    svc = wait_for(lambda: core.read_namespaced_service("web", ns),
                   lambda s: bool(s.status.load_balancer.ingress), timeout=20, what="ingress")
    ingress = svc.status.load_balancer.ingress
    assert len(ingress) == 1 and ingress[0].ip is None, ingress
    assert re.fullmatch(rf"k8s-{ns.replace('-', '')[:8]}-web-[0-9a-f]{{10}}-[0-9a-f]{{16}}\.elb\.us-east-1\."
                        r"amazonaws\.com", ingress[0].hostname), ingress[0].hostname


def test_internal_nlb_times_out_from_the_host_and_answers_from_a_node(
        cluster: ClusterHandle, core: client.CoreV1Api, apps: client.AppsV1Api, ns: str) -> None:
    deploy(apps, ns, "web", 2)
    name = hostname_of(core, ns, service(core, ns, "web", "web").metadata.name)
    addresses = wait_for(lambda: a_records(resolver_of(cluster.kubeconfig), name), bool, what="A records")
    inside = node_address(core)
    wait_for(lambda: _answers(addresses[0], inside), bool, timeout=30, what="the NLB answering from a node")
    with pytest.raises(TimeoutError):  # internal (the LBC's default scheme): never answered from outside the VPC
        http_get(addresses[0], 8080, "/hostname", source="127.0.0.1", timeout=1.0)


def _answers(address: str, source: str) -> bool:
    try:
        return bool(http_get(address, 8080, "/hostname", source=source, timeout=1.0))
    except (TimeoutError, OSError):
        return False


def test_internet_facing_nlb_answers_the_host(cluster: ClusterHandle, core: client.CoreV1Api,
                                              apps: client.AppsV1Api, ns: str) -> None:
    deploy(apps, ns, "web", 1)
    name = hostname_of(core, ns, service(core, ns, "web", "web", {"aws-load-balancer-scheme": "internet-facing"})
                       .metadata.name)
    address = wait_for(lambda: a_records(resolver_of(cluster.kubeconfig), name), bool, what="A records")[0]
    wait_for(lambda: _answers(address, "127.0.0.1"), bool, timeout=30, what="an answer from the host")


def test_resolver_answers_every_zone_and_drops_a_zone_without_healthy_targets(
        cluster: ClusterHandle, core: client.CoreV1Api, apps: client.AppsV1Api, ns: str) -> None:
    resolver = resolver_of(cluster.kubeconfig)
    deploy(apps, ns, "one", 1)  # ip targets: one pod, so one zone with a healthy target
    deploy(apps, ns, "three", 3, spread=True)
    one = hostname_of(core, ns, service(core, ns, "one", "one", {"aws-load-balancer-nlb-target-type": "ip"})
                      .metadata.name)
    three = hostname_of(core, ns, service(core, ns, "three", "three", {"aws-load-balancer-nlb-target-type": "ip"})
                        .metadata.name)
    wait_for(lambda: a_records(resolver, three), lambda a: len(a) == 3, timeout=30, what="3 zones for 3 pods")
    wait_for(lambda: a_records(resolver, one), lambda a: len(a) == 1, timeout=30,
             what="only the zone of the one pod in the answer (the other two have no healthy target)")
    response = ask(resolver, three, tcp=True)
    assert response.answer and response.answer[0].ttl == 1, f"fast profile TTL: {response.answer}"
    unknown = ask(resolver, "k8s-nope-nope-0000000000-0000000000000000.elb.us-east-1.amazonaws.com")
    assert unknown.rcode() == 3, f"unknown NLB name: NXDOMAIN, got {unknown.rcode()}"


def test_ip_targets_see_the_nlb_address_unless_client_ip_is_preserved(
        cluster: ClusterHandle, core: client.CoreV1Api, apps: client.AppsV1Api, ns: str) -> None:
    resolver = resolver_of(cluster.kubeconfig)
    deploy(apps, ns, "web", 1)
    public = {"aws-load-balancer-scheme": "internet-facing", "aws-load-balancer-nlb-target-type": "ip"}
    plain = hostname_of(core, ns, service(core, ns, "plain", "web", public).metadata.name)
    kept = hostname_of(core, ns, service(core, ns, "kept", "web", {
        **public, "aws-load-balancer-target-group-attributes": "preserve_client_ip.enabled=true"}).metadata.name)
    for name, want in ((plain, "nlb"), (kept, "127.0.0.1")):
        address = wait_for(lambda n=name: a_records(resolver, n), lambda a: len(a) == 1, timeout=30,
                           what=f"{name}'s healthy zone")[0]
        seen = wait_for(lambda a=address: _clientip(a), bool, timeout=30, what=f"/clientip through {name}")
        expected = address if want == "nlb" else want
        assert seen.rpartition(":")[0] == expected, f"{name}: the pod saw {seen}, expected {expected}"


def _clientip(address: str) -> str:
    try:
        return http_get(address, 8080, "/clientip", source="127.0.0.1", timeout=1.0).strip()
    except (TimeoutError, OSError):
        return ""


def test_readiness_gate_injected_in_a_labelled_namespace_and_turns_true(
        core: client.CoreV1Api, apps: client.AppsV1Api, ns: str) -> None:
    core.patch_namespace(ns, {"metadata": {"labels": {"elbv2.k8s.aws/pod-readiness-gate-inject": "enabled"}}})
    hostname_of(core, ns, service(core, ns, "web", "web", {"aws-load-balancer-nlb-target-type": "ip"}).metadata.name)
    deploy(apps, ns, "web", 1)
    pod = wait_for(lambda: core.list_namespaced_pod(ns, label_selector="app=web").items, bool, what="the pod")[0]
    gates = [g.condition_type for g in pod.spec.readiness_gates or []]
    assert len(gates) == 1 and gates[0].startswith(GATE + f"k8s-{ns.replace('-', '')[:8]}-web-"), gates
    pod = wait_for(lambda: core.read_namespaced_pod(pod.metadata.name, ns),
                   lambda p: any(c.type == gates[0] and c.status == "True" for c in p.status.conditions or []),
                   timeout=30, what="the gate's condition True")
    wait_for(lambda: core.read_namespaced_pod(pod.metadata.name, ns),
             lambda p: any(c.type == "Ready" and c.status == "True" for c in p.status.conditions or []),
             timeout=10, what="the pod Ready once its gate is True")


def test_no_readiness_gate_without_the_namespace_label(core: client.CoreV1Api, apps: client.AppsV1Api,
                                                       ns: str) -> None:
    hostname_of(core, ns, service(core, ns, "web", "web", {"aws-load-balancer-nlb-target-type": "ip"}).metadata.name)
    deploy(apps, ns, "web", 1)
    pod = wait_for(lambda: core.list_namespaced_pod(ns, label_selector="app=web").items, bool, what="the pod")[0]
    assert not pod.spec.readiness_gates, pod.spec.readiness_gates


def _kubectl(cluster: ClusterHandle, *args: str) -> str:
    kubectl = shutil.which("kubectl")
    if kubectl is None:
        pytest.skip("kubectl is not installed")
    done = subprocess.run([kubectl, "--kubeconfig", str(cluster.kubeconfig), *args], capture_output=True, text=True,
                          timeout=60)
    assert done.returncode == 0, without_kubectl_log(done.stderr)
    return done.stdout


def test_kubectl_expose_gets_the_class_a_hostname_and_readiness_gates(
        cluster: ClusterHandle, core: client.CoreV1Api, apps: client.AppsV1Api, ns: str) -> None:
    _kubectl(cluster, "label", "namespace", ns, "elbv2.k8s.aws/pod-readiness-gate-inject=enabled")
    deploy(apps, ns, "web", 0)
    _kubectl(cluster, "-n", ns, "expose", "deployment", "web", "--type", "LoadBalancer", "--port", "8080")
    assert _kubectl(cluster, "-n", ns, "get", "svc", "web", "-o",
                    "jsonpath={.spec.loadBalancerClass}") == "service.k8s.aws/nlb"
    _kubectl(cluster, "-n", ns, "annotate", "svc", "web",
             "service.beta.kubernetes.io/aws-load-balancer-nlb-target-type=ip")
    hostname = hostname_of(core, ns, "web")
    wait_for(lambda: _kubectl(cluster, "-n", ns, "get", "svc", "web"), lambda out: hostname in out,
             what="the hostname in kubectl get svc")
    wait_for(lambda: core.read_namespaced_service("web", ns), lambda s: True)
    _kubectl(cluster, "-n", ns, "scale", "deployment", "web", "--replicas=1")
    out = wait_for(lambda: _kubectl(cluster, "-n", ns, "get", "pod", "-l", "app=web", "-o", "yaml"),
                   lambda y: "readinessGates" in y, timeout=20, what="a pod with a readiness gate")
    assert f"conditionType: {GATE}k8s-" in out, out
    webhooks = _kubectl(cluster, "get", "mutatingwebhookconfigurations")
    assert re.search(r"^NAME +WEBHOOKS +AGE\naws-load-balancer-webhook +2 +", webhooks), webhooks


def test_new_load_balancer_service_refused_while_no_controller_pod_runs(
        core: client.CoreV1Api, apps: client.AppsV1Api, ns: str) -> None:
    service(core, ns, "doomed", "web")
    wait_for(lambda: core.read_namespaced_service("doomed", ns),
             lambda s: "service.k8s.aws/resources" in (s.metadata.finalizers or []), what="the LBC's finalizer")
    apps.patch_namespaced_deployment_scale(LBC, "kube-system", {"spec": {"replicas": 0}})
    try:
        wait_for(lambda: core.list_namespaced_pod("kube-system", label_selector=f"app.kubernetes.io/name={LBC}").items,
                 lambda pods: not pods, timeout=30, what="both LBC replicas gone")
        with pytest.raises(client.ApiException) as refused:
            service(core, ns, "web", "web")
        status = json.loads(refused.value.body)
        assert (refused.value.status, status["reason"], status["message"]) == (500, "InternalError", NO_ENDPOINTS), \
            refused.value.body
        # The webhook's rules name every Service CREATE: a ClusterIP Service is refused just the same.
        with pytest.raises(client.ApiException) as also:
            core.create_namespaced_service(ns, {"metadata": {"name": "cip"}, "spec": {"ports": [{"port": 80}]}})
        assert json.loads(also.value.body)["message"] == NO_ENDPOINTS
        core.delete_namespaced_service("doomed", ns)
        stuck = core.read_namespaced_service("doomed", ns)
        assert stuck.metadata.deletion_timestamp and stuck.metadata.finalizers == ["service.k8s.aws/resources"], \
            "nobody removes the LBC's finalizer while it is down"
    finally:
        apps.patch_namespaced_deployment_scale(LBC, "kube-system", {"spec": {"replicas": 2}})
    wait_for(lambda: _try_create(core, ns), bool, timeout=30, what="Service creation accepted again")
    wait_for(lambda: [s.metadata.name for s in core.list_namespaced_service(ns).items], lambda names: "doomed" not in
             names, timeout=30, what="the deleted Service gone once the controller is back")


def _try_create(core: client.CoreV1Api, ns: str) -> Any:
    try:
        return service(core, ns, "again", "web")
    except client.ApiException:
        return None


def _elbv2(cluster: ClusterHandle) -> Any:
    import boto3

    env = cluster.aws_env
    return boto3.session.Session(aws_access_key_id=env["AWS_ACCESS_KEY_ID"],
                                 aws_secret_access_key=env["AWS_SECRET_ACCESS_KEY"],
                                 region_name=env["AWS_DEFAULT_REGION"]).client(
        "elbv2", endpoint_url=env["AWS_ENDPOINT_URL"])


def test_aws_side_mirrors_scheme_target_type_attributes_and_target_health(
        cluster: ClusterHandle, core: client.CoreV1Api, apps: client.AppsV1Api, ns: str) -> None:
    deploy(apps, ns, "web", 1)
    hostname_of(core, ns, service(core, ns, "web", "web", {
        "aws-load-balancer-nlb-target-type": "ip",
        "aws-load-balancer-target-group-attributes": "deregistration_delay.timeout_seconds=30"}).metadata.name)
    elb = _elbv2(cluster)
    prefix = f"k8s-{ns.replace('-', '')[:8]}-web-"
    lb = wait_for(lambda: [x for x in elb.describe_load_balancers()["LoadBalancers"]
                           if x["LoadBalancerName"].startswith(prefix)], bool, timeout=20, what="the mirrored NLB")[0]
    assert (lb["Scheme"], lb["Type"]) == ("internal", "network"), lb
    tg = elb.describe_target_groups(LoadBalancerArn=lb["LoadBalancerArn"])["TargetGroups"][0]
    assert (tg["TargetType"], tg["Port"], tg["HealthCheckProtocol"], tg["HealthCheckIntervalSeconds"],
            tg["HealthyThresholdCount"], tg["UnhealthyThresholdCount"]) == ("ip", 8080, "TCP", 10, 3, 3), tg
    attrs = {a["Key"]: a["Value"] for a in elb.describe_target_group_attributes(
        TargetGroupArn=tg["TargetGroupArn"])["Attributes"]}
    assert attrs["preserve_client_ip.enabled"] == "false" and attrs["deregistration_delay.timeout_seconds"] == "30", \
        attrs
    pod_ip = wait_for(lambda: core.list_namespaced_pod(ns, label_selector="app=web").items,
                      lambda pods: bool(pods and pods[0].status.pod_ip), what="the pod's address")[0].status.pod_ip
    health = wait_for(lambda: elb.describe_target_health(TargetGroupArn=tg["TargetGroupArn"])[
        "TargetHealthDescriptions"], lambda d: [(h["Target"]["Id"], h["TargetHealth"]["State"]) for h in d] == [
        (pod_ip, "healthy")], timeout=30, what="the pod registered and healthy")
    assert health[0]["Target"]["Port"] == 8080


def test_internal_nlb_answers_a_pod_that_dials_its_dns_name(core: client.CoreV1Api, apps: client.AppsV1Api,
                                                            ns: str) -> None:
    deploy(apps, ns, "web", 1)
    deploy(apps, ns, "client", 1)
    name = hostname_of(core, ns, service(core, ns, "web", "web").metadata.name)
    pod = wait_for(lambda: core.list_namespaced_pod(ns, label_selector="app=client").items,
                   lambda pods: bool(pods and pods[0].status.pod_ip and pods[0].status.phase == "Running"),
                   timeout=20, what="the client pod")[0]
    path = f"/dial?request=hostname&host={name}&port=8080&protocol=http&tries=1"

    def dial() -> str:
        try:
            return http_get(pod.status.pod_ip, 8080, path, timeout=5.0)
        except (TimeoutError, OSError):
            return ""

    body = wait_for(dial, lambda b: '"responses":["web-' in b.replace(" ", ""), timeout=30,
                    what="the internal NLB answering a pod that resolved its name through cluster DNS")
    assert '"errors"' not in body or '"errors":[]' in body.replace(" ", ""), body


def test_new_pods_become_targets_only_once_a_controller_replica_runs_again(
        cluster: ClusterHandle, core: client.CoreV1Api, apps: client.AppsV1Api, ns: str) -> None:
    resolver = resolver_of(cluster.kubeconfig)
    deploy(apps, ns, "web", 1, spread=True)
    name = hostname_of(core, ns, service(core, ns, "web", "web", {"aws-load-balancer-nlb-target-type": "ip"})
                       .metadata.name)
    wait_for(lambda: a_records(resolver, name), lambda a: len(a) == 1, timeout=30, what="one zone served")
    apps.patch_namespaced_deployment_scale(LBC, "kube-system", {"spec": {"replicas": 0}})
    try:
        wait_for(lambda: core.list_namespaced_pod("kube-system", label_selector=f"app.kubernetes.io/name={LBC}").items,
                 lambda pods: not pods, timeout=30, what="both LBC replicas gone")
        apps.patch_namespaced_deployment_scale("web", ns, {"spec": {"replicas": 3}})
        wait_for(lambda: apps.read_namespaced_deployment("web", ns), lambda d: d.status.ready_replicas == 3,
                 timeout=30, what="3 ready pods")
        time.sleep(3)  # registration and health checks would be done by now (fast profile: about 2.5 s)
        assert len(a_records(resolver, name)) == 1, "with no controller running, new pods never become targets"
    finally:
        apps.patch_namespaced_deployment_scale(LBC, "kube-system", {"spec": {"replicas": 2}})
    wait_for(lambda: a_records(resolver, name), lambda a: len(a) == 3, timeout=30,
             what="the new pods registered once the controller is back")


def test_deleting_a_namespace_with_lbc_services_leaves_no_controller_errors(
        cluster: ClusterHandle, core: client.CoreV1Api, apps: client.AppsV1Api) -> None:
    import requests

    name = f"lbc-gone-{uuid.uuid4().hex[:6]}"
    core.create_namespace({"metadata": {"name": name}})
    deploy(apps, name, "web", 2)
    hostname_of(core, name, service(core, name, "web", "web", {"aws-load-balancer-nlb-target-type": "ip"})
                .metadata.name)
    wait_for(lambda: apps.read_namespaced_deployment("web", name), lambda d: d.status.ready_replicas == 2,
             timeout=30, what="2 ready pods")
    core.delete_namespace(name)
    wait_for(lambda: [n.metadata.name for n in core.list_namespace().items], lambda names: name not in names,
             timeout=60, what="the namespace gone (the LBC's finalizer released)")
    errors = requests.get(cluster.url + "/azchaos/v1/controller-errors", timeout=5,
                          headers={"Authorization": "Bearer azchaos-embedded"}).json()["controllers"]
    assert errors == [], errors
