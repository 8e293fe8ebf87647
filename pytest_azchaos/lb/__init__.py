"""Load-balancer flavours (legacy in-tree NLB, AWS Load Balancer Controller, EKS Auto Mode): which one a cluster
runs, what the sample Service must say to get the one chosen, how its hostnames resolve, and the detection
window its configuration implies. Pytest-free."""
