// The image's HEALTHCHECK: exit 0 when the app answers 200 on /ready (runs inside the container).
"use strict";
const http = require("node:http");

const port = Number(process.env.PORT || 7000);
const req = http.get({ host: "127.0.0.1", port, path: "/ready", timeout: 2000 }, (res) => {
  res.resume();
  process.exit(res.statusCode === 200 ? 0 : 1);
});
req.on("timeout", () => req.destroy(new Error("timed out")));
req.on("error", (err) => {
  console.error(`healthcheck: 127.0.0.1:${port}/ready: ${err.message}`);
  process.exit(1);
});
