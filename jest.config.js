/** @type {import('jest').Config} */
// Three layers, run in one process (--runInBand) because the end-to-end suites each
// start a real Synapse and the store suites share one PostgreSQL server.
const base = {
  transform: { "^.+\\.ts$": ["ts-jest", { tsconfig: "tsconfig.json" }] },
  testEnvironment: "node",
  setupFiles: ["<rootDir>/test/harness/quietLogs.ts"],
  moduleFileExtensions: ["ts", "js", "json"],
};
module.exports = {
  projects: [
    {
      ...base,
      displayName: "unit",
      testMatch: ["<rootDir>/test/unit/**/*.test.ts", "<rootDir>/src/**/*.test.ts"],
    },
    { ...base, displayName: "store", testMatch: ["<rootDir>/test/store/**/*.test.ts"] },
    {
      ...base,
      displayName: "e2e",
      testMatch: ["<rootDir>/test/e2e/**/*.test.ts"],
      globalSetup: "<rootDir>/test/harness/globalSetup.ts",
    },
  ],
  testTimeout: 120000,
};
