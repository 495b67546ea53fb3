import { createHash, timingSafeEqual } from "node:crypto";
import type { NextFunction, Request, Response } from "express";

/**
 * Compares two secrets in constant time. Hashing first gives equal-length inputs, so
 * neither the content nor the length of the expected token leaks through timing.
 */
export function secretsEqual(provided: string, expected: string): boolean {
  const a = createHash("sha256").update(provided, "utf8").digest();
  const b = createHash("sha256").update(expected, "utf8").digest();
  return timingSafeEqual(a, b) && provided.length === expected.length;
}

function providedToken(req: Request): string | undefined {
  const header = req.headers.authorization;
  if (header?.startsWith("Bearer ")) return header.slice("Bearer ".length);
  const query = req.query.access_token;
  return typeof query === "string" ? query : undefined;
}

/** Express middleware: every homeserver → appservice request must carry the hs_token. */
export function requireHsToken(hsToken: string) {
  return (req: Request, res: Response, next: NextFunction): void => {
    const token = providedToken(req);
    if (token === undefined) {
      res.status(401).json({ errcode: "M_UNAUTHORIZED", error: "Missing hs_token" });
      return;
    }
    if (!secretsEqual(token, hsToken)) {
      res.status(403).json({ errcode: "M_FORBIDDEN", error: "Bad hs_token" });
      return;
    }
    next();
  };
}
