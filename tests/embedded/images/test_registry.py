"""Image resolution and the pull errors containerd gives for images that do not exist."""

from __future__ import annotations

import pytest

from pytest_azchaos.embedded.images import (
    ContainerSpec,
    ImageDefinition,
    ImagePullError,
    InvalidImageNameError,
    default_registry,
)
from pytest_azchaos.embedded.images.pause import PauseContainer


@pytest.fixture
def registry():
    return default_registry()


@pytest.mark.parametrize("image", ["registry.k8s.io/e2e-test-images/agnhost:2.52",
                                   "registry.k8s.io/e2e-test-images/agnhost:2.39", "registry.k8s.io/pause:3.10"])
def test_known_images_resolve(registry, image):
    assert registry.resolve(image).requested == image


def test_short_agnhost_is_docker_hub_and_fails_like_containerd(registry):
    with pytest.raises(ImagePullError) as info:
        registry.resolve("agnhost")
    assert str(info.value) == (
        'rpc error: code = Unknown desc = failed to pull and unpack image "docker.io/library/agnhost:latest": '
        'failed to resolve reference "docker.io/library/agnhost:latest": pull access denied, repository does '
        "not exist or may require authorization: server message: insufficient_scope: authorization failed")
    assert info.value.event_message.startswith('Failed to pull image "agnhost": rpc error: code = Unknown')


def test_unknown_repository_on_known_registry_is_not_found(registry):
    with pytest.raises(ImagePullError) as info:
        registry.resolve("registry.k8s.io/nope:1.0")
    assert str(info.value) == (
        'rpc error: code = NotFound desc = failed to pull and unpack image "registry.k8s.io/nope:1.0": '
        'failed to resolve reference "registry.k8s.io/nope:1.0": registry.k8s.io/nope:1.0: not found')
    assert info.value.reason == "ErrImagePull"


def test_back_off_messages(registry):
    with pytest.raises(ImagePullError) as info:
        registry.resolve("pause")
    assert info.value.back_off_event_message == 'Back-off pulling image "pause"'
    assert info.value.back_off_waiting_message.startswith(
        'Back-off pulling image "pause": ErrImagePull: rpc error: code = Unknown desc = failed to pull')


def test_uppercase_name_is_invalid_image_name(registry):
    with pytest.raises(InvalidImageNameError) as info:
        registry.resolve("Agnhost")
    assert info.value.reason == "InvalidImageName"
    assert str(info.value) == ('Failed to apply default image tag "Agnhost": couldn\'t parse image name "Agnhost": '
                               "invalid reference format: repository name (library/Agnhost) must be lowercase")


def test_registered_image_resolves_with_tag_glob(registry):
    registry.register("docker.io/library/nginx:1.2*", lambda ref: ImageDefinition(
        entrypoint=("/pause",), executables={"/pause": PauseContainer}))
    assert registry.resolve("nginx:1.27").reference.repository == "docker.io/library/nginx"
    with pytest.raises(ImagePullError):
        registry.resolve("nginx:1.30")


def test_command_and_args_override_entrypoint_and_cmd(registry):
    image = registry.resolve("registry.k8s.io/e2e-test-images/agnhost:2.52")
    assert image.argv(None, None) == ["/agnhost", "pause"]
    assert image.argv(None, ["netexec", "--http-port=$(PORT)"], {"PORT": "80"}) == [
        "/agnhost", "netexec", "--http-port=80"]
    assert image.argv(["/agnhost-2", "pause"], None) == ["/agnhost-2", "pause"]


def test_exec_of_unknown_command_reports_runc_error(registry, loop_thread):
    container = registry.resolve("registry.k8s.io/pause:3.10").create_container(
        ContainerSpec(name="c", pod_name="p", pod_ip="127.200.0.1"))
    loop_thread.run(container.start())
    result = loop_thread.run(container.exec(["x"]))
    assert result.exit_code == 127
    assert result.start_error == ('OCI runtime exec failed: exec failed: unable to start container process: '
                                  'exec: "x": executable file not found in $PATH: unknown')
    loop_thread.run(container.kill())
