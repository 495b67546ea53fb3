/** What an operator can do about common file-system errors, by errno code. */
const EXPLAIN: Record<string, string> = {
  ENOENT: "no such file or directory",
  EACCES: "permission denied",
  EPERM: "operation not permitted",
  EISDIR: "is a directory",
  ENOTDIR: "a part of the path is not a directory",
  EROFS: "read-only file system",
  ENOSPC: "no space left on the device",
  EEXIST: "already exists",
};

/** "permission denied (EACCES)" for a file-system error, or undefined when `err` is not one. */
export function fileErrorReason(err: unknown): string | undefined {
  const e = err as NodeJS.ErrnoException | undefined;
  if (!e || typeof e.code !== "string" || !(e.code in EXPLAIN)) return undefined;
  return `${EXPLAIN[e.code]} (${e.code})`;
}

/**
 * A one-line message for a file-system error (no stack trace: the operator needs the path and
 * the reason, not our call stack), or undefined when `err` is not one.
 */
export function fileErrorMessage(err: unknown): string | undefined {
  const reason = fileErrorReason(err);
  if (!reason) return undefined;
  const e = err as NodeJS.ErrnoException;
  return `cannot ${e.syscall ?? "use"} ${e.path ?? "a file"}: ${reason}`;
}
