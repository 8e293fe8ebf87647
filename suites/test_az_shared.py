"""One fault per flavour, every check that fits it (run with ``--azchaos-share-faults``).

Each test deploys the sample app in both traffic policies and the stateful app side by side, injects ONE
fault into one zone and judges every check of the covered suites over the same window: the catalogue's
drain, outage and partition checks (the EBS ones of each flavour included) cost one fault each instead of
one per test, which under the ``realistic`` profile (load balancers take minutes to register, evictions
wait five minutes) is most of a run. Without the option these tests are deselected and
the covered suites inject their own faults.
"""

from __future__ import annotations

import pytest

DRAIN_COVERS = ("test_az_drain.py", "test_az_srcip.py", "test_az_balance.py", "test_az_topo.py",
                "test_az_hcnp.py", "test_az_ebs_drain.py[drain]", "test_az_ebs_return.py[drain]")
OUTAGE_COVERS = ("test_az_outage.py", "test_az_ebs_drain.py[power-off]", "test_az_ebs_return.py[power-off]")
PARTITION_COVERS = ("test_az_partition.py", "test_az_ebs_drain.py[partition]", "test_az_ebs_return.py[partition]")


@pytest.mark.azchaos_destructive
@pytest.mark.azchaos_shares(fault="drain", covers=DRAIN_COVERS)
def test_az_shared_drain_judges_the_drain_checks_and_the_ebs_ones(azchaos_gameday):
    azchaos_gameday("drain")


@pytest.mark.azchaos_destructive
@pytest.mark.azchaos_shares(fault="outage", covers=OUTAGE_COVERS)
def test_az_shared_outage_judges_the_outage_checks_and_the_ebs_ones(azchaos_gameday, azchaos_aws):
    azchaos_gameday("outage", aws=azchaos_aws)


@pytest.mark.azchaos_destructive
@pytest.mark.azchaos_shares(fault="partition", covers=PARTITION_COVERS)
def test_az_shared_partition_judges_the_partition_checks_and_the_ebs_ones(azchaos_gameday, azchaos_aws):
    azchaos_gameday("partition", aws=azchaos_aws)
