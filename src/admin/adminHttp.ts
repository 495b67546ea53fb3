import express, { type Request, type Response } from "express";
import { secretsEqual } from "../appservice/hsTokenAuth";
import { errorMessage } from "../errors";
import { moduleLogger, registerSecrets } from "../logging/logger";
import type { AdminService } from "./adminService";

const log = moduleLogger("admin/http");

/**
 * `POST /admin/v1/command {"command": "parked"}` → `{"answer": "…"}`, for the CLI talking to the
 * running bridge (it also works on the embedded database, which only one process may open). Only
 * with `Authorization: Bearer <admin.token>`, compared in constant time; without admin.token the
 * routes answer 404, so the API does not exist unless an operator turned it on.
 */
export function adminRouter(
  token: string | undefined,
  service: () => AdminService | undefined,
): express.Router {
  const router = express.Router();
  if (token) registerSecrets(token);
  router.use((req: Request, res: Response, next) => {
    if (!token) return void res.status(404).json({ error: "operator API off: set admin.token" });
    const header = req.headers.authorization ?? "";
    if (!header.startsWith("Bearer ") || !secretsEqual(header.slice(7), token)) {
      return void res.status(401).json({ error: "wrong or missing admin token" });
    }
    next();
  });
  router.post("/command", express.json({ limit: "4kb" }), (req: Request, res: Response) => {
    const command = (req.body as { command?: unknown } | undefined)?.command;
    if (typeof command !== "string")
      return void res.status(400).json({ error: 'body must be {"command": "…"}' });
    const svc = service();
    if (!svc) return void res.status(503).json({ error: "the bridge is still starting" });
    svc.run(command, "cli").then(
      (answer) => res.json({ answer }),
      (err) => {
        log.error({ err: errorMessage(err) }, "Operator command failed");
        res.status(500).json({ error: errorMessage(err) });
      },
    );
  });
  return router;
}
