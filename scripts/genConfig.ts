import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { renderSampleConfig } from "../src/config/sample";

/** `npm run gen:config`: rewrites config/config.sample.yaml from the config specs. */
const path = join(__dirname, "..", "..", "config", "config.sample.yaml");
writeFileSync(path, renderSampleConfig());
process.stdout.write(`Wrote ${path}\n`);
