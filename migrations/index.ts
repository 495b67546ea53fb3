import type { Knex } from "knex";
import * as m001 from "./001_core";
import * as m002 from "./002_scheduler";
import * as m003 from "./003_user_prefs";
import * as m004 from "./004_devices";
import * as m005 from "./005_inbox_room_order";
import * as m006 from "./006_room_activity";
import * as m010 from "./010_crypto";
import * as m020 from "./020_agent_pause";
import * as m030 from "./030_outbox_parallel_group";
import * as m011 from "./011_crypto_feed_digest";
import * as m040 from "./040_crypto_to_device_catch_up";

/** A core schema migration. Names are recorded as `core/<name>` in the migration table; never rename one. */
export interface CoreMigration {
  name: string;
  up(knex: Knex): Promise<void>;
  down?(knex: Knex): Promise<void>;
}

/**
 * The core migrations, in the order they run. Static imports (not a directory scan) so the list is
 * the same under ts-jest, ts-node and the compiled dist/ build. Append new ones at the end.
 */
export const coreMigrations: readonly CoreMigration[] = [
  { name: "001_core", up: m001.up, down: m001.down },
  { name: "002_scheduler", up: m002.up, down: m002.down },
  { name: "003_user_prefs", up: m003.up, down: m003.down },
  { name: "004_devices", up: m004.up, down: m004.down },
  { name: "005_inbox_room_order", up: m005.up, down: m005.down },
  { name: "006_room_activity", up: m006.up, down: m006.down },
  { name: "010_crypto", up: m010.up, down: m010.down },
  { name: "020_agent_pause", up: m020.up, down: m020.down },
  { name: "030_outbox_parallel_group", up: m030.up, down: m030.down },
  { name: "011_crypto_feed_digest", up: m011.up, down: m011.down },
  { name: "040_crypto_to_device_catch_up", up: m040.up, down: m040.down },
];
