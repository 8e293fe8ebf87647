#!/usr/bin/env bash
# Release gate for any CI: exits non-zero on any failed check; the report directory is kept either way.
#   ci/release-gate/gate.sh KUBECONFIG CONTEXT_REGEX [REPORT_DIR]
set -uo pipefail
kubeconfig=$1 allow=$2 report=${3:-azchaos-report}
pytest suites --azchaos-kubeconfig "$kubeconfig" --azchaos-allow-context "$allow" \
  --azchaos-report-dir "$report" --junitxml "$report/junit.xml"
status=$?
echo "azchaos release gate: pytest exit $status; report kept in $report/index.html"
exit $status
