#!/usr/bin/env bash
# Runs the unit suite with the wall clock shifted to several times of day, a DST switch day in
# Europe and in the US, and in a few process timezones. Usage: test/unit/clock/run-at-times.sh
set -euo pipefail
cd "$(dirname "$0")/../../.."
status=0
for at in 2026-03-02T00:30:00Z 2026-03-02T08:30:00Z 2026-03-02T23:59:00Z 2026-03-29T01:30:00Z 2026-11-01T06:30:00Z; do
  for tz in UTC America/New_York; do
    echo "=== clock at $at, TZ=$tz"
    if MAB_FAKE_NOW="$at" TZ="$tz" node_modules/.bin/node --experimental-vm-modules node_modules/jest/bin/jest.js \
      --config test/unit/clock/jest.config.js --silent 2>&1 | grep -E "^(Tests|Test Suites):|✕|FAIL"; then :; fi
    [ "${PIPESTATUS[0]}" = 0 ] || status=1
  done
done
exit $status
