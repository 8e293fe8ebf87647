"""What a kubeconfig context can declare for us: the cluster's timing profile, as a context extension.

A cluster whose timings are not the upstream/AWS defaults (``realistic``) says so in the kubeconfig that
reaches it, so waits and timeouts fit it without a flag. ``azchaos local up`` writes ``fast`` into the
kubeconfig of the cluster it starts; an SRE may add the same to a staging context::

    contexts:
    - name: staging
      context:
        cluster: staging
        user: ci
        extensions:
        - name: azchaos.io/timing-profile
          extension: {profile: realistic}

Extensions are part of the kubeconfig format (``NamedExtension``); kubectl keeps them and ignores them.
"""

from __future__ import annotations

from pathlib import Path

import yaml

from ..wellknown import PROFILE_EXTENSION, RESOLVER_EXTENSION, profile_extension

__all__ = ["PROFILE_EXTENSION", "RESOLVER_EXTENSION", "context_names", "declared_profile", "declared_resolver",
           "profile_extension"]



def declared_profile(path: Path, context: str | None = None) -> str | None:
    """The timing profile ``context`` (default: the current context) of the kubeconfig at ``path`` declares,
    or None when it declares none (or the file cannot be read: the cluster check reports that)."""
    return _extension(path, context, PROFILE_EXTENSION, "profile")


def declared_resolver(path: Path, context: str | None = None) -> str | None:
    """The DNS resolver (``HOST:PORT``) ``context`` declares for the cluster's load-balancer hostnames, or None:
    the system resolver answers them (``wellknown.RESOLVER_EXTENSION``)."""
    return _extension(path, context, RESOLVER_EXTENSION, "server")


def _extension(path: Path, context: str | None, name: str, key: str) -> str | None:
    try:
        doc = yaml.safe_load(Path(path).read_text())
    except (OSError, yaml.YAMLError):
        return None
    if not isinstance(doc, dict):
        return None
    wanted = context or doc.get("current-context")
    for entry in doc.get("contexts") or []:
        if isinstance(entry, dict) and entry.get("name") == wanted:
            for ext in (entry.get("context") or {}).get("extensions") or []:
                if isinstance(ext, dict) and ext.get("name") == name:
                    value = (ext.get("extension") or {}).get(key)
                    return str(value) if value is not None else None
    return None


def context_names(path: Path) -> list[str]:
    """The names of the contexts in the kubeconfig at ``path`` (the official client's reading of it); raises
    what the client raises for a file it cannot read, for each caller to word with its own fix."""
    from kubernetes import config

    contexts, _ = config.list_kube_config_contexts(config_file=str(path))
    return [c["name"] for c in contexts or []]
