"""The embedded cluster's network: loopback addresses for nodes, pods, services and load balancers."""
