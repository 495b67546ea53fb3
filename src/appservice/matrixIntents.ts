import type { Bridge, Intent } from "matrix-appservice-bridge";
import { assertOutsideTransaction } from "../store/transactionScope";

/**
 * The slice of matrix-appservice-bridge we rely on, behind one small interface so the
 * rest of the code (and fault-injection tests) do not depend on the library's classes.
 */
export interface IntentProvider {
  intent(userId: string): Intent;
  botUserId: string;
}

export function intentsFromBridge(bridge: Bridge): IntentProvider {
  return guardedIntents({
    intent: (userId) => bridge.getIntent(userId),
    get botUserId() {
      return bridge.getBot().getUserId();
    },
  });
}

/**
 * Every intent method talks to the homeserver: calling one inside a database transaction is a
 * bug (see transactionScope.ts), caught here rather than in production.
 */
export function guardedIntents(provider: IntentProvider): IntentProvider {
  return {
    intent(userId) {
      const intent = provider.intent(userId);
      return new Proxy(intent, {
        get(target, prop, receiver) {
          const value = Reflect.get(target, prop, receiver);
          if (typeof value !== "function" || typeof prop !== "string") return value;
          return (...args: unknown[]) => {
            assertOutsideTransaction(`intent.${prop}`);
            return (value as (...a: unknown[]) => unknown).apply(target, args);
          };
        },
      });
    },
    get botUserId() {
      return provider.botUserId;
    },
  };
}
