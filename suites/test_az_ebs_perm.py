"""AZ-EBS-PERM: a non-root pod can write its fresh EBS volume (fsGroup makes it group-writable)."""

from __future__ import annotations

from pytest_azchaos.checks.ebs import volume_writable


def test_az_ebs_perm_non_root_pod_writes_its_volume(azchaos_stateful_app, azchaos_check):
    app = azchaos_stateful_app
    pod = app.pods()[0].metadata.name
    path = f"{app.spec.mount_path}/perm-check"
    result = app.exec(pod, ["sh", "-c", f"echo ok > {path} && ls -ln {app.spec.mount_path}"])
    azchaos_check(volume_writable(result, pod, path, run_as_user=app.spec.run_as_user, fs_group=app.spec.fs_group))
