"""pytest hooks only: the ``azchaos`` option group, ini keys and markers."""

from __future__ import annotations

import pytest


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("azchaos", "multi-AZ chaos conformance (pytest-azchaos)")
    group.addoption(
        "--azchaos-kubeconfig",
        dest="azchaos_kubeconfig",
        default=None,
        help="kubeconfig of the cluster under test. Default: none, which starts the embedded cluster.",
    )
    parser.addini("azchaos_kubeconfig", "kubeconfig of the cluster under test (as --azchaos-kubeconfig).",
                  default=None)
