"""``quiet``: the 404/409-tolerant way controllers and the kubelet write to the store."""

from __future__ import annotations

import pytest

from pytest_azchaos.embedded.apiserver.errors import ApiError, quiet


def _raise(code: int) -> object:
    raise ApiError(code, "Reason", "message")


def test_quiet_returns_what_the_write_returns() -> None:
    assert quiet(lambda: {"metadata": {"name": "x"}}) == {"metadata": {"name": "x"}}


@pytest.mark.parametrize("code", [404, 409])
def test_quiet_answers_none_when_the_object_is_gone_or_changed(code: int) -> None:
    assert quiet(lambda: _raise(code)) is None


@pytest.mark.parametrize("code", [400, 422, 500])
def test_quiet_raises_any_other_api_error(code: int) -> None:
    with pytest.raises(ApiError) as info:
        quiet(lambda: _raise(code))
    assert info.value.code == code
