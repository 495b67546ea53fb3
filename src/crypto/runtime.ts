import { moduleLogger } from "../logging/logger";

const log = moduleLogger("crypto/runtime");

export type CryptoWasm = typeof import("@matrix-org/matrix-sdk-crypto-wasm", {
  with: { "resolution-mode": "require" },
});

let loaded: Promise<CryptoWasm> | undefined;

/**
 * Loads the Rust crypto (WebAssembly) and gives Node the IndexedDB it expects. The machines'
 * stores live in fake-indexeddb (in memory); their contents are made durable in our own database
 * (see cryptoStore.ts and docs/adr/0002-crypto-store.md). Loaded once per process, on first use,
 * so a bridge with encryption off never pays for it.
 */
export function cryptoRuntime(): Promise<CryptoWasm> {
  loaded ??= (async () => {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    require("fake-indexeddb/auto");
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const wasm = require("@matrix-org/matrix-sdk-crypto-wasm") as CryptoWasm;
    await wasm.initAsync();
    // The library logs through its own tracing; keep it to errors (a missing room key is a warning there, and an expected wait here).
    if (wasm.Tracing.isAvailable()) new wasm.Tracing(wasm.LoggerLevel.Error).turnOn();
    log.debug("Rust crypto (WebAssembly) loaded");
    return wasm;
  })();
  return loaded;
}
