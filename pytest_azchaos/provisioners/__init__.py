"""Who adds a cluster's nodes (managed node groups, Karpenter, EKS Auto Mode), and how a zone outage keeps each
out of the lost zone. Pytest-free: the façade and preflight use it."""
