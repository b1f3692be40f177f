// Container HEALTHCHECK without curl or a shell: GET /healthz on the local port.
import { request } from "node:http";

const req = request(
  { host: "127.0.0.1", port: Number(process.env.PORT ?? "8080"), path: "/healthz", timeout: 2000 },
  (res) => {
    res.resume();
    process.exit(res.statusCode === 200 ? 0 : 1);
  },
);
req.on("timeout", () => req.destroy(new Error("timeout")));
req.on("error", () => process.exit(1));
req.end();
