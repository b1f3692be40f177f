// The bookshop's web app: plain Node.js, no dependencies. One image serves both services; each
// task says which service it is (SERVICE_NAME). Behind the sidecar it listens on 127.0.0.1 only.
"use strict";
const http = require("node:http");

const service = process.env.SERVICE_NAME || "bookshop";
const host = process.env.HOST || "127.0.0.1";
const port = Number(process.env.PORT || 7000);

const server = http.createServer((req, res) => {
  const path = new URL(req.url, "http://localhost").pathname;
  if (path === "/ready") {
    res.writeHead(200, { "Content-Type": "text/plain" }).end("ready\n");
    return;
  }
  res.writeHead(200, { "Content-Type": "application/json" })
    .end(JSON.stringify({ service, path, user: req.headers["x-amzn-oidc-identity"] || null }) + "\n");
});
server.keepAliveTimeout = 75_000; // longer than the sidecar's upstream keepalive
server.listen(port, host, () => console.log(JSON.stringify({ msg: "listening", service, host, port })));
process.on("SIGTERM", () => server.close(() => process.exit(0)));
