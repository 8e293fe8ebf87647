"""Talking to a cluster: ``cluster.Cluster`` (client from kubeconfig/context), ``retry`` (client-go's retry
rules), ``wait.wait_until`` (the one wait primitive), ``topology`` (zone -> nodes), ``exec``, ``kubeconfig``."""
