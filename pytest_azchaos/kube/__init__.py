"""Talking to a cluster: client from kubeconfig/context, topology (zone -> nodes)."""
