// The official JS SDK's proxy as the floor of bench_proxy.py: its `processProxyRequest`
// (`@inferencesh/sdk/proxy`), served by node's own http server through an adapter that does
// what the SDK's Express adapter does (streams passed on chunk by chunk, JSON parsed and
// re-sent, anything else as text), without Express itself: the algorithm's cost, no
// framework's.
//
// node bench/_proxy_js.mjs <sdk package dir> <allowed host:port,...>  (key: BENCH_PROXY_KEY)
// Prints `READY <url>` once it listens.

import http from "node:http";
import path from "node:path";
import { pathToFileURL } from "node:url";

const [sdkDir, allowed] = process.argv.slice(2);
const { processProxyRequest } = await import(
  pathToFileURL(path.join(sdkDir, "dist", "proxy", "index.js")).href
);

const escape = (text) => text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
const options = {
  apiKey: process.env.BENCH_PROXY_KEY,
  allowedDomains: allowed.split(",").map((host) => new RegExp(`^${escape(host)}$`)),
};

function readBody(req) {
  return new Promise((resolve, reject) => {
    const chunks = [];
    req.on("data", (chunk) => chunks.push(chunk));
    req.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
    req.on("error", reject);
  });
}

const server = http.createServer((req, res) => {
  const url = new URL(req.url, "http://localhost");
  processProxyRequest(
    {
      framework: "node-http",
      method: req.method,
      body: () => readBody(req),
      headers: () => req.headers,
      header: (name) => req.headers[name],
      query: (name) => url.searchParams.get(name) ?? undefined,
      setHeader: (name, value) => res.setHeader(name, value),
      error: (status, data) => {
        res.writeHead(status, { "content-type": "application/json" });
        res.end(JSON.stringify(data));
      },
      respond: async (response) => {
        res.statusCode = response.status;
        const type = response.headers.get("content-type") ?? "";
        if (
          type.includes("text/event-stream") ||
          type.includes("application/x-ndjson") ||
          type.includes("application/octet-stream")
        ) {
          if (response.body) {
            const reader = response.body.getReader();
            while (true) {
              const { done, value } = await reader.read();
              if (done) break;
              res.write(value);
            }
          }
          res.end();
          return;
        }
        if (type.includes("application/json")) {
          res.end(JSON.stringify(await response.json()));
          return;
        }
        res.end(await response.text());
      },
    },
    options,
  ).catch((err) => {
    if (!res.headersSent) res.writeHead(502, { "content-type": "application/json" });
    res.end(JSON.stringify({ error: String(err) }));
  });
});
server.keepAliveTimeout = 60_000;
server.listen(0, "127.0.0.1", 2048, () => {
  console.log(`READY http://127.0.0.1:${server.address().port}`);
});
