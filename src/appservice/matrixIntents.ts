import type { Bridge, Intent } from "matrix-appservice-bridge";

/**
 * The slice of matrix-appservice-bridge we rely on, behind one small interface so the
 * rest of the code (and fault-injection tests) do not depend on the library's classes.
 */
export interface IntentProvider {
  intent(userId: string): Intent;
  botUserId: string;
}

export function intentsFromBridge(bridge: Bridge): IntentProvider {
  return {
    intent: (userId) => bridge.getIntent(userId),
    get botUserId() {
      return bridge.getBot().getUserId();
    },
  };
}
