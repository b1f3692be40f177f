"use strict";
// Unit tests for the HTTP handler: run against the compiled build in dist/.
const { test, before, after } = require("node:test");
const assert = require("node:assert/strict");
const { createApp } = require("../dist/server");
const { createLogger } = require("../dist/log");

const lines = [];
let server;
let base;

before(async () => {
  let t = 1_000_000;
  server = createApp({
    name: "test-app",
    version: "9.9.9",
    log: createLogger((line) => lines.push(line)),
    now: () => (t += 1500),
  });
  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
  base = `http://127.0.0.1:${server.address().port}`;
});

after(() => new Promise((resolve) => {
  server.close(resolve);
  server.closeIdleConnections(); // fetch keeps connections alive; Node 18's close() waits for them
}));

test("/healthz answers 200 ok as JSON with safe headers", async () => {
  const res = await fetch(`${base}/healthz`);
  assert.equal(res.status, 200);
  assert.equal(res.headers.get("content-type"), "application/json; charset=utf-8");
  assert.equal(res.headers.get("x-content-type-options"), "nosniff");
  assert.equal(res.headers.get("cache-control"), "no-store");
  assert.deepEqual(await res.json(), { status: "ok" });
});

test("/api/v1/info reports name, version and uptime", async () => {
  const body = await (await fetch(`${base}/api/v1/info`)).json();
  assert.equal(body.name, "test-app");
  assert.equal(body.version, "9.9.9");
  assert.ok(Number.isInteger(body.uptime_seconds) && body.uptime_seconds >= 1);
});

test("/api/v1/greeting greets by name and validates input", async () => {
  assert.deepEqual(await (await fetch(`${base}/api/v1/greeting`)).json(), { message: "Hello, world!" });
  assert.deepEqual(await (await fetch(`${base}/api/v1/greeting?name=Zoë`)).json(), { message: "Hello, Zoë!" });
  const bad = await fetch(`${base}/api/v1/greeting?name=%3Cscript%3E`);
  assert.equal(bad.status, 400);
  assert.match((await bad.json()).error, /name must be/);
});

test("unknown paths are 404 and wrong methods 405 with Allow", async () => {
  const missing = await fetch(`${base}/nope`);
  assert.equal(missing.status, 404);
  assert.deepEqual(await missing.json(), { error: "not found" });
  const post = await fetch(`${base}/api/v1/info`, { method: "POST" });
  assert.equal(post.status, 405);
  assert.equal(post.headers.get("allow"), "GET");
  await post.arrayBuffer();
});

test("requests are logged as one JSON object per line, probes are not", async () => {
  lines.length = 0;
  await (await fetch(`${base}/healthz`)).arrayBuffer();
  await (await fetch(`${base}/api/v1/greeting?name=Ann`)).arrayBuffer();
  await new Promise((r) => setImmediate(r));
  const records = lines.map((l) => JSON.parse(l));
  assert.equal(records.length, 1, lines.join(""));
  const [rec] = records;
  assert.equal(rec.level, "info");
  assert.equal(rec.msg, "request");
  assert.equal(rec.path, "/api/v1/greeting");
  assert.equal(rec.status, 200);
  assert.equal(typeof rec.duration_ms, "number");
  assert.ok(!Number.isNaN(Date.parse(rec.time)));
});
