// Runs the suite as if the wall clock showed MAB_FAKE_NOW (an ISO instant) when it started, moving
// on from there: `new Date()` and `Date.now()` are shifted, timers and performance.now are not.
// Used once per time of day by test/unit/clock/run-at-times.sh to prove that no unit test
// depends on the time of day (issue 10). Not part of the normal configuration.

/** Shifts the global Date so that now is `target` (ms); returns a function that undoes it. */
function shiftClock(target) {
  const RealDate = globalThis.Date;
  const offset = target - RealDate.now();
  class ShiftedDate extends RealDate {
    constructor(...args) {
      if (args.length === 0) super(RealDate.now() + offset);
      else super(...args);
    }
    static now() {
      return RealDate.now() + offset;
    }
  }
  globalThis.Date = ShiftedDate;
  return () => {
    globalThis.Date = RealDate;
  };
}

const fake = process.env.MAB_FAKE_NOW;
if (fake) {
  const target = Date.parse(fake);
  if (Number.isNaN(target)) throw new Error(`MAB_FAKE_NOW is not an ISO instant: ${fake}`);
  shiftClock(target);
}

module.exports = { shiftClock };
