"use strict";
// The real package downloads a native binary in a postinstall script, which
// fails on machines without access to its release page. The bot-sdk requires
// it at import time but only uses it when encryption is enabled, so this
// stand-in lets everything load and throws a clear error if anyone uses it.
const MESSAGE =
  "End-to-end encryption is unavailable: @matrix-org/matrix-sdk-crypto-nodejs is replaced by a stand-in " +
  "(see README, 'Encryption'). matrix-agent-bridge does not support encrypted rooms.";

class CryptoUnavailableError extends Error {
  constructor() {
    super(MESSAGE);
    this.name = "CryptoUnavailableError";
  }
}

function unavailable() {
  throw new CryptoUnavailableError();
}

// Any export name resolves to a class whose construction and static calls throw.
// Enum-like lookups (e.g. StoreType.Sqlite) return undefined harmlessly.
const handler = {
  get(_target, prop) {
    if (prop === "__esModule") return false;
    if (prop === "CryptoUnavailableError") return CryptoUnavailableError;
    if (prop === "isStandIn") return true;
    if (typeof prop === "symbol") return undefined;
    const Stub = function () {
      unavailable();
    };
    return new Proxy(Stub, {
      construct: unavailable,
      apply: unavailable,
      get(_t, p) {
        if (p === "prototype") return Stub.prototype;
        return undefined;
      },
    });
  },
};

module.exports = new Proxy({}, handler);
