// `probot run ./app.mjs`: Probot's own command and server, unchanged. Probot reads its
// settings from its own variables, so they are set here from the benchmark's: the secret
// from GITHUB_WEBHOOK_SECRET (as every peer), the port from --port; APP_ID and PRIVATE_KEY
// are passed through. Webhooks on POST /webhook (WEBHOOK_PATH); GET /ping answers PONG.
import { fileURLToPath } from "node:url";
import { HOST, port, secret } from "./common.mjs";

const here = (path) => fileURLToPath(new URL(path, import.meta.url));
Object.assign(process.env, {
  WEBHOOK_SECRET: secret(),
  PORT: String(port()),
  HOST,
  WEBHOOK_PATH: "/webhook",
  // Probot logs every request at info by default; the other servers log no request either.
  LOG_LEVEL: process.env.LOG_LEVEL ?? "warn",
});
const bin = here("./node_modules/probot/bin/probot.js");
process.argv = [process.argv[0], bin, "run", here("./app.mjs")];
await import(bin);
