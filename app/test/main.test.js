"use strict";
// The entry point as a process: PORT from env, JSON logs, graceful SIGTERM.
const { describe, test, after } = require("node:test");
const assert = require("node:assert/strict");
const { spawn } = require("node:child_process");
const path = require("node:path");
const net = require("node:net");

const MAIN = path.join(__dirname, "..", "dist", "main.js");

const children = new Set();
after(() => {
  for (const child of children) child.kill("SIGKILL"); // never leave a server behind a failed test
});

function start(env) {
  const child = spawn(process.execPath, [MAIN], {
    env: { ...process.env, HOST: "127.0.0.1", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  children.add(child);
  child.on("exit", () => children.delete(child));
  const records = [];
  let buf = "";
  const listening = new Promise((resolve, reject) => {
    child.stdout.on("data", (chunk) => {
      buf += chunk;
      let i;
      while ((i = buf.indexOf("\n")) >= 0) {
        const rec = JSON.parse(buf.slice(0, i));
        buf = buf.slice(i + 1);
        records.push(rec);
        if (rec.msg === "listening") resolve(rec.port);
      }
    });
    child.on("exit", (code) => reject(new Error(`exited early with ${code}`)));
  });
  listening.catch(() => {}); // awaited by tests that expect it; never an unhandled rejection
  const exited = new Promise((resolve) => child.on("exit", (code, signal) => resolve({ code, signal })));
  return { child, records, listening, exited };
}

// Each test runs its own server process on port 0, so they can run side by side.
describe("the entry point as a process", { concurrency: true }, () => {
  test("listens on PORT from the environment and exits 0 on SIGTERM", { timeout: 10_000 }, async () => {
    const app = start({ PORT: "0" });
    const port = await app.listening;
    assert.ok(port > 0);
    const res = await fetch(`http://127.0.0.1:${port}/healthz`);
    assert.equal(res.status, 200);
    await res.arrayBuffer();
    const t0 = Date.now();
    app.child.kill("SIGTERM");
    const { code, signal } = await app.exited;
    assert.equal(signal, null);
    assert.equal(code, 0);
    assert.ok(Date.now() - t0 < 2000, "shutdown took too long");
    const msgs = app.records.map((r) => r.msg);
    assert.deepEqual(msgs.slice(-2), ["shutting down", "stopped"]);
    assert.equal(app.records.at(-2).signal, "SIGTERM");
  });

  test("a request still arriving does not block shutdown past the grace period", { timeout: 10_000 }, async () => {
    const app = start({ PORT: "0", SHUTDOWN_GRACE_MS: "300" });
    const port = await app.listening;
    // A client that sends half a request and stalls: the connection is busy, not idle.
    const sock = net.connect(port, "127.0.0.1");
    sock.on("error", () => {});
    await new Promise((r) => sock.on("connect", r));
    sock.write("GET /api/v1/info HTTP/1.1\r\nHost: x\r\n");
    await new Promise((r) => setTimeout(r, 100));
    const t0 = Date.now();
    app.child.kill("SIGTERM");
    const { code } = await app.exited;
    const elapsed = Date.now() - t0;
    assert.equal(code, 0);
    assert.ok(elapsed >= 250 && elapsed < 3000, `elapsed ${elapsed} ms`);
    assert.ok(app.records.some((r) => r.msg === "grace period over, closing remaining connections"));
    sock.destroy();
  });

  test("an invalid PORT is a clear error", { timeout: 10_000 }, async () => {
    const app = start({ PORT: "http" });
    const { code } = await app.exited;
    assert.equal(code, 2);
    assert.equal(app.records[0].msg, "invalid PORT");
  });

  test("the healthcheck script exits 0 when healthy and 1 when nothing listens", { timeout: 10_000 }, async () => {
    const app = start({ PORT: "0" });
    const port = await app.listening;
    const run = (p) => new Promise((resolve) => {
      spawn(process.execPath, [path.join(__dirname, "..", "dist", "healthcheck.js")],
        { env: { ...process.env, PORT: String(p) }, stdio: "ignore" }).on("exit", resolve);
    });
    assert.equal(await run(port), 0);
    app.child.kill("SIGTERM");
    await app.exited;
    assert.equal(await run(port), 1);
  });
});
