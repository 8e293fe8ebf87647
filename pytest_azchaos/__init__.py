"""pytest-azchaos: multi-availability-zone chaos conformance tests for Kubernetes clusters.

Where things live:

- ``plugin.py``: every pytest hook (options, markers, reports, summary); ``_stash.py`` its stash keys;
  ``fixtures.py``: the public fixtures, thin; ``settings.py``: options validated; ``run.py``: a run's id and seed.
- ``timing.py``: the timing profiles, every wait budget included (app ready, drain, reschedule, LB ...).
- ``wellknown.py``: well-known labels, annotations and names (the zone label, our run labels, the embedded
  context), shared with the embedded cluster.
- ``kube/`` talking to a cluster (client, retries, waits, zones); ``apps/`` the sample apps and their
  deploy-and-wait; ``chaos/`` faults, ledger, lock, dry run; ``traffic/`` the prober and its recording;
  ``checks/`` the conformance checks; ``report/`` evidence and summary; ``aws/`` boto3; ``ctk/`` chaostoolkit.
- ``embedded/``: the emulated cluster (upstream rules such as toleration matching in ``embedded/rules/``).
"""

from __future__ import annotations

__version__ = "0.1.0"

__all__ = ["__version__"]
