"""Repo-level pytest configuration for running ``suites/`` and ``tests/`` from a checkout."""
