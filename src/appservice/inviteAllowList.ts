/**
 * Who may invite agents. Entries are globs over user ids ("@*:example.org", "@alice:*")
 * or bare server names ("example.org", "*.example.org"), which match any user there.
 */
export class InviteAllowList {
  private readonly patterns: RegExp[];

  constructor(entries: readonly string[], ownDomain: string) {
    const list = entries.length ? entries : [ownDomain];
    this.patterns = list.map((entry) => globToRegex(entry.startsWith("@") ? entry : `@*:${entry}`));
  }

  allows(userId: string): boolean {
    return this.patterns.some((p) => p.test(userId));
  }
}

function globToRegex(glob: string): RegExp {
  const escaped = glob
    .replace(/[.+^${}()|[\]\\]/g, "\\$&")
    .replace(/\*/g, ".*")
    .replace(/\?/g, ".");
  return new RegExp(`^${escaped}$`, "i");
}
