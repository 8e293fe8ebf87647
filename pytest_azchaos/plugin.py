"""pytest hooks only: the ``azchaos`` option group, ini keys and markers."""

from __future__ import annotations

import pytest


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("azchaos", "multi-AZ chaos conformance (pytest-azchaos)")
    group.addoption(
        "--azchaos-kubeconfig",
        dest="azchaos_kubeconfig",
        default=None,
        metavar="PATH",
        help="kubeconfig of the cluster under test. Default: none, which starts the embedded 3-zone cluster.",
    )
    group.addoption(
        "--azchaos-context",
        dest="azchaos_context",
        default=None,
        metavar="NAME",
        help="kubeconfig context to use. Default: the kubeconfig's current-context.",
    )
    parser.addini("azchaos_kubeconfig", "Kubeconfig of the cluster under test (as --azchaos-kubeconfig).",
                  default="")
    parser.addini("azchaos_context", "Kubeconfig context to use (as --azchaos-context).", default="")


def pytest_configure(config: pytest.Config) -> None:
    from . import fixtures

    if not config.pluginmanager.has_plugin("azchaos-fixtures"):
        config.pluginmanager.register(fixtures, "azchaos-fixtures")
