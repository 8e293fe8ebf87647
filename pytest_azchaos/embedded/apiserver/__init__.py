"""The embedded Kubernetes API server: state (``store``) apart from HTTP (``server``)."""
