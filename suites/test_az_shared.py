"""One fault per flavour, every check that fits it (run with ``--azchaos-share-faults``).

Each test deploys the sample app in both traffic policies side by side, injects ONE fault into one zone and
judges every check of the covered suites over the same window: the catalogue's drain and outage checks cost
one fault and two load balancers each instead of one per test, which under the ``realistic`` profile (load
balancers take minutes to register) is most of a run. Without the option these tests are deselected and
the covered suites inject their own faults.
"""

from __future__ import annotations

import pytest

DRAIN_COVERS = ("test_az_drain.py", "test_az_srcip.py", "test_az_balance.py", "test_az_topo.py",
                "test_az_hcnp.py")
OUTAGE_COVERS = ("test_az_outage.py",)


@pytest.mark.azchaos_destructive
@pytest.mark.azchaos_shares(fault="drain", covers=DRAIN_COVERS)
def test_az_shared_drain_judges_topo_hcnp_balance_srcip_drain_resched(azchaos_gameday):
    azchaos_gameday("drain")


@pytest.mark.azchaos_destructive
@pytest.mark.azchaos_shares(fault="outage", covers=OUTAGE_COVERS)
def test_az_shared_outage_judges_topo_hcnp_balance_srcip_outage(azchaos_gameday, azchaos_aws):
    azchaos_gameday("outage", aws=azchaos_aws)
