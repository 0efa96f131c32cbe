// @octokit/webhooks on node:http: POST /webhook reads the body, verifies its
// X-Hub-Signature-256, parses it and dispatches it (webhooks.verifyAndReceive), then
// answers 202; one handler, for issues.opened. A bad signature is the library's 400.
// Run: GITHUB_WEBHOOK_SECRET=... node octokit.mjs --port 8003
import { createServer } from "node:http";
import { Webhooks } from "@octokit/webhooks";
import { HOST, healthz, port, secret } from "./common.mjs";

const webhooks = new Webhooks({ secret: secret() });
let opened = 0;
webhooks.on("issues.opened", async ({ payload }) => {
  // What a bot's handler reads first; nothing is sent to GitHub.
  opened += 1;
  void payload.issue.number, payload.repository.full_name;
});

const server = createServer(async (req, res) => {
  if (healthz(req, res)) return;
  if (req.method !== "POST" || req.url !== "/webhook") {
    res.writeHead(404).end();
    return;
  }
  const chunks = [];
  for await (const chunk of req) chunks.push(chunk);
  const name = req.headers["x-github-event"];
  const id = req.headers["x-github-delivery"];
  const signature = req.headers["x-hub-signature-256"];
  if (!name || !id || !signature) {
    res.writeHead(400, { "content-type": "application/json" }).end('{"error":"headers missing"}');
    return;
  }
  try {
    await webhooks.verifyAndReceive({
      id,
      name,
      signature,
      payload: Buffer.concat(chunks).toString("utf8"),
    });
  } catch (error) {
    const status = error.status ?? error.errors?.[0]?.status ?? 500;
    res.writeHead(status, { "content-type": "application/json" });
    res.end(JSON.stringify({ error: error.message }));
    return;
  }
  res.writeHead(202, { "content-type": "application/json" }).end('{"status":"queued"}');
});
server.listen(port(), HOST);
