"""A cluster under test, as the plugin sees it: a kubeconfig and context, nothing more.

The embedded cluster and EKS look the same from here.
"""

from __future__ import annotations

import os
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..wellknown import ZONE_LABEL
from .kubeconfig import context_names


class ClusterConfigError(Exception):
    """The kubeconfig or context cannot be used; the message names the fix."""


#: The context name a run inside a pod has (what ``--azchaos-allow-context`` matches: ``'^in-cluster$'``).
IN_CLUSTER_CONTEXT = "in-cluster"
#: Where the kubelet mounts the pod's service-account token and the cluster's CA (client-go's rest.InClusterConfig).
SERVICE_ACCOUNT_DIR = Path("/var/run/secrets/kubernetes.io/serviceaccount")


def in_cluster_problem(environ: Mapping[str, str] | None = None, sa_dir: Path | None = None) -> str | None:
    """Why the in-cluster configuration cannot be used here (None when it can): as client-go's InClusterConfig,
    it needs KUBERNETES_SERVICE_HOST/PORT and the service account's token and ca.crt."""
    environ = os.environ if environ is None else environ
    sa_dir = sa_dir or SERVICE_ACCOUNT_DIR
    missing = [v for v in ("KUBERNETES_SERVICE_HOST", "KUBERNETES_SERVICE_PORT") if not environ.get(v)]
    if missing:
        return (f"{' and '.join(missing)} {'is' if len(missing) == 1 else 'are'} not set, so this is not a pod: "
                "--azchaos-cluster=in-cluster runs only inside the cluster (the CronJob in ci/cronjob/); from outside "
                "pass --azchaos-kubeconfig PATH")
    for name in ("token", "ca.crt"):
        if not (sa_dir / name).is_file():
            return (f"{sa_dir / name} does not exist: the pod has no service-account token mounted; set "
                    "serviceAccountName and leave automountServiceAccountToken on (ci/cronjob/cronjob.yaml)")
    return None


def write_in_cluster_kubeconfig(path: Path, environ: Mapping[str, str] | None = None,
                                sa_dir: Path | None = None) -> Path:
    """A kubeconfig for the pod's own cluster (server, CA and ``tokenFile`` of the service account, context
    ``in-cluster``), for what reads a kubeconfig file (kubectl, ``azchaos restore``, the AWS settings lookup);
    the plugin's own client uses the in-cluster configuration itself, which re-reads the rotated token."""
    import yaml

    environ = os.environ if environ is None else environ
    sa_dir = sa_dir or SERVICE_ACCOUNT_DIR
    host = environ["KUBERNETES_SERVICE_HOST"]
    server = f"https://{f'[{host}]' if ':' in host else host}:{environ['KUBERNETES_SERVICE_PORT']}"
    doc = {"apiVersion": "v1", "kind": "Config", "current-context": IN_CLUSTER_CONTEXT,
           "clusters": [{"name": IN_CLUSTER_CONTEXT,
                         "cluster": {"server": server, "certificate-authority": str(sa_dir / "ca.crt")}}],
           "users": [{"name": "service-account", "user": {"tokenFile": str(sa_dir / "token")}}],
           "contexts": [{"name": IN_CLUSTER_CONTEXT,
                         "context": {"cluster": IN_CLUSTER_CONTEXT, "user": "service-account"}}]}
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(doc, sort_keys=False))
    path.chmod(0o600)
    return path


def _require_mapping(path: Path) -> None:
    """A kubeconfig is a YAML mapping; anything else gets a message naming that, not a Python TypeError."""
    import yaml

    try:
        doc = yaml.safe_load(path.read_text())
    except (OSError, yaml.YAMLError):
        return  # the client's own error says where the file is broken
    if not isinstance(doc, dict):
        raise ClusterConfigError(f"kubeconfig {path} is not a kubeconfig: its top level must be a mapping (apiVersion, "
                                 f"clusters, contexts, users), not a {type(doc).__name__}; pass the path of a "
                                 "kubeconfig (kubectl config view --minify --raw > FILE)")


