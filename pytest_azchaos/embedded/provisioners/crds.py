"""Karpenter v1's CustomResourceDefinitions, as its Helm chart installs them (trimmed schemas).

Names, scope, categories, printer columns and the status subresource follow upstream's generated CRDs
(kubernetes-sigs/karpenter ``pkg/apis/crds/karpenter.sh_nodepools.yaml``, ``karpenter.sh_nodeclaims.yaml``;
aws/karpenter-provider-aws ``pkg/apis/crds/karpenter.k8s.aws_ec2nodeclasses.yaml``). The schemas keep the
fields the embedded controller reads (requirements, limits, disruption budgets, nodeClassRef) with their
types and enums and preserve the rest, so a real NodePool manifest applies unchanged.
"""

from __future__ import annotations

from typing import Any

Obj = dict[str, Any]
KARPENTER_GROUP = "karpenter.sh"
AWS_GROUP = "karpenter.k8s.aws"
AUTO_MODE_GROUP = "eks.amazonaws.com"

_OPEN: Obj = {"type": "object", "x-kubernetes-preserve-unknown-fields": True}
_REQUIREMENT: Obj = {"type": "object", "required": ["key", "operator"], "properties": {
    "key": {"type": "string", "maxLength": 316},
    "operator": {"type": "string", "enum": ["In", "NotIn", "Exists", "DoesNotExist", "Gt", "Lt"]},
    "values": {"type": "array", "items": {"type": "string"}, "maxLength": 63},
    "minValues": {"type": "integer", "minimum": 1, "maximum": 50}}}
_NODE_CLASS_REF: Obj = {"type": "object", "required": ["group", "kind", "name"], "properties": {
    "group": {"type": "string"}, "kind": {"type": "string"}, "name": {"type": "string"}}}
_CONDITIONS: Obj = {"type": "array", "items": {"type": "object", "required": [
    "lastTransitionTime", "message", "reason", "status", "type"], "properties": {
    "lastTransitionTime": {"type": "string", "format": "date-time"}, "message": {"type": "string"},
    "observedGeneration": {"type": "integer", "format": "int64"}, "reason": {"type": "string"},
    "status": {"type": "string", "enum": ["True", "False", "Unknown"]}, "type": {"type": "string"}}}}
_QUANTITIES: Obj = {"type": "object", "additionalProperties": {
    "anyOf": [{"type": "integer"}, {"type": "string"}], "x-kubernetes-int-or-string": True}}


def _template_spec() -> Obj:
    return {"type": "object", "required": ["nodeClassRef", "requirements"], "properties": {
        "nodeClassRef": _NODE_CLASS_REF,
        "requirements": {"type": "array", "maxItems": 100, "items": _REQUIREMENT},
        "taints": {"type": "array", "items": _OPEN}, "startupTaints": {"type": "array", "items": _OPEN},
        "expireAfter": {"type": "string"}, "terminationGracePeriod": {"type": "string"}}}


def _crd(group: str, plural: str, kind: str, singular: str, categories: list[str], spec: Obj, status: Obj,
         columns: list[Obj], short_names: list[str] | None = None) -> Obj:
    names: Obj = {"categories": categories, "kind": kind, "listKind": f"{kind}List", "plural": plural,
                  "singular": singular}
    if short_names:
        names["shortNames"] = short_names
    return {"apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
            "metadata": {"name": f"{plural}.{group}",
                         "annotations": {"controller-gen.kubebuilder.io/version": "v0.18.0"}},
            "spec": {"group": group, "names": names, "scope": "Cluster", "versions": [{
                "name": "v1", "served": True, "storage": True, "subresources": {"status": {}},
                "additionalPrinterColumns": columns,
                "schema": {"openAPIV3Schema": {"type": "object", "properties": {
                    "apiVersion": {"type": "string"}, "kind": {"type": "string"}, "metadata": {"type": "object"},
                    "spec": spec, "status": status}}}}]}}


def nodepool_crd() -> Obj:
    budget = {"type": "object", "required": ["nodes"], "properties": {
        "nodes": {"type": "string", "default": "10%", "pattern": r"^((100|[0-9]{1,2})%|[0-9]+)$"},
        "reasons": {"type": "array", "items": {"type": "string", "enum": ["Underutilized", "Empty", "Drifted"]}},
        "schedule": {"type": "string"}, "duration": {"type": "string"}}}
    spec = {"type": "object", "required": ["template"], "properties": {
        "disruption": {"type": "object", "default": {"consolidateAfter": "0s"}, "properties": {
            "budgets": {"type": "array", "maxItems": 50, "default": [{"nodes": "10%"}], "items": budget},
            "consolidateAfter": {"type": "string", "pattern": r"^(([0-9]+(s|m|h))+|Never)$"},
            "consolidationPolicy": {"type": "string", "default": "WhenEmptyOrUnderutilized",
                                    "enum": ["WhenEmpty", "WhenEmptyOrUnderutilized"]}},
            "required": ["consolidateAfter"]},
        "limits": _QUANTITIES, "weight": {"type": "integer", "format": "int32", "minimum": 1, "maximum": 100},
        "replicas": {"type": "integer", "format": "int64"},
        "template": {"type": "object", "required": ["spec"], "properties": {
            "metadata": {"type": "object", "properties": {
                "labels": {"type": "object", "additionalProperties": {"type": "string"}},
                "annotations": {"type": "object", "additionalProperties": {"type": "string"}}}},
            "spec": _template_spec()}}}}
    status = {"type": "object", "properties": {"conditions": _CONDITIONS, "resources": _QUANTITIES,
                                               "nodeClassObservedGeneration": {"type": "integer"},
                                               "nodes": {"type": "integer", "format": "int64"}}}
    columns = [
        {"jsonPath": ".spec.template.spec.nodeClassRef.name", "name": "NodeClass", "type": "string"},
        {"jsonPath": ".status.resources.nodes", "name": "Nodes", "type": "string"},
        {"jsonPath": '.status.conditions[?(@.type=="Ready")].status', "name": "Ready", "type": "string"},
        {"jsonPath": ".metadata.creationTimestamp", "name": "Age", "type": "date"},
        {"jsonPath": ".spec.weight", "name": "Weight", "priority": 1, "type": "integer"},
        {"jsonPath": ".status.resources.cpu", "name": "CPU", "priority": 1, "type": "string"},
        {"jsonPath": ".status.resources.memory", "name": "Memory", "priority": 1, "type": "string"}]
    return _crd(KARPENTER_GROUP, "nodepools", "NodePool", "nodepool", ["karpenter"], spec, status, columns)


