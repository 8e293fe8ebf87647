"""Load-balancer flavours of the embedded cluster beyond the legacy in-tree NLB (issue 12).

- :mod:`.model`: what the AWS Load Balancer Controller (LBC) or EKS Auto Mode builds for a Service (scheme,
  target type, health check, target-group attributes, names), from the Service alone;
- :mod:`.webhooks`: MutatingWebhookConfigurations and the API server's webhook dispatch;
- :mod:`.controller`: the controller (reconciles only while one of its pods runs), its webhooks' logic,
  readiness gates;
- :mod:`.addon`: the LBC's objects in ``kube-system`` (Deployment, Service, webhook configuration);
- :mod:`.dns`: the loopback resolver answering the NLBs' DNS names.
"""
