// The HTTP service: a small JSON API, /healthz, request logging and safe headers.
import { createServer, IncomingMessage, Server, ServerResponse } from "node:http";
import { Logger } from "./log";

export interface AppOptions {
  name: string;
  version: string;
  log: Logger;
  now?: () => number;
}

const NAME_RE = /^[\p{L}][\p{L} .'-]{0,63}$/u;

function send(res: ServerResponse, status: number, body: unknown, extra: Record<string, string> = {}): void {
  const payload = JSON.stringify(body);
  res.writeHead(status, {
    "content-type": "application/json; charset=utf-8",
    "content-length": Buffer.byteLength(payload).toString(),
    "cache-control": "no-store",
    "x-content-type-options": "nosniff",
    ...extra,
  });
  res.end(payload);
}

export function handler(opts: AppOptions): (req: IncomingMessage, res: ServerResponse) => void {
  const now = opts.now ?? Date.now;
  const started = now();
  return (req, res) => {
    const t0 = process.hrtime.bigint();
    const url = new URL(req.url ?? "/", "http://localhost");
    res.on("finish", () => {
      if (url.pathname === "/healthz") return; // keep probe noise out of the logs
      opts.log("info", "request", {
        method: req.method,
        path: url.pathname,
        status: res.statusCode,
        duration_ms: Number(process.hrtime.bigint() - t0) / 1e6,
      });
    });

    const allow = (methods: string[]): boolean => {
      if (methods.includes(req.method ?? "")) return true;
      send(res, 405, { error: "method not allowed" }, { allow: methods.join(", ") });
      return false;
    };

    switch (url.pathname) {
      case "/healthz":
        if (allow(["GET", "HEAD"])) send(res, 200, { status: "ok" });
        return;
      case "/api/v1/info":
        if (allow(["GET"])) {
          send(res, 200, {
            name: opts.name,
            version: opts.version,
            uptime_seconds: Math.floor((now() - started) / 1000),
          });
        }
        return;
      case "/api/v1/greeting": {
        if (!allow(["GET"])) return;
        const who = url.searchParams.get("name") ?? "world";
        if (!NAME_RE.test(who)) {
          send(res, 400, { error: "name must be 1-64 letters, spaces, dots, apostrophes or hyphens" });
          return;
        }
        send(res, 200, { message: `Hello, ${who}!` });
        return;
      }
      default:
        send(res, 404, { error: "not found" });
    }
  };
}

export function createApp(opts: AppOptions): Server {
  const server = createServer(handler(opts));
  // Longer than the load balancer's idle timeout (60 s), so the ALB closes first.
  server.keepAliveTimeout = 65_000;
  server.headersTimeout = 66_000;
  server.requestTimeout = 30_000;
  return server;
}
