#!/usr/bin/env node
"use strict";
const path = require("node:path");
const fs = require("node:fs");

const entry = path.join(__dirname, "..", "dist", "src", "cli", "index.js");
if (!fs.existsSync(entry)) {
  process.stderr.write(
    "matrix-agent-bridge is not built yet: run `npm install` (or `npm run build`) first.\n",
  );
  process.exit(1);
}
const major = Number(process.versions.node.split(".")[0]);
if (major < 22) {
  process.stderr.write(
    `matrix-agent-bridge needs Node.js 22 or newer (this is ${process.version}). ` +
      "Run it through npm (`npx matrix-agent-bridge …`), which uses the Node 22 installed with the project.\n",
  );
  process.exit(1);
}
// V8's on-disk compile cache (Node 22): later starts skip compiling the bridge and its
// libraries again (a few hundred ms of CPU on a small machine). Silently off where unsupported.
try {
  require("node:module").enableCompileCache?.();
} catch {
  // no cache: only slower
}
// Before anything else loads: a young generation that never grows (src/cli/leanHeap.ts).
require(path.join(__dirname, "..", "dist", "src", "cli", "leanHeap.js")).keepYoungGenerationSmall();
// Exit explicitly once the command is done: libraries (the bot-sdk's caches, HTTP agents)
// keep timers that would otherwise hold the process open after a clean shutdown.
require(entry)
  .main(process.argv)
  .then(
    (code) => process.exit(typeof code === "number" ? code : 0),
    (err) => {
      process.stderr.write(`${(err && err.stack) || err}\n`);
      process.exit(1);
    },
  );
