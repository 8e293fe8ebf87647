"""The embedded cluster's AWS side (moto server): instances = nodes, one ASG per zone, NLBs, and the
coupling from EC2 instance state to node state. Everything through boto3 over HTTP and the official client."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from kubernetes import client

from pytest_azchaos.embedded.cloud.endpoint import env_file_for, read_env_file
from pytest_azchaos.embedded.process import ClusterHandle

from ... import clusters
from ..waiting import wait_for

AGNHOST = "registry.k8s.io/e2e-test-images/agnhost:2.52"
ZONE = "topology.kubernetes.io/zone"


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ClusterHandle]:
    with clusters.own_cluster(tmp_path_factory.mktemp("cloud")) as handle:
        yield handle


@pytest.fixture(scope="module")
def aws(cluster: ClusterHandle) -> boto3.session.Session:
    env = cluster.aws_env
    return boto3.session.Session(aws_access_key_id=env["AWS_ACCESS_KEY_ID"],
                                 aws_secret_access_key=env["AWS_SECRET_ACCESS_KEY"],
                                 region_name=env["AWS_DEFAULT_REGION"])


def client_for(aws: boto3.session.Session, cluster: ClusterHandle, service: str) -> Any:
    return aws.client(service, endpoint_url=cluster.aws_env["AWS_ENDPOINT_URL"])


@pytest.fixture(scope="module")
def ec2(aws, cluster):
    return client_for(aws, cluster, "ec2")


@pytest.fixture(scope="module")
def core(cluster: ClusterHandle) -> Iterator[client.CoreV1Api]:
    with clusters.api_client(cluster) as api:
        yield client.CoreV1Api(api)


@pytest.fixture
def ns(core: client.CoreV1Api) -> Iterator[str]:
    with clusters.fresh_namespace(core, "cloud") as name:
        yield name


def instances(ec2) -> dict[str, dict]:
    return {i["InstanceId"]: i for r in ec2.describe_instances()["Reservations"] for i in r["Instances"]}


def node_ready(core: client.CoreV1Api, name: str) -> str:
    node = core.read_node(name)
    return next(c.status for c in node.status.conditions if c.type == "Ready")


def test_aws_settings_are_written_next_to_the_kubeconfig(cluster: ClusterHandle) -> None:
    env = read_env_file(cluster.kubeconfig)
    assert env == cluster.aws_env
    assert set(env) == {"AWS_ENDPOINT_URL", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_DEFAULT_REGION"}
    assert env["AWS_ENDPOINT_URL"].startswith(f"http://127.{cluster.block}.0.1:")
    assert f"export AWS_ENDPOINT_URL={env['AWS_ENDPOINT_URL']}\n" in env_file_for(cluster.kubeconfig).read_text()


def test_every_node_has_its_instance_in_its_zone_with_node_group_tags(cluster, core, ec2) -> None:
    found = instances(ec2)
    nodes = core.list_node().items
    assert len(found) == len(nodes) == 6
    for node in nodes:
        _, _, _, zone, iid = node.spec.provider_id.split("/")
        inst = found[iid]
        assert zone == node.metadata.labels[ZONE] == inst["Placement"]["AvailabilityZone"]
        assert inst["State"]["Name"] == "running"
        assert inst["InstanceType"] == node.metadata.labels["node.kubernetes.io/instance-type"]
        tags = {t["Key"]: t["Value"] for t in inst["Tags"]}
        assert tags["eks:cluster-name"] == "azchaos"
        assert tags["eks:nodegroup-name"] == node.metadata.labels["eks.amazonaws.com/nodegroup"]
        assert tags["kubernetes.io/cluster/azchaos"] == "owned"
        assert tags["aws:autoscaling:groupName"].startswith(f"eks-{tags['eks:nodegroup-name']}-")


def test_each_zone_has_one_auto_scaling_group_holding_its_nodes(aws, cluster, core) -> None:
    groups = client_for(aws, cluster, "autoscaling").describe_auto_scaling_groups()["AutoScalingGroups"]
    by_zone: dict[str, set[str]] = {}
    for node in core.list_node().items:
        by_zone.setdefault(node.metadata.labels[ZONE], set()).add(node.spec.provider_id.rsplit("/", 1)[1])
    assert sorted(g["AvailabilityZones"][0] for g in groups) == sorted(by_zone)
    for g in groups:
        assert len(g["AvailabilityZones"]) == 1
        assert {i["InstanceId"] for i in g["Instances"]} == by_zone[g["AvailabilityZones"][0]]
        # MinSize = desired (scale-down never below the start), MaxSize = desired + 2: room for the autoscaler.
        assert (g["MinSize"], g["DesiredCapacity"], g["MaxSize"]) == (2, 2, 2)  # eksctl's default: no room
        assert g["LaunchTemplate"]["LaunchTemplateName"].startswith("eks-")
        tags = {t["Key"]: t["Value"] for t in g["Tags"]}
        assert tags["k8s.io/cluster-autoscaler/enabled"] == "true"
        assert tags["k8s.io/cluster-autoscaler/azchaos"] == "owned"


def echo(name: str, replicas: int, toleration_seconds: int | None = None) -> client.V1Deployment:
    tolerations = None
    if toleration_seconds is not None:
        tolerations = [client.V1Toleration(key=f"node.kubernetes.io/{k}", operator="Exists", effect="NoExecute",
                                           toleration_seconds=toleration_seconds) for k in ("not-ready", "unreachable")]
    container = client.V1Container(name="echo", image=AGNHOST, args=["netexec", "--http-port=8080"],
                                   readiness_probe=client.V1Probe(http_get=client.V1HTTPGetAction(path="/readyz",
                                                                                                  port=8080),
                                                                  period_seconds=1))
    labels = {"app": name}
    return client.V1Deployment(
        metadata=client.V1ObjectMeta(name=name),
        spec=client.V1DeploymentSpec(
            replicas=replicas, selector=client.V1LabelSelector(match_labels=labels),
            template=client.V1PodTemplateSpec(
                metadata=client.V1ObjectMeta(labels=labels),
                spec=client.V1PodSpec(containers=[container], tolerations=tolerations,
                                      termination_grace_period_seconds=0))))


def ready_pods(core: client.CoreV1Api, ns: str, app: str) -> list[client.V1Pod]:
    pods = core.list_namespaced_pod(ns, label_selector=f"app={app}").items
    return [p for p in pods if not p.metadata.deletion_timestamp and any(
        c.type == "Ready" and c.status == "True" for c in (p.status.conditions or []))]


def test_nlb_target_health_is_the_embedded_health_checks_not_the_instance_state(aws, cluster, core, ns) -> None:
    client.AppsV1Api(core.api_client).create_namespaced_deployment(ns, echo("web", 1))
    core.create_namespaced_service(ns, client.V1Service(
        metadata=client.V1ObjectMeta(name="web"),
        spec=client.V1ServiceSpec(type="LoadBalancer", selector={"app": "web"}, external_traffic_policy="Local",
                                  ports=[client.V1ServicePort(port=8080, target_port=8080)])))
    elb = client_for(aws, cluster, "elbv2")

    def lb_of_service() -> list[dict]:
        lbs = elb.describe_load_balancers()["LoadBalancers"]
        tagged = elb.describe_tags(ResourceArns=[lb["LoadBalancerArn"] for lb in lbs])["TagDescriptions"] if lbs else []
        return [d for d in tagged if {"Key": "kubernetes.io/service-name", "Value": f"{ns}/web"} in d["Tags"]]

    arn = wait_for(lb_of_service, bool, timeout=20, what="the Service's NLB")[0]["ResourceArn"]
    lb = elb.describe_load_balancers(LoadBalancerArns=[arn])["LoadBalancers"][0]
    assert lb["Type"] == "network" and len(lb["AvailabilityZones"]) == 3
    svc = core.read_namespaced_service("web", ns)
    tg = elb.describe_target_groups(LoadBalancerArn=arn)["TargetGroups"][0]
    assert (tg["Port"], tg["TargetType"]) == (svc.spec.ports[0].node_port, "instance")
    assert (tg["HealthCheckProtocol"], tg["HealthCheckPort"], tg["HealthCheckPath"]) == (
        "HTTP", str(svc.spec.health_check_node_port), "/healthz")
    pod = wait_for(lambda: ready_pods(core, ns, "web"), lambda p: len(p) == 1, timeout=20, what="the pod Ready")[0]
    pod_instance = core.read_node(pod.spec.node_name).spec.provider_id.rsplit("/", 1)[1]

    def states() -> dict[str, str]:
        return {h["Target"]["Id"]: h["TargetHealth"]["State"]
                for h in elb.describe_target_health(TargetGroupArn=tg["TargetGroupArn"])["TargetHealthDescriptions"]}

    # Local policy, one pod: only its node passes /healthz on the healthCheckNodePort (moto alone says all healthy).
    seen = wait_for(states, lambda s: len(s) == 6 and list(s.values()).count("unhealthy") == 5
                    and s.get(pod_instance) == "healthy", timeout=20, what="5 unhealthy targets and 1 healthy")
    assert sorted(seen.values()) == ["healthy"] + ["unhealthy"] * 5
    core.delete_namespaced_service("web", ns)
    wait_for(lb_of_service, lambda found: not found, timeout=15, what="the NLB to be deleted")


def test_stopping_an_instance_takes_its_node_down_and_its_pods_are_replaced_after_the_toleration(
        aws, cluster, core, ec2, ns) -> None:
    """With HealthCheck and ReplaceUnhealthy suspended (else its ASG replaces the stopped instance, see
    tests/embedded/autoscaler), the same instance and node come back."""
    apps = client.AppsV1Api(core.api_client)
    apps.create_namespaced_deployment(ns, echo("solo", 1, toleration_seconds=1))
    pod = wait_for(lambda: ready_pods(core, ns, "solo"), lambda p: len(p) == 1, timeout=20, what="the pod Ready")[0]
    node = pod.spec.node_name
    iid = core.read_node(node).spec.provider_id.rsplit("/", 1)[1]
    asg = client_for(aws, cluster, "autoscaling")
    group = asg.describe_auto_scaling_instances(InstanceIds=[iid])["AutoScalingInstances"][0]["AutoScalingGroupName"]
    keep = ["HealthCheck", "ReplaceUnhealthy"]
    asg.suspend_processes(AutoScalingGroupName=group, ScalingProcesses=keep)
    ec2.stop_instances(InstanceIds=[iid])
    try:
        wait_for(lambda: node_ready(core, node), lambda s: s != "True", timeout=15, what=f"{node} not Ready")
        moved = wait_for(lambda: ready_pods(core, ns, "solo"),
                         lambda p: len(p) == 1 and p[0].spec.node_name != node, timeout=30,
                         what="the replacement pod Ready on another node")
        assert moved[0].metadata.name != pod.metadata.name
    finally:
        ec2.start_instances(InstanceIds=[iid])
        asg.resume_processes(AutoScalingGroupName=group, ScalingProcesses=keep)
    wait_for(lambda: node_ready(core, node), lambda s: s == "True", timeout=15, what=f"{node} Ready again")
    assert instances(ec2)[iid]["State"]["Name"] == "running"


def test_each_dynamically_provisioned_pv_has_its_ebs_volume_in_its_zone_with_csi_tags(cluster, core, ec2, ns) -> None:
    core.create_namespaced_persistent_volume_claim(ns, client.V1PersistentVolumeClaim(
        metadata=client.V1ObjectMeta(name="data"),
        spec=client.V1PersistentVolumeClaimSpec(access_modes=["ReadWriteOnce"], storage_class_name="gp3",
                                                resources=client.V1VolumeResourceRequirements(
                                                    requests={"storage": "2Gi"}))))
    core.create_namespaced_pod(ns, client.V1Pod(
        metadata=client.V1ObjectMeta(name="user"),
        spec=client.V1PodSpec(containers=[client.V1Container(name="c", image=AGNHOST, args=["pause"],
                                                             volume_mounts=[client.V1VolumeMount(name="d",
                                                                                                 mount_path="/d")])],
                              volumes=[client.V1Volume(name="d", persistent_volume_claim=client.
                                                       V1PersistentVolumeClaimVolumeSource(claim_name="data"))])))
    pvc = wait_for(lambda: core.read_namespaced_persistent_volume_claim("data", ns),
                   lambda c: c.status.phase == "Bound", timeout=20, what="the claim Bound")
    pv = core.read_persistent_volume(pvc.spec.volume_name)
    handle = pv.spec.csi.volume_handle
    zone = pv.spec.node_affinity.required.node_selector_terms[0].match_expressions[0].values[0]
    vol = wait_for(lambda: ec2.describe_volumes(Filters=[{"Name": "volume-id", "Values": [handle]}])["Volumes"],
                   bool, timeout=10, what=f"EBS volume {handle}")[0]
    assert (vol["AvailabilityZone"], vol["Size"], vol["VolumeType"]) == (zone, 2, "gp3")
    assert {t["Key"]: t["Value"] for t in vol["Tags"]} == {
        "CSIVolumeName": pv.metadata.name, "kubernetes.io/created-for/pv/name": pv.metadata.name,
        "kubernetes.io/created-for/pvc/name": "data", "kubernetes.io/created-for/pvc/namespace": ns,
        "ebs.csi.aws.com/cluster": "true"}