def nodeclaim_crd() -> Obj:
    spec = {"type": "object", "required": ["nodeClassRef", "requirements"], "properties": {
        **_template_spec()["properties"], "resources": {"type": "object", "properties": {
            "requests": _QUANTITIES}}}}
    status = {"type": "object", "properties": {
        "allocatable": _QUANTITIES, "capacity": _QUANTITIES, "conditions": _CONDITIONS,
        "imageID": {"type": "string"}, "lastPodEventTime": {"type": "string", "format": "date-time"},
        "nodeName": {"type": "string"}, "providerID": {"type": "string"}}}
    columns = [
        {"jsonPath": ".metadata.labels.node\\.kubernetes\\.io/instance-type", "name": "Type", "type": "string"},
        {"jsonPath": ".metadata.labels.karpenter\\.sh/capacity-type", "name": "Capacity", "type": "string"},
        {"jsonPath": ".metadata.labels.topology\\.kubernetes\\.io/zone", "name": "Zone", "type": "string"},
        {"jsonPath": ".status.nodeName", "name": "Node", "type": "string"},
        {"jsonPath": '.status.conditions[?(@.type=="Ready")].status', "name": "Ready", "type": "string"},
        {"jsonPath": ".metadata.creationTimestamp", "name": "Age", "type": "date"},
        {"jsonPath": ".status.imageID", "name": "ImageID", "priority": 1, "type": "string"},
        {"jsonPath": ".status.providerID", "name": "ID", "priority": 1, "type": "string"},
        {"jsonPath": ".metadata.labels.karpenter\\.sh/nodepool", "name": "NodePool", "priority": 1,
         "type": "string"},
        {"jsonPath": ".spec.nodeClassRef.name", "name": "NodeClass", "priority": 1, "type": "string"},
        {"jsonPath": '.status.conditions[?(@.type=="Drifted")].status', "name": "Drifted", "priority": 1,
         "type": "string"}]
    return _crd(KARPENTER_GROUP, "nodeclaims", "NodeClaim", "nodeclaim", ["karpenter"], spec, status, columns)


def ec2nodeclass_crd() -> Obj:
    selector = {"type": "array", "items": _OPEN}
    spec = {"type": "object", "properties": {
        "amiFamily": {"type": "string"}, "amiSelectorTerms": selector, "role": {"type": "string"},
        "instanceProfile": {"type": "string"}, "subnetSelectorTerms": selector,
        "securityGroupSelectorTerms": selector, "tags": {"type": "object", "additionalProperties": {
            "type": "string"}}, "blockDeviceMappings": selector, "metadataOptions": _OPEN, "kubelet": _OPEN,
        "userData": {"type": "string"}}, "x-kubernetes-preserve-unknown-fields": True}
    status = {"type": "object", "x-kubernetes-preserve-unknown-fields": True,
              "properties": {"conditions": _CONDITIONS}}
    columns = [
        {"jsonPath": '.status.conditions[?(@.type=="Ready")].status', "name": "Ready", "type": "string"},
        {"jsonPath": ".metadata.creationTimestamp", "name": "Age", "type": "date"},
        {"jsonPath": ".spec.role", "name": "Role", "priority": 1, "type": "string"}]
    return _crd(AWS_GROUP, "ec2nodeclasses", "EC2NodeClass", "ec2nodeclass", ["karpenter"], spec, status, columns,
                ["ec2nc", "ec2ncs"])


def auto_mode_nodeclass_crd() -> Obj:
    """EKS Auto Mode's ``NodeClass`` (``eks.amazonaws.com/v1``), which its built-in NodePools reference."""
    spec = {"type": "object", "x-kubernetes-preserve-unknown-fields": True, "properties": {
        "role": {"type": "string"}, "subnetSelectorTerms": {"type": "array", "items": _OPEN},
        "securityGroupSelectorTerms": {"type": "array", "items": _OPEN},
        "ephemeralStorage": _OPEN, "networkPolicy": {"type": "string"}}}
    status = {"type": "object", "x-kubernetes-preserve-unknown-fields": True,
              "properties": {"conditions": _CONDITIONS}}
    columns = [
        {"jsonPath": ".spec.role", "name": "Role", "type": "string"},
        {"jsonPath": '.status.conditions[?(@.type=="Ready")].status', "name": "Ready", "type": "string"},
        {"jsonPath": ".metadata.creationTimestamp", "name": "Age", "type": "date"}]
    return _crd(AUTO_MODE_GROUP, "nodeclasses", "NodeClass", "nodeclass", ["eks"], spec, status, columns)
