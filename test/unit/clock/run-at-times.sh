#!/usr/bin/env bash
# Runs the unit suite with the wall clock shifted to several times of day and to DST switch days
# (Europe on 29 Mar, the US on 1 Nov), in two process timezones, to prove that no unit test
# depends on when it runs (issue 10). Usage: test/unit/clock/run-at-times.sh [jest args…]
set -uo pipefail
cd "$(dirname "$0")/../../.."
status=0
for run in "2026-03-02T00:30:00Z UTC" "2026-03-02T08:30:00Z UTC" "2026-03-02T23:59:00Z UTC" \
  "2026-03-29T01:30:00Z Europe/Berlin" "2026-11-01T06:30:00Z America/New_York"; do
  read -r at tz <<<"$run"
  echo "=== clock at $at, TZ=$tz"
  MAB_FAKE_NOW="$at" TZ="$tz" node_modules/.bin/node --experimental-vm-modules node_modules/jest/bin/jest.js \
    --config test/unit/clock/jest.config.js "$@" >"/tmp/mab-clock-$at.log" 2>&1
  code=$?
  grep -E "^(Tests|Test Suites):|✕" "/tmp/mab-clock-$at.log"
  [ "$code" = 0 ] || status=1
done
exit $status
