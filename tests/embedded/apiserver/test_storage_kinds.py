"""storage.k8s.io/v1 CSIStorageCapacity and VolumeAttributesClass (GA in v1.34): stored, served, printed."""

from __future__ import annotations

import json
import uuid

import pytest
import requests
from kubernetes import client
from kubernetes.client.rest import ApiException

from .test_tables import _table


@pytest.fixture
def storage(api_client: client.ApiClient) -> client.StorageV1Api:
    return client.StorageV1Api(api_client)


def test_csi_storage_capacity_is_stored_and_printed(storage: client.StorageV1Api, api_url: str,
                                                    namespace: str) -> None:
    storage.create_namespaced_csi_storage_capacity(namespace, client.V1CSIStorageCapacity(
        metadata=client.V1ObjectMeta(name="zone-a"), storage_class_name="gp3", capacity="100Gi",
        node_topology=client.V1LabelSelector(match_labels={"topology.ebs.csi.aws.com/zone": "zone-a"})))
    storage.create_namespaced_csi_storage_capacity(namespace, client.V1CSIStorageCapacity(
        metadata=client.V1ObjectMeta(name="unknown"), storage_class_name="gp3"))
    table = _table(api_url, f"/apis/storage.k8s.io/v1/namespaces/{namespace}/csistoragecapacities")
    assert [c["name"] for c in table["columnDefinitions"]] == ["Name", "StorageClassName", "Capacity"]
    assert [r["cells"] for r in table["rows"]] == [["unknown", "gp3", "<unset>"], ["zone-a", "gp3", "100Gi"]]


def test_csi_storage_capacity_needs_a_class_name_that_never_changes(storage: client.StorageV1Api,
                                                                     namespace: str) -> None:
    with pytest.raises(ApiException) as e:
        storage.create_namespaced_csi_storage_capacity(namespace, client.V1CSIStorageCapacity(
            metadata=client.V1ObjectMeta(name="bad"), storage_class_name="Not_A_Name"))
    assert e.value.status == 422
    assert json.loads(e.value.body)["details"]["causes"][0]["field"] == "storageClassName"
    storage.create_namespaced_csi_storage_capacity(namespace, client.V1CSIStorageCapacity(
        metadata=client.V1ObjectMeta(name="cap"), storage_class_name="gp3"))
    with pytest.raises(ApiException) as e:
        storage.patch_namespaced_csi_storage_capacity("cap", namespace, {"storageClassName": "gp2"})
    assert json.loads(e.value.body)["message"] == ('CSIStorageCapacity.storage.k8s.io "cap" is invalid: '
                                                   'storageClassName: Invalid value: "gp2": field is immutable')


def test_volume_attributes_class_is_stored_printed_and_frozen(storage: client.StorageV1Api, api_url: str) -> None:
    name = f"gp3-{uuid.uuid4().hex[:6]}"
    storage.create_volume_attributes_class(client.V1VolumeAttributesClass(
        metadata=client.V1ObjectMeta(name=name), driver_name="ebs.csi.aws.com", parameters={"iops": "3000"}))
    try:
        row = _table(api_url, f"/apis/storage.k8s.io/v1/volumeattributesclasses/{name}")["rows"][0]
        assert row["cells"][:2] == [name, "ebs.csi.aws.com"]
        with pytest.raises(ApiException) as e:
            storage.patch_volume_attributes_class(name, {"parameters": {"iops": "6000"}})
        assert json.loads(e.value.body)["message"] == (f'VolumeAttributesClass.storage.k8s.io "{name}" is invalid: '
                                                       "parameters: Forbidden: updates to parameters are forbidden.")
    finally:
        storage.delete_volume_attributes_class(name)
    resp = requests.post(api_url + "/apis/storage.k8s.io/v1/volumeattributesclasses",
                         json={"metadata": {"name": name}}, timeout=10)
    assert resp.json()["message"] == f'VolumeAttributesClass.storage.k8s.io "{name}" is invalid: driverName: ' \
                                     "Required value"
