import { createHash } from "node:crypto";
import { serialize, deserialize } from "node:v8";

/**
 * A copy of IndexedDB databases, one part per object store, so that only the stores that changed
 * since the last save are written again. Values and keys are structured clones (v8.serialize), as
 * IndexedDB itself keeps them.
 */
export interface SnapshotPart {
  /** `<database>/<store>`; `<database>/` holds the database's version. */
  name: string;
  data: Buffer;
}

/* Minimal IndexedDB shapes (the project compiles without the DOM library). */
type IDBValidKey = unknown;
interface IDBRequest<T> {
  result: T;
  error: unknown;
  onsuccess: (() => void) | null;
  onerror: (() => void) | null;
  onupgradeneeded?: (() => void) | null;
}
interface IDBIndex {
  keyPath: string | string[];
  unique: boolean;
  multiEntry: boolean;
}
interface IDBObjectStore {
  keyPath: string | string[] | null;
  autoIncrement: boolean;
  indexNames: Iterable<string>;
  index(name: string): IDBIndex;
  getAll(): IDBRequest<unknown[]>;
  getAllKeys(): IDBRequest<unknown[]>;
  put(value: unknown, key?: unknown): unknown;
  createIndex(
    name: string,
    keyPath: string | string[],
    opts: { unique: boolean; multiEntry: boolean },
  ): unknown;
}
interface IDBTransaction {
  objectStore(name: string): IDBObjectStore;
  oncomplete: (() => void) | null;
  onerror: (() => void) | null;
  onabort: (() => void) | null;
  error: unknown;
}
interface IDBDatabase {
  version: number;
  objectStoreNames: Iterable<string>;
  transaction(names: string[], mode: "readonly" | "readwrite"): IDBTransaction;
  createObjectStore(
    name: string,
    opts: { keyPath?: string | string[]; autoIncrement: boolean },
  ): IDBObjectStore;
  close(): void;
}
interface IDBFactory {
  open(name: string, version?: number): IDBRequest<IDBDatabase>;
  deleteDatabase(name: string): IDBRequest<unknown>;
  databases(): Promise<{ name?: string }[]>;
}
const factory = (): IDBFactory => (globalThis as unknown as { indexedDB: IDBFactory }).indexedDB;

interface StoreDump {
  keyPath: string | string[] | null;
  autoIncrement: boolean;
  indexes: { name: string; keyPath: string | string[]; unique: boolean; multiEntry: boolean }[];
  records: [IDBValidKey, unknown][];
}

function request<T>(req: IDBRequest<T>): Promise<T> {
  return new Promise((resolve, reject) => {
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error);
  });
}

function openDb(name: string, version?: number, upgrade?: (db: IDBDatabase) => void): Promise<IDBDatabase> {
  return new Promise((resolve, reject) => {
    const req = factory().open(name, version);
    req.onupgradeneeded = () => upgrade?.(req.result);
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error);
  });
}

/** Names of the databases whose name starts with `prefix`. */
export async function databasesWithPrefix(prefix: string): Promise<string[]> {
  const all = await factory().databases();
  return all.map((d) => d.name ?? "").filter((n) => n.startsWith(prefix));
}

/**
 * Object stores written since they were last taken (`<database>/<store>`), so a save serializes
 * only what changed: fake-indexeddb's write methods are wrapped once to note their store.
 */
const dirty = new Set<string>();
let tracking = false;

export function trackWrites(): void {
  if (tracking) return;
  tracking = true;
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const mod = require("fake-indexeddb/lib/FDBObjectStore") as { default?: unknown; prototype?: unknown };
  const proto = ((mod.default ?? mod) as { prototype: Record<string, unknown> }).prototype;
  for (const method of ["put", "add", "delete", "clear"]) {
    const original = proto[method] as (...args: unknown[]) => unknown;
    proto[method] = function (
      this: { name: string; transaction: { db: { name: string } } },
      ...args: unknown[]
    ) {
      dirty.add(`${this.transaction.db.name}/${this.name}`);
      return original.apply(this, args);
    };
  }
}

