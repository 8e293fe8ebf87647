"""Volume ownership seen through exec: runAsUser, fsGroup, emptyDir and EBS (gp3) volumes."""

from __future__ import annotations

import pytest
from kubernetes import client
from kubernetes.stream import stream

from ..waiting import wait_for

AGNHOST = "registry.k8s.io/e2e-test-images/agnhost:2.52"


def _pod(name: str, volume: client.V1Volume, run_as: int | None = 1000, fs_group: int | None = None,
         policy: str | None = None) -> client.V1Pod:
    return client.V1Pod(
        metadata=client.V1ObjectMeta(name=name),
        spec=client.V1PodSpec(
            termination_grace_period_seconds=1, volumes=[volume],
            security_context=client.V1PodSecurityContext(run_as_user=run_as, fs_group=fs_group,
                                                         fs_group_change_policy=policy),
            containers=[client.V1Container(name="app", image=AGNHOST, args=["netexec"],
                                           volume_mounts=[client.V1VolumeMount(name="data", mount_path="/data")])]))


def _running(core: client.CoreV1Api, ns: str, name: str, timeout: float = 20.0) -> None:
    wait_for(lambda: core.read_namespaced_pod(name, ns), lambda p: p.status.phase == "Running", timeout=timeout,
             what=f"pod {name} Running")


def _sh(core: client.CoreV1Api, ns: str, name: str, script: str) -> tuple[int, str, str]:
    resp = stream(core.connect_get_namespaced_pod_exec, name, ns, command=["sh", "-c", script], stderr=True,
                  stdout=True, stdin=False, tty=False, _preload_content=False)
    try:
        resp.run_forever(timeout=10)
        return resp.returncode, resp.read_stdout(), resp.read_stderr()
    finally:
        resp.close()
        resp.sock.shutdown()


EMPTY = client.V1Volume(name="data", empty_dir=client.V1EmptyDirVolumeSource())


def test_empty_dir_is_world_writable_without_fs_group(core: client.CoreV1Api, namespace: str) -> None:
    core.create_namespaced_pod(namespace, _pod("e1", EMPTY))
    _running(core, namespace, "e1")
    code, out, err = _sh(core, namespace, "e1", "echo hi > /data/x && ls -ln /data && ls -ld /data")
    assert code == 0, err
    lines = out.splitlines()
    assert lines[1].startswith("-rw-r--r--    1 1000     0 ")
    assert lines[2].startswith("drwxrwxrwx ")


def test_empty_dir_gets_fs_group_and_setgid(core: client.CoreV1Api, namespace: str) -> None:
    core.create_namespaced_pod(namespace, _pod("e2", EMPTY, fs_group=2000))
    _running(core, namespace, "e2")
    _code, out, _ = _sh(core, namespace, "e2", "id; ls -ld /data; touch /data/f; stat -c '%u:%g' /data/f")
    assert out.splitlines() == ["uid=1000 gid=0(root) groups=0(root),2000",
                                out.splitlines()[1], "1000:2000"]
    assert out.splitlines()[1].startswith("drwxrwsrwx    2 root     2000 ")


def _gp3_claim(core: client.CoreV1Api, storage: client.StorageV1Api, ns: str, name: str) -> client.V1Volume:
    try:
        storage.read_storage_class("gp3")
    except client.ApiException as e:
        if e.status == 404:
            pytest.skip("the embedded cluster has no gp3 StorageClass yet (storage controllers not wired)")
        raise
    core.create_namespaced_persistent_volume_claim(ns, client.V1PersistentVolumeClaim(
        metadata=client.V1ObjectMeta(name=name),
        spec=client.V1PersistentVolumeClaimSpec(access_modes=["ReadWriteOnce"], storage_class_name="gp3",
                                                resources=client.V1VolumeResourceRequirements(
                                                    requests={"storage": "1Gi"}))))
    return client.V1Volume(name="data", persistent_volume_claim=client.V1PersistentVolumeClaimVolumeSource(
        claim_name=name))


@pytest.fixture
def storage(api_client: client.ApiClient) -> client.StorageV1Api:
    return client.StorageV1Api(api_client)


def test_ebs_volume_denies_non_root_without_fs_group(core: client.CoreV1Api, storage: client.StorageV1Api,
                                                     namespace: str) -> None:
    core.create_namespaced_pod(namespace, _pod("nofs", _gp3_claim(core, storage, namespace, "c1")))
    _running(core, namespace, "nofs", timeout=30)
    code, _out, err = _sh(core, namespace, "nofs", "echo hi > /data/marker")
    assert (code, err) == (1, "sh: can't create /data/marker: Permission denied\n")
    assert _sh(core, namespace, "nofs", "ls -ldn /data")[1].startswith("drwxr-xr-x    ")


def test_ebs_volume_with_fs_group_is_writable_and_shows_the_group(core: client.CoreV1Api,
                                                                  storage: client.StorageV1Api,
                                                                  namespace: str) -> None:
    core.create_namespaced_pod(namespace, _pod("withfs", _gp3_claim(core, storage, namespace, "c2"), fs_group=1000))
    _running(core, namespace, "withfs", timeout=30)
    code, out, err = _sh(core, namespace, "withfs", "echo hi > /data/marker && mkdir /data/d && ls -ln /data "
                                                    "&& ls -ldn /data")
    assert code == 0, err
    lines = out.splitlines()
    assert lines[1].startswith("drwxr-sr-x    2 1000     1000 ") and lines[1].endswith(" d")
    assert lines[2].startswith("-rw-r--r--    1 1000     1000 ") and lines[2].endswith(" marker")
    assert lines[3].startswith("drwxrwsr-x ") and " 0        1000 " in lines[3]
