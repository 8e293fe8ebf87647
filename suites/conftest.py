"""Conformance suites: one module per check of the catalogue (design.md), using only the public fixtures.

Run them with ``./dev suites`` (embedded cluster) or against a cluster:
``pytest suites --azchaos-kubeconfig ~/.kube/staging --azchaos-allow-context '^staging$'``.

They run on the sample app, or once per ``--azchaos-target KIND/NAMESPACE/NAME[,...]`` (your own workloads,
through the ``azchaos_app`` fixture); a check a target cannot answer skips naming the setting that enables it.
"""
