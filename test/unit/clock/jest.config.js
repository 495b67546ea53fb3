// The unit project with a shifted wall clock (see shiftedClock.js).
const { resolve } = require("node:path");
const base = require("../../../jest.config.js");
const unit = base.projects.find((p) => p.displayName === "unit");
const rootDir = resolve(__dirname, "../../..");
module.exports = {
  rootDir,
  testTimeout: base.testTimeout,
  projects: [
    { ...unit, rootDir, setupFiles: [...unit.setupFiles, "<rootDir>/test/unit/clock/shiftedClock.js"] },
  ],
};
