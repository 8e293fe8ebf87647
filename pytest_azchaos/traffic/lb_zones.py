"""The zone of each load-balancer address an app's traffic may use, where the plugin can tell; else unknown.

Two sources, both facts rather than guesses: a node's own address is in its node's zone (NodePort or
instance addresses given as ``url=``), and AWS reports the zone of each of an NLB's addresses
(``aws.lb_zones``). Anything else (an address AWS does not list, no AWS access) stays unmapped, so
``RequestRecord.lb_zone`` is None there.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ..apps.app import App


def lb_address_zones(app: App) -> dict[str, str]:
    """``{address: zone}`` for ``app``'s ways in: node addresses by node zone, its Service's NLB via AWS."""
    from ..kube.topology import ZoneMap

    zones = {n.address: n.zone for n in ZoneMap.read(app.cluster.core).nodes if n.address and n.zone}
    if app.service:
        zones.update(_nlb_zones(app))
    return zones


def _nlb_zones(app: App) -> dict[str, str]:
    from ..aws import AwsConfigError, AwsContext
    from ..aws.errors import AwsError
    from ..aws.lb_zones import nlb_address_zones

    try:
        ctx = AwsContext.for_kubeconfig(app.cluster.kubeconfig)
        assert app.service is not None
        return nlb_address_zones(ctx, app.namespace, app.service)
    except (AwsConfigError, AwsError):  # no AWS access, or no NLB for it: unknown
        return {}
    except Exception as e:  # botocore's ClientError / EndpointConnectionError: unknown as well
        if type(e).__module__.startswith("botocore"):
            return {}
        raise
