"""Conformance suites: one module per check of the catalogue (design.md), using only the public fixtures.

Run them with ``./dev suites`` (embedded cluster) or against a cluster:
``pytest suites --azchaos-kubeconfig ~/.kube/staging --azchaos-allow-context '^staging$'``.
"""
