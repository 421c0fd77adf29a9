#!/bin/bash
# Run one test binary and fail when it fails, or when a sanitizer reported
# anything: criterion counts a test as passed even when LeakSanitizer or
# UBSan printed a report (in the test process or in a husk it ran).
set -uo pipefail
log=$(mktemp /tmp/husk-suite.XXXXXX)
trap 'rm -f "$log"' EXIT
"$@" 2>&1 | tee "$log"
rc=$?
if grep -qE 'ERROR: (Address|Leak)Sanitizer|runtime error:|SUMMARY: (Address|Undefined)' "$log"; then
        echo "run-suite: sanitizer reports in the output of $1" >&2
        exit 1
fi
exit $rc
