"""Upstream API rules that several parts of the embedded cluster apply, each in one module.

Like ``k8s.io/component-helpers/scheduling/corev1`` upstream: the scheduler, the DaemonSet
controller and the taint-eviction controller ask the same questions (does this toleration
tolerate that taint, does this node satisfy that required node affinity), so each answer lives
here once. Label selectors live in :mod:`..apiserver.selectors`, next to their parser.
"""
