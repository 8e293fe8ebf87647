"""The image options as pytest reads them: flags, ini keys, KUBE_TEST_REPO_LIST, and errors that name the ini line."""

from __future__ import annotations

import pytest

pytest_plugins = ["pytester"]

ECR = "123456789012.dkr.ecr.us-east-1.amazonaws.com/k8s"
SHOW = '''
def test_images(azchaos_settings):
    images = azchaos_settings.images
    print("IMAGES", images.agnhost, [str(s) for s in images.pull_secrets], images.source)
'''


def test_ini_keys_set_the_image_and_the_pull_secrets(pytester: pytest.Pytester) -> None:
    pytester.makeini(f"[pytest]\nazchaos_image = {ECR}/e2e-test-images/agnhost:2.52\n"
                     "azchaos_image_pull_secrets =\n    ci/regcred\n    other\n")
    pytester.makepyfile(SHOW)
    result = pytester.runpytest("-s", "-p", "no:cacheprovider")
    want = f"IMAGES {ECR}/e2e-test-images/agnhost:2.52 ['ci/regcred', 'other'] --azchaos-image"
    assert want in result.stdout.str() and result.ret == 0, result.stdout.str()


def test_kube_test_repo_list_from_the_environment(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> None:
    listing = pytester.path / "repo-list.yaml"
    listing.write_text(f"promoterE2eRegistry: {ECR}/e2e-test-images\n")
    monkeypatch.setenv("KUBE_TEST_REPO_LIST", str(listing))
    pytester.makepyfile(SHOW)
    result = pytester.runpytest_subprocess("-s", "-p", "no:cacheprovider")
    want = f"IMAGES {ECR}/e2e-test-images/agnhost:2.52 [] KUBE_TEST_REPO_LIST {listing}"
    assert want in result.stdout.str() and result.ret == 0, result.stdout.str()


def test_a_bad_ini_value_names_the_ini_key(pytester: pytest.Pytester) -> None:
    pytester.makeini("[pytest]\nazchaos_image_pull_secrets = Bad\n")
    pytester.makepyfile(SHOW)
    result = pytester.runpytest("-p", "no:cacheprovider")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*pytest-azchaos: ini key azchaos_image_pull_secrets 'Bad' is not*NAME of a Secret*"])


def test_an_ini_image_does_not_rename_the_repo_list_flag(pytester: pytest.Pytester) -> None:
    pytester.makeini(f"[pytest]\nazchaos_image = {ECR}/e2e-test-images/agnhost:2.52\n")
    pytester.makepyfile(SHOW)
    result = pytester.runpytest("--azchaos-image-repo-list", "nope.yaml", "-p", "no:cacheprovider")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*pytest-azchaos: --azchaos-image-repo-list nope.yaml cannot be read*"])
