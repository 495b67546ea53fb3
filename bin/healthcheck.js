#!/usr/bin/env node
"use strict";
/* global fetch, AbortSignal */
// The image's HEALTHCHECK: healthy when the bridge answers /ready (database and homeserver
// reachable, agents running). It asks the port the bridge listens on: MAB_APPSERVICE_PORT if
// set (the bridge uses the same variable), else the default 9000.
const port = Number(process.env.MAB_APPSERVICE_PORT || 9000);
fetch(`http://127.0.0.1:${port}/ready`, { signal: AbortSignal.timeout(4000) }).then(
  (res) => process.exit(res.ok ? 0 : 1),
  () => process.exit(1),
);
