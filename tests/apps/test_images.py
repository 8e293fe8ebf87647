"""Which image the sample apps run: --azchaos-image, a KUBE_TEST_REPO_LIST registry map, pull secrets; bad input
refused naming the fix (pure, no cluster)."""

from __future__ import annotations

from pathlib import Path

import pytest

from pytest_azchaos.apps import EchoSpec, StatefulSpec, echo_manifests, stateful_manifests
from pytest_azchaos.apps.images import DEFAULT_AGNHOST, ImageConfigError, PullSecret, SampleImages, resolve

ECR = "123456789012.dkr.ecr.us-east-1.amazonaws.com/k8s"
DIGEST = "sha256:" + "0f" * 32


def _repo_list(tmp_path: Path, text: str) -> str:
    path = tmp_path / "repo-list.yaml"
    path.write_text(text)
    return str(path)


def _refused(**kwargs: object) -> str:
    with pytest.raises(ImageConfigError) as info:
        resolve(**kwargs)  # type: ignore[arg-type]
    return str(info.value)


def test_the_default_is_upstreams_agnhost() -> None:
    assert resolve(environ={}) == SampleImages(DEFAULT_AGNHOST, (), "default")
    assert DEFAULT_AGNHOST == "registry.k8s.io/e2e-test-images/agnhost:2.52"


@pytest.mark.parametrize("image", [f"{ECR}/e2e-test-images/agnhost:2.52", f"{ECR}/e2e-test-images/agnhost@{DIGEST}",
                                   f"{ECR}/e2e-test-images/agnhost:2.52@{DIGEST}", "localhost:5000/agnhost",
                                   "agnhost"])
def test_azchaos_image_is_used_as_given(image: str) -> None:
    assert resolve(image=image, environ={}).agnhost == image


def test_the_repo_list_rewrites_promoter_e2e_registry(tmp_path: Path) -> None:
    path = _repo_list(tmp_path, f"promoterE2eRegistry: {ECR}/e2e-test-images/\ngcRegistry: {ECR}\n")
    images = resolve(repo_list=path, environ={})
    assert images.agnhost == f"{ECR}/e2e-test-images/agnhost:2.52"
    assert images.source == f"--azchaos-image-repo-list {path}"


def test_keys_upstream_dropped_are_accepted_and_unused(tmp_path: Path) -> None:
    path = _repo_list(tmp_path, "e2eRegistry: a.example.com/e2e\ne2eVolumeRegistry: a.example.com/vol\n")
    assert resolve(repo_list=path, environ={}).agnhost == DEFAULT_AGNHOST


def test_an_empty_repo_list_keeps_upstreams_registries(tmp_path: Path) -> None:
    assert resolve(repo_list=_repo_list(tmp_path, ""), environ={}).agnhost == DEFAULT_AGNHOST


def test_kube_test_repo_list_is_read_when_the_option_is_not_given(tmp_path: Path) -> None:
    path = _repo_list(tmp_path, f"promoterE2eRegistry: {ECR}/e2e-test-images\n")
    images = resolve(environ={"KUBE_TEST_REPO_LIST": path})
    assert images.agnhost == f"{ECR}/e2e-test-images/agnhost:2.52"
    assert images.source == f"KUBE_TEST_REPO_LIST {path}"


def test_the_option_wins_over_the_environment(tmp_path: Path) -> None:
    option = _repo_list(tmp_path, "promoterE2eRegistry: option.example.com/e2e\n")
    env = tmp_path / "env.yaml"
    env.write_text("promoterE2eRegistry: env.example.com/e2e\n")
    assert resolve(repo_list=option, environ={"KUBE_TEST_REPO_LIST": str(env)}).agnhost.startswith("option.")


def test_azchaos_image_wins_over_the_repo_list(tmp_path: Path) -> None:
    path = _repo_list(tmp_path, "promoterE2eRegistry: list.example.com/e2e\n")
    images = resolve(image=f"{ECR}/e2e-test-images/agnhost:2.53", repo_list=path, environ={})
    assert images.agnhost == f"{ECR}/e2e-test-images/agnhost:2.53" and images.source == "--azchaos-image"


@pytest.mark.parametrize(("image", "says"), [
    ("Agnhost:2.52", "the repository name 'Agnhost' must be lowercase"),
    (f"{ECR}/agnhost@sha256:abc", "is not sha256: followed by 64 lowercase hex digits"),
    (f"{ECR}/agnhost:-1", "the tag '-1' is not a tag"),
    ("agnhost 2.52", "is not REGISTRY/PATH"),
    (" agnhost", "spaces around it"),
])
def test_a_malformed_image_is_refused_naming_the_form(image: str, says: str) -> None:
    message = _refused(image=image, environ={})
    assert says in message and "--azchaos-image" in message
    assert "REGISTRY/REPOSITORY[:TAG][@sha256:DIGEST]" in message


