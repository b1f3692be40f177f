// Entry point: PORT/HOST from the environment, JSON logs, graceful shutdown on SIGTERM.
import { AddressInfo } from "node:net";
import { createLogger } from "./log";
import { createApp } from "./server";

const log = createLogger();

function port(): number {
  const raw = process.env.PORT ?? "8080";
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 0 || value > 65535) {
    log("error", "invalid PORT", { port: raw });
    process.exit(2);
  }
  return value;
}

const server = createApp({
  name: process.env.APP_NAME ?? "rampart-app",
  version: process.env.APP_VERSION ?? "0.0.0",
  log,
});
const graceMs = Number(process.env.SHUTDOWN_GRACE_MS ?? "8000");

server.listen(port(), process.env.HOST ?? "0.0.0.0", () => {
  const addr = server.address() as AddressInfo;
  log("info", "listening", { host: addr.address, port: addr.port, pid: process.pid });
});

let stopping = false;
function shutdown(signal: string): void {
  if (stopping) return;
  stopping = true;
  log("info", "shutting down", { signal });
  const timer = setTimeout(() => {
    log("warn", "grace period over, closing remaining connections", { grace_ms: graceMs });
    server.closeAllConnections();
  }, graceMs);
  timer.unref();
  server.close((err) => {
    log(err ? "error" : "info", "stopped", err ? { error: err.message } : {});
    process.exitCode = err ? 1 : 0;
  });
  server.closeIdleConnections();
}

process.on("SIGTERM", () => shutdown("SIGTERM"));
process.on("SIGINT", () => shutdown("SIGINT"));
