"""Registry mirrors: the built-in images under a mirror's names, and the pull errors of a mirror that wants
credentials (containerd's text for a registry answering 401 with a Basic challenge)."""

from __future__ import annotations

import pytest

from pytest_azchaos.embedded.images import ImagePullError, default_registry
from pytest_azchaos.embedded.images.mirror import MirrorSpecError, RegistryMirror

ECR = "123456789012.dkr.ecr.us-east-1.amazonaws.com"
AGNHOST = f"{ECR}/k8s/e2e-test-images/agnhost:2.52"


@pytest.fixture
def registry():
    r = default_registry()
    r.add_mirror(RegistryMirror.parse(f"{ECR}/k8s"))
    r.add_mirror(RegistryMirror.parse(f"{ECR}/hub=docker.io"))
    r.add_mirror(RegistryMirror.parse("AWS:s3cret@mirror.example.com:5000/proxy"))
    return r


def test_spec_parses_credentials_host_prefix_and_upstream() -> None:
    m = RegistryMirror.parse("AWS:s3:cret@mirror.example.com:5000/a/b=docker.io")
    assert (m.host, m.prefix, m.upstream, m.credentials) == ("mirror.example.com:5000", "a/b", "docker.io",
                                                             ("AWS", "s3:cret"))
    assert RegistryMirror.parse(m.to_spec()) == m


def test_spec_upstream_defaults_to_registry_k8s_io() -> None:
    assert RegistryMirror.parse(ECR).upstream == "registry.k8s.io"


@pytest.mark.parametrize(("spec", "says"), [
    ("mirror/k8s", "is not a registry host"),
    ("user@mirror.example.com", "credentials must be USER:PASSWORD"),
    ("mirror.example.com/K8s", "is not lowercase path components"),
    ("mirror.example.com=Bad Upstream", "is not a registry HOST[/PATH]"),
])
def test_bad_specs_name_the_format(spec: str, says: str) -> None:
    with pytest.raises(MirrorSpecError) as info:
        RegistryMirror.parse(spec)
    assert says in str(info.value) and "[USER:PASSWORD@]HOST[:PORT][/PREFIX][=UPSTREAM]" in str(info.value)


def test_a_mirror_serves_the_upstream_image_under_its_own_name(registry) -> None:
    image = registry.resolve(AGNHOST)
    assert image.status_image == AGNHOST
    assert image.image_id.startswith(f"{ECR}/k8s/e2e-test-images/agnhost@sha256:")
    assert "/agnhost" in image.definition.executables


def test_a_mirror_of_docker_hub_serves_library_images(registry) -> None:
    assert registry.resolve(f"{ECR}/hub/library/busybox:1.36").status_image == f"{ECR}/hub/library/busybox:1.36"


def test_a_docker_hub_mirror_wants_the_library_prefix(registry) -> None:
    with pytest.raises(ImagePullError) as info:
        registry.resolve(f"{ECR}/hub/busybox:1.36")
    assert "code = NotFound" in str(info.value)


def test_a_digest_reference_through_a_mirror_keeps_its_digest(registry) -> None:
    digest = "sha256:" + "ab" * 32
    assert registry.resolve(f"{ECR}/k8s/e2e-test-images/agnhost@{digest}").digest == digest


def test_an_image_the_upstream_lacks_is_not_found_on_the_mirror(registry) -> None:
    with pytest.raises(ImagePullError) as info:
        registry.resolve(f"{ECR}/k8s/e2e-test-images/nginx:1.27")
    name = f"{ECR}/k8s/e2e-test-images/nginx:1.27"
    assert str(info.value) == (f'rpc error: code = NotFound desc = failed to pull and unpack image "{name}": '
                               f'failed to resolve reference "{name}": {name}: not found')


def test_a_path_outside_every_prefix_is_not_found(registry) -> None:
    with pytest.raises(ImagePullError) as info:
        registry.resolve(f"{ECR}/e2e-test-images/agnhost:2.52")
    assert "code = NotFound" in str(info.value)


def test_an_auth_mirror_refuses_an_anonymous_pull_as_containerd_says(registry) -> None:
    name = "mirror.example.com:5000/proxy/e2e-test-images/agnhost:2.52"
    with pytest.raises(ImagePullError) as info:
        registry.resolve(name)
    assert str(info.value) == (
        f'rpc error: code = Unknown desc = failed to pull and unpack image "{name}": failed to resolve reference '
        f'"{name}": pull access denied, repository does not exist or may require authorization: authorization '
        "failed: no basic auth credentials")
    assert info.value.reason == "ErrImagePull"
    assert info.value.event_message == f'Failed to pull image "{name}": {info.value}'


def test_an_auth_mirror_refuses_wrong_credentials_with_401(registry) -> None:
    name = "mirror.example.com:5000/proxy/e2e-test-images/agnhost:2.52"
    with pytest.raises(ImagePullError) as info:
        registry.resolve(name, [("AWS", "wrong")])
    assert str(info.value).endswith(
        "unexpected status from HEAD request to https://mirror.example.com:5000/v2/proxy/e2e-test-images/agnhost/"
        "manifests/2.52: 401 Unauthorized")


def test_several_refused_credentials_are_aggregated(registry) -> None:
    with pytest.raises(ImagePullError) as info:
        registry.resolve("mirror.example.com:5000/proxy/e2e-test-images/agnhost:2.52", [("a", "b"), ("c", "d")])
    text = str(info.value)
    assert text.startswith("[rpc error:") and text.endswith("]") and text.count("401 Unauthorized") == 2


def test_an_auth_mirror_lets_in_the_right_credentials_among_others(registry) -> None:
    image = registry.resolve("mirror.example.com:5000/proxy/e2e-test-images/agnhost:2.52",
                             [("AWS", "wrong"), ("AWS", "s3cret")])
    assert image.status_image == "mirror.example.com:5000/proxy/e2e-test-images/agnhost:2.52"


def test_an_unknown_registry_still_fails_dns(registry) -> None:
    with pytest.raises(ImagePullError) as info:
        registry.resolve("other.example.com/k8s/e2e-test-images/agnhost:2.52")
    assert "dial tcp: lookup other.example.com: no such host" in str(info.value)
