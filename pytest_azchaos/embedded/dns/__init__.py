"""The embedded cluster's DNS: what CoreDNS answers, its server, the pods' stub resolver, the add-on's objects.

- :mod:`.records`: the ``kubernetes`` plugin's view of Services and EndpointSlices and its answers for
  ``cluster.local`` (A/AAAA/SRV/PTR/CNAME, NXDOMAIN with the zone's SOA).
- :mod:`.server`: a DNS server over UDP and TCP on one address (what the CoreDNS container binds).
- :mod:`.resolver`: Go's pure stub resolver (agnhost is a Go program) reading the pod's ``/etc/resolv.conf``.
- :mod:`.addon`: the EKS CoreDNS add-on's objects, created at cluster start.

The wire format is dnspython's; everything Kubernetes-specific is ours.
"""
