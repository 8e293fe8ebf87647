"""CustomResourceDefinitions (``apiextensions.k8s.io/v1``) and the custom resources they serve.

``types`` turns a CRD into served resource types, ``schema`` validates, prunes and defaults custom
objects against the OpenAPI v3 schema with upstream's wording, ``strategy`` holds the registry rules
of CRDs and custom objects, ``controller`` establishes CRDs and cleans up after a deleted one, and
``printing`` renders ``additionalPrinterColumns`` for ``kubectl get``.
"""
