"""Conformance suites: run with ``./dev suites``; they use only the plugin's public fixtures."""
