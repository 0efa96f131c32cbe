// Probot's middleware on node:http: createNodeMiddleware(app, { probot }) with a Probot made
// from an app id, a private key (APP_ID, PRIVATE_KEY: the benchmark makes a throwaway key)
// and the webhook secret; webhooks on POST /webhook, answered by Probot (200).
// Run: GITHUB_WEBHOOK_SECRET=... APP_ID=1 PRIVATE_KEY="$(cat key.pem)" node probot-middleware.mjs --port 8004
import { createServer } from "node:http";
import { Probot, createNodeMiddleware } from "probot";
import app from "./app.mjs";
import { HOST, healthz, port, secret } from "./common.mjs";

const probot = new Probot({
  appId: process.env.APP_ID,
  privateKey: process.env.PRIVATE_KEY,
  secret: secret(),
  // A Probot made in code logs at warn unless told otherwise: no line per request.
  logLevel: process.env.LOG_LEVEL ?? "warn",
});
const middleware = await createNodeMiddleware(app, { probot, webhooksPath: "/webhook" });

const server = createServer((req, res) => {
  if (healthz(req, res)) return;
  middleware(req, res, () => res.writeHead(404).end());
});
server.listen(port(), HOST);