@dataclass
class Cluster:
    """Clients for one cluster, built from a kubeconfig file and an optional context."""

    kubeconfig: Path
    context: str | None = None
    #: Inside a pod (``--azchaos-cluster=in-cluster``): the client uses the in-cluster configuration (the service
    #: account's token, re-read as it rotates); ``kubeconfig`` is the equivalent file for other readers.
    in_cluster: bool = False
    _api: Any = field(default=None, init=False, repr=False)

    @classmethod
    def from_pod(cls, directory: Path) -> Cluster:
        """The cluster this pod runs in (``ClusterConfigError`` naming the fix when this is not a pod)."""
        problem = in_cluster_problem()
        if problem:
            raise ClusterConfigError(problem)
        return cls(write_in_cluster_kubeconfig(directory / "kubeconfig"), IN_CLUSTER_CONTEXT, in_cluster=True)

    def _in_cluster_api(self) -> Any:
        from kubernetes import client
        from kubernetes.config.config_exception import ConfigException
        from kubernetes.config.incluster_config import InClusterConfigLoader

        configuration = client.Configuration()
        try:
            InClusterConfigLoader(token_filename=str(SERVICE_ACCOUNT_DIR / "token"),
                                  cert_filename=str(SERVICE_ACCOUNT_DIR / "ca.crt")).load_and_set(configuration)
        except ConfigException as e:
            raise ClusterConfigError(f"cannot use the in-cluster configuration: {e}") from None
        return client.ApiClient(configuration)

    @property
    def api(self) -> Any:
        """The official client's ``ApiClient`` (created once)."""
        if self._api is None and self.in_cluster:
            from .retry import install_retries

            self._api = install_retries(self._in_cluster_api())
        if self._api is None:
            from kubernetes import config
            from kubernetes.config.config_exception import ConfigException

            if not Path(self.kubeconfig).is_file():
                raise ClusterConfigError(
                    f"kubeconfig {self.kubeconfig} does not exist: pass --azchaos-kubeconfig PATH, or leave it unset "
                    "to use the embedded cluster")
            _require_mapping(Path(self.kubeconfig))
            try:
                api = config.new_client_from_config(config_file=str(self.kubeconfig), context=self.context)
            except (ConfigException, ValueError, TypeError, KeyError, AttributeError) as e:
                raise ClusterConfigError(f"cannot use kubeconfig {self.kubeconfig}: {e}") from None
            except Exception as e:  # YAML errors and the like: the file is not a kubeconfig
                raise ClusterConfigError(f"cannot use kubeconfig {self.kubeconfig}: it is not a valid kubeconfig "
                                         f"({type(e).__name__}: {e})") from None
            from .retry import install_retries

            self._api = install_retries(api)
        return self._api

    @property
    def core(self) -> Any:
        from kubernetes import client

        return client.CoreV1Api(self.api)

    @property
    def apps(self) -> Any:
        from kubernetes import client

        return client.AppsV1Api(self.api)

    @property
    def context_name(self) -> str:
        """The context in use (the kubeconfig's current-context when none was given)."""
        if self.context:
            return self.context
        from kubernetes import config

        try:
            _, active = config.list_kube_config_contexts(config_file=str(self.kubeconfig))
        except Exception as e:
            raise ClusterConfigError(f"cannot read kubeconfig {self.kubeconfig}: {e}") from None
        return str((active or {}).get("name", ""))

    def check_reachable(self) -> None:
        """Fail fast, naming the fix, when the context is unknown or the API does not answer."""
        from kubernetes import client

        if self.context:
            names = context_names(Path(self.kubeconfig))
            if self.context not in names:
                raise ClusterConfigError(f"context {self.context!r} is not in {self.kubeconfig}; its contexts are: "
                                         f"{', '.join(names) or '(none)'} (set --azchaos-context)")
        api = self.api  # a broken kubeconfig fails here, with its own message
        try:
            client.VersionApi(api).get_code(_request_timeout=10)
        except ClusterConfigError:
            raise
        except Exception as e:
            host = getattr(self.api.configuration, "host", "?")
            raise ClusterConfigError(
                f"the Kubernetes API at {host} (context {self.context_name!r}) does not answer: {e}. Check the "
                f"cluster is up and reachable: kubectl --kubeconfig {self.kubeconfig} get nodes") from None

    def nodes_by_zone(self) -> dict[str, list[str]]:
        """Zone -> node names, from the ``topology.kubernetes.io/zone`` label."""
        zones: dict[str, list[str]] = defaultdict(list)
        for node in self.core.list_node().items:
            zone = (node.metadata.labels or {}).get(ZONE_LABEL)
            if zone:
                zones[zone].append(node.metadata.name)
        return {z: sorted(n) for z, n in sorted(zones.items())}

    def reported_stalls(self, since: float, until: float) -> list[tuple[float, float, float]] | None:
        """Stalls of the cluster's own machinery between ``since`` and ``until`` (wall clock), as
        ``(start, end, lag)``, from ``GET /azchaos/v1/stalls`` where the cluster serves it (the embedded
        cluster does, for its event loop); None where it does not (any real cluster: 404 or 403)."""
        status, doc = self.get_json("/azchaos/v1/stalls", {"since": str(since)})
        if status in (403, 404):
            return None
        if status >= 400:
            raise ClusterConfigError(f"GET /azchaos/v1/stalls answered {status}: {doc}")
        return [(float(s["start"]), float(s["end"]), float(s["lagSeconds"])) for s in doc.get("stalls") or []
                if float(s["start"]) <= until]

    def get_json(self, path: str, query: dict[str, str] | None = None, timeout: float = 5.0) -> tuple[int, Any]:
        """GET ``path`` (outside the typed API groups) with the kubeconfig's credentials: (status, parsed body)."""
        import json

        api = self.api
        params = list((query or {}).items())
        if hasattr(api, "param_serialize"):  # the client's OpenAPI-generator layout (v34 on)
            method, url, headers, _, _ = api.param_serialize("GET", path, query_params=params,
                                                             header_params={"Accept": "application/json"},
                                                             auth_settings=["BearerToken"])
            response = api.call_api(method, url, header_params=headers, _request_timeout=timeout)
            response.read()
        else:  # the swagger-codegen layout before it
            from kubernetes.client import ApiException

            try:
                response = api.call_api(path, "GET", query_params=params, header_params={"Accept": "application/json"},
                                        auth_settings=["BearerToken"], _preload_content=False,
                                        _return_http_data_only=True, _request_timeout=timeout)
            except ApiException as e:
                return int(e.status or 0), e.body
        try:
            return response.status, json.loads(response.data or b"null")
        except ValueError:
            return response.status, response.data.decode(errors="replace")

    def close(self) -> None:
        if self._api is not None:
            self._api.close()
            self._api = None
