"""The Cluster Autoscaler (AWS) as EKS users run it: a Deployment in ``kube-system`` (``addon.py``) whose
running pod makes the cluster's controller (``controller.py``) scale the node groups' ASGs."""
