"""ARC zonal shift served by the embedded cloud through boto3's ``arc-zonal-shift`` client (moto serves none): the
EKS cluster as a managed resource, AWS's shapes and errors, and EKS's effects while a shift is active (the zone's
nodes cordoned, its endpoints out of EndpointSlices unless all of a Service's are there, nothing evicted), undone
by cancel."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from kubernetes import client

from pytest_azchaos.embedded.cloud.zonal_shift import parse_expires_in
from pytest_azchaos.embedded.process import ClusterHandle

from ... import clusters

ZONE = "us-east-1c"
ZONE_LABEL = "topology.kubernetes.io/zone"
AGNHOST = "registry.k8s.io/e2e-test-images/agnhost:2.52"


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ClusterHandle]:
    with clusters.own_cluster(tmp_path_factory.mktemp("zonalshift")) as handle:
        yield handle


def aws_client(cluster: ClusterHandle, service: str) -> Any:
    env = cluster.aws_env
    return boto3.session.Session(aws_access_key_id=env["AWS_ACCESS_KEY_ID"],
                                 aws_secret_access_key=env["AWS_SECRET_ACCESS_KEY"],
                                 region_name=env["AWS_DEFAULT_REGION"]).client(
        service, endpoint_url=env["AWS_ENDPOINT_URL"])


@pytest.fixture(scope="module")
def arc(cluster: ClusterHandle) -> Any:
    return aws_client(cluster, "arc-zonal-shift")


@pytest.fixture(scope="module")
def zone_ids(cluster: ClusterHandle) -> dict[str, str]:
    return {z["ZoneName"]: z["ZoneId"]
            for z in aws_client(cluster, "ec2").describe_availability_zones()["AvailabilityZones"]}


@pytest.fixture(scope="module")
def core(cluster: ClusterHandle) -> Iterator[client.CoreV1Api]:
    with clusters.api_client(cluster) as api:
        yield client.CoreV1Api(api)


@pytest.fixture(scope="module")
def resource(arc: Any) -> str:
    items = arc.list_managed_resources()["items"]
    arns = [r["arn"] for r in items if r["arn"].startswith("arn:aws:eks:")]
    assert len(arns) == 1, items
    return str(arns[0])


def wait_for(what: str, probe: Callable[[], Any], timeout: float = 30) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        got = probe()
        if got:
            return got
        assert time.monotonic() < deadline, f"timed out after {timeout} s waiting for {what}"
        time.sleep(0.3)


def error(exc: pytest.ExceptionInfo[ClientError]) -> tuple[str, str, int]:
    r = exc.value.response
    return r["Error"]["Code"], str(r.get("reason", "")), r["ResponseMetadata"]["HTTPStatusCode"]


def test_the_cluster_is_a_managed_resource_with_its_zones_by_az_id(arc: Any, resource: str,
                                                                   zone_ids: dict[str, str]) -> None:
    assert resource.endswith(":cluster/" + resource.rsplit("/", 1)[1]) and ":eks:us-east-1:" in resource
    got = arc.get_managed_resource(resourceIdentifier=resource)
    assert got["arn"] == resource and got["zonalShifts"] == []
    assert set(got["appliedWeights"]) <= set(zone_ids.values()) and set(got["appliedWeights"].values()) == {1.0}


def test_expires_in_is_read_as_arc_reads_it() -> None:
    assert parse_expires_in("20h") == 72000 and parse_expires_in("1m") == 60 and parse_expires_in("3d") == 259200


@pytest.mark.parametrize("field,value,code,reason", [
    ("expiresIn", "90s", "ValidationException", "InvalidExpiresIn"),
    ("expiresIn", "4d", "ValidationException", "InvalidExpiresIn"),
    ("awayFrom", "us-east-1c", "ValidationException", "InvalidAz"),
])
def test_bad_start_requests_are_refused_with_arcs_error_and_reason(arc: Any, resource: str, zone_ids: dict[str, str],
                                                                   field: str, value: str, code: str,
                                                                   reason: str) -> None:
    request = {"resourceIdentifier": resource, "awayFrom": zone_ids[ZONE], "expiresIn": "5m", "comment": "t"}
    request[field] = value
    with pytest.raises(ClientError) as exc:
        arc.start_zonal_shift(**request)
    assert error(exc)[:2] == (code, reason)


def test_an_unknown_resource_or_shift_is_not_found(arc: Any, zone_ids: dict[str, str]) -> None:
    with pytest.raises(ClientError) as exc:
        arc.get_managed_resource(resourceIdentifier="arn:aws:eks:us-east-1:123456789012:cluster/nope")
    assert error(exc)[0] == "ResourceNotFoundException" and error(exc)[2] == 404
    with pytest.raises(ClientError) as exc:
        arc.cancel_zonal_shift(zonalShiftId="00000000-0000-0000-0000-000000000000")
    assert error(exc)[0] == "ResourceNotFoundException"


def test_a_shift_cordons_the_zone_drops_its_endpoints_evicts_nothing_and_cancel_undoes_it(
        arc: Any, resource: str, zone_ids: dict[str, str], core: client.CoreV1Api, cluster: ClusterHandle) -> None:
    ns = "zs"
    core.create_namespace({"metadata": {"name": ns}})
    for name, zone in (("spread-" + z[-1], z) for z in ("us-east-1a", "us-east-1b", ZONE)):
        core.create_namespaced_pod(ns, {"metadata": {"name": name, "labels": {"app": "spread"}}, "spec": {
            "nodeSelector": {ZONE_LABEL: zone}, "containers": [{"name": "c", "image": AGNHOST,
                                                                "args": ["netexec", "--http-port=8080"]}]}})
    core.create_namespaced_pod(ns, {"metadata": {"name": "only", "labels": {"app": "only"}}, "spec": {
        "nodeSelector": {ZONE_LABEL: ZONE}, "containers": [{"name": "c", "image": AGNHOST,
                                                            "args": ["netexec", "--http-port=8080"]}]}})
    for app in ("spread", "only"):
        core.create_namespaced_service(ns, {"metadata": {"name": app}, "spec": {
            "selector": {"app": app}, "ports": [{"port": 8080}]}})
    with clusters.api_client(cluster) as api:
        discovery = client.DiscoveryV1Api(api)

        def zones(svc: str) -> list[str]:
            slices = discovery.list_namespaced_endpoint_slice(ns, label_selector=f"kubernetes.io/service-name={svc}")
            return sorted(e.zone for s in slices.items for e in s.endpoints or () if e.conditions.ready)

        wait_for("3 ready endpoints of spread", lambda: len(zones("spread")) == 3 and zones("only") == [ZONE])
        pods_before = {p.metadata.uid for p in core.list_namespaced_pod(ns).items}

        shift = arc.start_zonal_shift(resourceIdentifier=resource, awayFrom=zone_ids[ZONE], expiresIn="10m",
                                      comment="test")
        assert shift["status"] == "ACTIVE" and shift["awayFrom"] == zone_ids[ZONE]
        with pytest.raises(ClientError) as exc:
            arc.start_zonal_shift(resourceIdentifier=resource, awayFrom=zone_ids["us-east-1a"], expiresIn="10m",
                                  comment="second")
        assert error(exc)[:2] == ("ConflictException", "ZonalShiftAlreadyExists")
        listed = arc.list_zonal_shifts(status="ACTIVE")["items"]
        assert [s["zonalShiftId"] for s in listed] == [shift["zonalShiftId"]] and listed[0]["shiftType"] == \
            "ZONAL_SHIFT"

        wait_for(f"the endpoint in {ZONE} to leave", lambda: ZONE not in zones("spread"))
        zone_nodes = [n for n in core.list_node().items if n.metadata.labels.get(ZONE_LABEL) == ZONE]
        assert zone_nodes and all(n.spec.unschedulable for n in zone_nodes), \
            {n.metadata.name: n.spec.unschedulable for n in zone_nodes}
        assert zones("only") == [ZONE], "a Service whose endpoints are all in the shifted zone keeps them (fail safe)"
        assert {p.metadata.uid for p in core.list_namespaced_pod(ns).items} == pods_before, "a pod was evicted"
        applied = arc.get_managed_resource(resourceIdentifier=resource)
        assert applied["appliedWeights"][zone_ids[ZONE]] == 0.0
        assert applied["zonalShifts"][0]["appliedStatus"] == "APPLIED"

        updated = arc.update_zonal_shift(zonalShiftId=shift["zonalShiftId"], comment="longer", expiresIn="20m")
        assert updated["comment"] == "longer" and updated["expiryTime"] > shift["expiryTime"]

        cancelled = arc.cancel_zonal_shift(zonalShiftId=shift["zonalShiftId"])
        assert cancelled["status"] == "CANCELED"
        with pytest.raises(ClientError) as exc:
            arc.cancel_zonal_shift(zonalShiftId=shift["zonalShiftId"])
        assert error(exc)[:2] == ("ConflictException", "ZonalShiftStatusNotActive")
        wait_for(f"the endpoint in {ZONE} to return", lambda: ZONE in zones("spread"))
        wait_for(f"the nodes of {ZONE} uncordoned", lambda: not any(
            n.spec.unschedulable for n in core.list_node().items if n.metadata.labels.get(ZONE_LABEL) == ZONE))