/** The parts written since the last call, for databases whose name starts with `prefix`. */
export function takeDirty(prefix: string): Set<string> {
  const out = new Set<string>();
  for (const part of dirty) {
    if (!part.startsWith(prefix)) continue;
    out.add(part);
    dirty.delete(part);
  }
  return out;
}

/**
 * Reads the object stores of the databases named (all, or those in `only`); each part is a
 * structured-clone buffer.
 */
export async function dumpDatabases(
  names: readonly string[],
  only?: ReadonlySet<string>,
): Promise<SnapshotPart[]> {
  const parts: SnapshotPart[] = [];
  for (const name of names) {
    const db = await openDb(name);
    try {
      parts.push({ name: `${name}/`, data: serialize({ version: db.version }) });
      const storeNames = [...db.objectStoreNames].filter((n) => !only || only.has(`${name}/${n}`));
      if (storeNames.length === 0) continue;
      const tx = db.transaction(storeNames, "readonly");
      for (const storeName of storeNames) {
        const store = tx.objectStore(storeName);
        const dump: StoreDump = {
          keyPath: store.keyPath,
          autoIncrement: store.autoIncrement,
          indexes: [...store.indexNames].map((n) => {
            const index = store.index(n);
            return { name: n, keyPath: index.keyPath, unique: index.unique, multiEntry: index.multiEntry };
          }),
          records: [],
        };
        const [keys, values] = await Promise.all([request(store.getAllKeys()), request(store.getAll())]);
        for (let i = 0; i < keys.length; i++) dump.records.push([keys[i], values[i]]);
        parts.push({ name: `${name}/${storeName}`, data: serialize(dump) });
      }
    } finally {
      db.close();
    }
  }
  return parts;
}

/** Re-creates databases from a snapshot (they must not exist yet). */
export async function restoreDatabases(parts: readonly SnapshotPart[]): Promise<void> {
  const byDb = new Map<string, { version: number; stores: [string, StoreDump][] }>();
  for (const part of parts) {
    const cut = part.name.lastIndexOf("/");
    const dbName = part.name.slice(0, cut);
    const storeName = part.name.slice(cut + 1);
    const entry = byDb.get(dbName) ?? { version: 1, stores: [] };
    byDb.set(dbName, entry);
    if (storeName === "") entry.version = (deserialize(part.data) as { version: number }).version;
    else entry.stores.push([storeName, deserialize(part.data) as StoreDump]);
  }
  for (const [dbName, { version, stores }] of byDb) {
    const db = await openDb(dbName, version, (upgrading) => {
      for (const [storeName, dump] of stores) {
        const store = upgrading.createObjectStore(storeName, {
          keyPath: dump.keyPath ?? undefined,
          autoIncrement: dump.autoIncrement,
        });
        for (const i of dump.indexes)
          store.createIndex(i.name, i.keyPath, { unique: i.unique, multiEntry: i.multiEntry });
      }
    });
    try {
      if (stores.length === 0) continue;
      const tx = db.transaction(
        stores.map(([n]) => n),
        "readwrite",
      );
      for (const [storeName, dump] of stores) {
        const store = tx.objectStore(storeName);
        for (const [key, value] of dump.records) {
          if (dump.keyPath === null) store.put(value, key);
          else store.put(value);
        }
      }
      await new Promise<void>((resolve, reject) => {
        tx.oncomplete = () => resolve();
        tx.onerror = () => reject(tx.error);
        tx.onabort = () => reject(tx.error);
      });
    } finally {
      db.close();
    }
  }
}

/** Deletes databases (a machine closed, or about to be restored from the database). */
export async function deleteDatabases(names: readonly string[]): Promise<void> {
  for (const name of names) await request(factory().deleteDatabase(name));
}

export function digest(data: Buffer): string {
  return createHash("sha256").update(data).digest("base64");
}
