"""The embedded cluster's kubelets: pods run as emulated containers on their nodes' addresses."""
