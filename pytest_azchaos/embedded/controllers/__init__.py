"""Controllers of the embedded control plane; each reacts to store events on the cluster's loop."""
