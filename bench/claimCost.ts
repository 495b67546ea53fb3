/**
 * CPU of claiming ordinary chat, in-process, without HTTP: 200 pushes of 100 inert events
 * (recorded as handled in the claim, as group chat no agent is asked about is) on a fresh SQLite
 * file database, after 30 pushes of warm-up. Prints µs of CPU per event (user + system, so the
 * commit's fsync is in it) and wall time. Not part of `npm run bench`; ADR 0007 quotes it.
 *
 *   npm run build && node dist/bench/claimCost.js
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { openDatabase } from "../src/store/database";
import { migrate } from "../src/store/migrations";
import { Inbox, type InboundEvent } from "../src/store/inbox";
import { configureLogging } from "../src/logging/logger";

const PUSHES = 200;
const PER_PUSH = 100;

async function main(): Promise<void> {
  configureLogging({ level: "warn", format: "json" });
  const dir = mkdtempSync(join(tmpdir(), "mab-claim-cost-"));
  const db = await openDatabase({ data_dir: dir, engine: "sqlite" });
  try {
    await migrate(db);
    const inbox = new Inbox(db.knex);
    let n = 0;
    const push = (): InboundEvent[] =>
      Array.from({ length: PER_PUSH }, () => {
        const i = n++;
        return {
          event_id: `$claim-cost-${i}-abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG`,
          room_id: `!room${i % 100}abcdefghijkl:localhost`,
          type: "m.room.message",
          sender: `@bench-user-${i % 5000}:localhost`,
          origin_server_ts: 1_700_000_000_000 + i,
          content: { msgtype: "m.text", body: `hello there, this is ordinary chat number ${i}` },
          unsigned: { age: 12 },
        } as InboundEvent;
      });
    const claim = (events: InboundEvent[]) =>
      inbox.claimBatch(events, { inert: new Set(events.map((e) => e.event_id)) });
    for (let w = 0; w < 30; w++) await claim(push());
    const pushes = Array.from({ length: PUSHES }, push);
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    for (const events of pushes) await claim(events);
    const cpu = process.cpuUsage(cpu0);
    const wallMs = performance.now() - t0;
    const events = PUSHES * PER_PUSH;
    const us = (v: number) => Math.round((v / events) * 10) / 10;
    process.stdout.write(
      JSON.stringify({
        benchmark: "claim of ordinary chat (in-process, SQLite)",
        events,
        cpuUsPerEvent: us(cpu.user + cpu.system),
        userUsPerEvent: us(cpu.user),
        systemUsPerEvent: us(cpu.system),
        wallUsPerEvent: us(wallMs * 1000),
      }) + "\n",
    );
  } finally {
    await db.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

void main();
