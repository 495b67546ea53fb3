// Tests log at "warn" unless asked otherwise (MAB_TEST_LOG_LEVEL=debug to see everything).
// The root logger reads MAB_LOGGING_LEVEL when the logging module loads, after this file runs.
process.env.MAB_LOGGING_LEVEL = process.env.MAB_TEST_LOG_LEVEL ?? "warn";
