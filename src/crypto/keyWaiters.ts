import type { RoomKeyNotice } from "./agentMachine";

interface KeyWaiter {
  roomId: string;
  sessionId: string;
  wake(): void;
}

/**
 * Events waiting for their room key: each sleeps until a key for its session arrives (the
 * machines' room-key callback) or until a deadline, whichever comes first.
 */
export class KeyWaiters {
  private readonly waiters = new Set<KeyWaiter>();

  /** A machine took in these room keys: wake the events that wait for one of them. */
  arrived(keys: RoomKeyNotice[]): void {
    for (const waiter of this.waiters) {
      if (keys.some((k) => k.roomId === waiter.roomId && k.sessionId === waiter.sessionId)) waiter.wake();
    }
  }

  wait(roomId: string, sessionId: string, until: number): Promise<void> {
    return new Promise((resolve) => {
      const waiter: KeyWaiter = {
        roomId,
        sessionId,
        wake: () => {
          clearTimeout(timer);
          this.waiters.delete(waiter);
          resolve();
        },
      };
      const timer = setTimeout(waiter.wake, Math.max(0, until - Date.now()));
      this.waiters.add(waiter);
    });
  }

  clear(): void {
    this.waiters.clear();
  }
}
