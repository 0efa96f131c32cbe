// What every node peer shares: its port (--port N, or PORT) and the webhook secret, read
// from the variable the Python baseline reads (bench/baseline.py, SECRET_ENV).
import { parseArgs } from "node:util";

export const HOST = "127.0.0.1";
export const SECRET_ENV = "GITHUB_WEBHOOK_SECRET";

export function port() {
  const { values } = parseArgs({ options: { port: { type: "string" } }, strict: false });
  const given = values.port ?? process.env.PORT;
  if (!given) throw new Error("a port is needed: --port N or PORT");
  return Number(given);
}

export function secret() {
  const value = process.env[SECRET_ENV];
  if (!value) throw new Error(`${SECRET_ENV} is not set`);
  return value;
}

// GET /healthz, the benchmark's readiness probe, as the Python servers answer it.
export function healthz(req, res) {
  if (req.method === "GET" && req.url === "/healthz") {
    res.writeHead(200, { "content-type": "application/json" }).end('{"ok":true}');
    return true;
  }
  return false;
}