def test_an_unreadable_repo_list_is_named(tmp_path: Path) -> None:
    message = _refused(repo_list=str(tmp_path / "nope.yaml"), environ={})
    assert f"--azchaos-image-repo-list {tmp_path / 'nope.yaml'} cannot be read" in message


def test_an_unreadable_file_from_the_environment_names_the_variable(tmp_path: Path) -> None:
    assert _refused(environ={"KUBE_TEST_REPO_LIST": str(tmp_path / "nope")}).startswith("KUBE_TEST_REPO_LIST ")


def test_a_repo_list_that_is_not_yaml_says_where(tmp_path: Path) -> None:
    message = _refused(repo_list=_repo_list(tmp_path, "promoterE2eRegistry: [oops\n"), environ={})
    assert "is not YAML (line 2, column 1)" in message and "promoterE2eRegistry: <mirror>/e2e-test-images" in message


def test_a_repo_list_that_is_a_list_is_refused(tmp_path: Path) -> None:
    assert "is a YAML list, not a mapping" in _refused(repo_list=_repo_list(tmp_path, "- a\n"), environ={})


def test_an_unknown_key_is_refused_with_the_keys_there_are(tmp_path: Path) -> None:
    message = _refused(repo_list=_repo_list(tmp_path, "promoterE2ERegistry: x.example.com\n"), environ={})
    assert "unknown key 'promoterE2ERegistry' (did you mean promoterE2eRegistry?)" in message
    assert "the keys are buildImageRegistry, " in message


def test_a_value_that_is_not_a_registry_is_refused(tmp_path: Path) -> None:
    message = _refused(repo_list=_repo_list(tmp_path, "promoterE2eRegistry: 42\n"), environ={})
    assert "promoterE2eRegistry must be a registry such as 'registry.k8s.io/e2e-test-images', not 42" in message


def test_a_registry_that_makes_a_bad_reference_is_refused(tmp_path: Path) -> None:
    message = _refused(repo_list=_repo_list(tmp_path, "promoterE2eRegistry: Mirror/E2E\n"), environ={})
    assert "promoterE2eRegistry gives 'Mirror/E2E/agnhost:2.52' is not an image reference" in message


def test_a_url_repo_list_asks_for_a_file() -> None:
    assert "download the file" in _refused(repo_list="https://example.com/list.yaml", environ={})


@pytest.mark.parametrize(("item", "secret"), [("regcred", PullSecret("regcred")),
                                              ("ci/regcred", PullSecret("regcred", "ci")),
                                              ("ci/my.reg-cred", PullSecret("my.reg-cred", "ci"))])
def test_pull_secrets_are_name_or_namespace_slash_name(item: str, secret: PullSecret) -> None:
    assert resolve(pull_secrets=[item], environ={}).pull_secrets == (secret,)


@pytest.mark.parametrize("item", ["RegCred", "a/b/c", "ns_x/regcred", "", "regcred/"])
def test_a_bad_pull_secret_is_refused_naming_the_form(item: str) -> None:
    assert "is not [NAMESPACE/]NAME of a Secret" in _refused(pull_secrets=[item], environ={})


def test_the_same_secret_twice_is_refused() -> None:
    assert "names 'regcred' twice" in _refused(pull_secrets=["regcred", "ci/regcred"], environ={})


def test_the_sample_apps_carry_the_image_and_pull_secrets() -> None:
    images = resolve(image=f"{ECR}/e2e-test-images/agnhost:2.52", pull_secrets=["ci/regcred", "other"], environ={})
    for manifests in (echo_manifests(EchoSpec(), images=images), stateful_manifests(StatefulSpec(), images=images)):
        workload = next(m for m in manifests if m["kind"] in ("Deployment", "StatefulSet"))
        pod = workload["spec"]["template"]["spec"]
        assert [c["image"] for c in pod["containers"]] == [images.agnhost]
        assert pod["imagePullSecrets"] == [{"name": "regcred"}, {"name": "other"}]


def test_without_pull_secrets_the_pod_spec_has_no_image_pull_secrets() -> None:
    pod = echo_manifests(EchoSpec())[0]["spec"]["template"]["spec"]
    assert "imagePullSecrets" not in pod and pod["containers"][0]["image"] == DEFAULT_AGNHOST
