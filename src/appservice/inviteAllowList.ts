/**
 * Who may invite agents. Entries are globs over user ids ("@*:example.org", "@alice:*")
 * or bare server names ("example.org", "*.example.org"), which match any user there.
 *
 * Matching is by parts, never one regex over the whole id: the user id must be well formed
 * (`@localpart:server` with a valid server name), the entry's localpart glob is matched against the
 * localpart and its server glob against the server name. So `@x:evil.com:example.org` (not a valid
 * server name) matches nothing, and `*` never reaches across the ':'. Globs are matched by segments
 * (`*` splits, `?` is one character), in time linear in the id for a given entry: a config entry
 * with many `*` cannot make a catastrophic regex.
 */
export class InviteAllowList {
  private readonly entries: { local: Glob; server: Glob }[];

  constructor(entries: readonly string[], ownDomain: string) {
    const list = entries.length ? entries : [ownDomain];
    this.entries = list.map((entry) => {
      if (!entry.startsWith("@")) return { local: new Glob("*"), server: new Glob(entry.toLowerCase()) };
      const colon = entry.indexOf(":");
      return colon < 0
        ? { local: new Glob(entry.slice(1)), server: new Glob("*") }
        : { local: new Glob(entry.slice(1, colon)), server: new Glob(entry.slice(colon + 1).toLowerCase()) };
    });
  }

  allows(userId: string): boolean {
    const parts = splitUserId(userId);
    if (!parts) return false;
    const server = parts.server.toLowerCase();
    return this.entries.some((e) => e.local.matches(parts.localpart) && e.server.matches(server));
  }
}

/** Server names as the spec allows them: a DNS name, IPv4 or [IPv6] literal, with an optional port. */
const SERVER_NAME =
  /^(?:\[[0-9a-fA-F:.]{2,45}\]|[A-Za-z0-9](?:[A-Za-z0-9-]{0,62}(?:\.[A-Za-z0-9-]{1,63}){0,20})?)(?::[0-9]{1,5})?$/;

function splitUserId(userId: string): { localpart: string; server: string } | undefined {
  if (typeof userId !== "string" || userId.length > 255 || !userId.startsWith("@")) return undefined;
  const colon = userId.indexOf(":");
  if (colon < 2) return undefined;
  const server = userId.slice(colon + 1);
  if (!SERVER_NAME.test(server)) return undefined;
  return { localpart: userId.slice(1, colon), server };
}

/** A glob with `*` (any run) and `?` (one character), case-insensitive. */
export class Glob {
  private readonly segments: string[];

  constructor(pattern: string) {
    this.segments = pattern.toLowerCase().split("*");
  }

  matches(text: string): boolean {
    const s = text.toLowerCase();
    const segs = this.segments;
    if (segs.length === 1) return s.length === segs[0].length && at(s, 0, segs[0]);
    const first = segs[0];
    const last = segs[segs.length - 1];
    if (s.length < first.length + last.length) return false;
    if (!at(s, 0, first) || !at(s, s.length - last.length, last)) return false;
    // Middle segments, leftmost first (greedy is exact for `*`-separated segments).
    let pos = first.length;
    const end = s.length - last.length;
    for (let i = 1; i < segs.length - 1; i++) {
      const seg = segs[i];
      if (seg === "") continue;
      const found = find(s, seg, pos, end);
      if (found < 0) return false;
      pos = found + seg.length;
    }
    return pos <= end;
  }
}

function at(s: string, pos: number, seg: string): boolean {
  if (pos < 0 || pos + seg.length > s.length) return false;
  for (let i = 0; i < seg.length; i++) if (seg[i] !== "?" && seg[i] !== s[pos + i]) return false;
  return true;
}

/** Leftmost position in [from, end - seg.length] where `seg` matches; -1 if none. */
function find(s: string, seg: string, from: number, end: number): number {
  for (let p = from; p + seg.length <= end; p++) if (at(s, p, seg)) return p;
  return -1;
}
