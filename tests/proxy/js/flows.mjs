// The official JS SDK (@inferencesh/sdk, pinned in package.json) in proxy mode, as a browser
// app would use it, under node: every call goes to the proxy; no API key here.
//
//   INFERENCESH_JS_SDK=<node bundle> node flows.mjs PROXY_URL BASE_URL FLOW
//
// BASE_URL is the SDK's `baseUrl` ("default" leaves the SDK's own). Prints one JSON line:
// {"flow", "ok": true, "result"} or {"flow", "ok": false, "error"}.
import { createHash } from "node:crypto";
import { pathToFileURL } from "node:url";

const [proxyUrl, baseUrl, flowName] = process.argv.slice(2);
const sdk = await import(pathToFileURL(process.env.INFERENCESH_JS_SDK).href);
const { inference, InferenceError, isTerminalStatus, tool, string } = sdk;

const client = inference({ proxyUrl, ...(baseUrl === "default" ? {} : { baseUrl }) });
const SLOW = { app: "infsh/slow", input: { steps: 3, interval: 0.05 } };
const LLM = { app: "infsh/llm-echo", input: { text: "Hello there, world!" } };
const PNG_B64 =
  "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==";
const PNG_BYTES = Uint8Array.from(atob(PNG_B64), (c) => c.charCodeAt(0));

const sha256 = (bytes) => createHash("sha256").update(bytes).digest("hex");

function describeError(err) {
  return {
    name: err?.name,
    message: String(err?.message ?? err),
    statusCode: err?.statusCode,
    responseBody: err?.responseBody,
    isInferenceError: err instanceof InferenceError,
  };
}

async function rejection(promise) {
  try {
    return { rejected: false, value: await promise };
  } catch (err) {
    return { rejected: true, error: describeError(err) };
  }
}

const FLOWS = {
  /** `run` streams the task's updates (NDJSON through the proxy) until it completes. */
  async "run-stream"() {
    const updates = [];
    const task = await client.run(SLOW, {
      onUpdate: (u) => updates.push({ status: u.status, progress: u.progress }),
    });
    return { status: task.status, output: task.output, updates };
  },

  /** An LLM app's token deltas arrive through the proxy. */
  async deltas() {
    const deltas = [];
    const task = await client.run(LLM, { onDelta: (delta) => deltas.push(delta) });
    return { status: task.status, output: task.output, deltas: deltas.length };
  },

  /** A file upload: the proxy creates it (POST /files); the bytes go to upload_url directly. */
  async upload() {
    const file = await client.files.upload(new Blob([PNG_BYTES], { type: "image/png" }), {
      filename: "dot.png",
    });
    const task = await client.run({ app: "infsh/file-info", input: { file: file.uri } });
    return { file: { id: file.id, size: file.size, filename: file.filename }, output: task.output, expected: sha256(PNG_BYTES) };
  },

  /** GET, POST and DELETE through the proxy: list, get, cancel, delete. */
  async manage() {
    const done = await client.run({ app: "infsh/slow", input: { steps: 1, interval: 0 } });
    const { data: page } = await client.tasks.list({ limit: 5 });
    const { data: got } = await client.tasks.get(done.id);
    const long = await client.run({ app: "infsh/slow", input: { steps: 600, interval: 0.1 } }, { wait: false });
    await client.tasks.cancel(long.id);
    const deleted = await client.tasks.delete(done.id);
    const afterDelete = await rejection(client.tasks.get(done.id));
    return { listed: page.items.map((t) => t.id).includes(done.id), got: got.id === done.id, deleted, afterDelete };
  },

  /** The deprecated EventSource stream: the target rides in the `__inf_target` query. */
  async "legacy-sse"() {
    const created = await client.run(SLOW, { wait: false });
    const source = await client.tasks.stream(created.id);
    const statuses = [];
    await new Promise((resolve, reject) => {
      source.onmessage = (message) => {
        const task = JSON.parse(message.data);
        statuses.push(task.status);
        if (isTerminalStatus(task.status)) {
          source.close();
          resolve();
        }
      };
      source.onerror = (event) => {
        source.close();
        reject(new Error(`EventSource error: ${event.message ?? event.type}`));
      };
    });
    return { statuses };
  },

  /** An agent message with a client tool: the chat streams through the proxy, the tool runs
   * here, its result goes back through the proxy, and the agent answers from it. */
  async "agent-client-tool"() {
    const weather = tool("get_weather").describe("Get current weather").param("city", string("City name")).build();
    const agent = client.agent({
      core_app: { ref: "infsh/claude-sonnet-4@abc123" },
      system_prompt: "You are a helpful assistant.",
      tools: [weather],
    });
    const calls = [];
    try {
      await agent.sendMessage("What is the weather in Paris?", {
        onToolCall: async (call) => {
          calls.push({ name: call.name, args: call.args });
          await agent.submitToolResult(call.id, JSON.stringify({ temp: 72, conditions: "sunny" }));
        },
      });
      const chat = await agent.getChat();
      const messages = chat.chat_messages ?? [];
      const text = (m) => (m.content ?? []).filter((c) => c.type === "text").map((c) => c.text ?? "").join("");
      return { calls, status: chat.status, roles: messages.map((m) => m.role), reply: text(messages.at(-1) ?? {}) };
    } finally {
      agent.disconnect();
    }
  },

  /** A base URL the proxy does not serve: the SDK reports the proxy's 412. */
  async refused() {
    return rejection(client.run(SLOW));
  },
};

let report;
try {
  report = { flow: flowName, ok: true, result: await FLOWS[flowName]() };
} catch (err) {
  report = { flow: flowName, ok: false, error: describeError(err), stack: err?.stack };
}
// Exit once the line is out: a closed stream or a poll timer may still hold the loop.
process.stdout.write(JSON.stringify(report) + "\n", () => process.exit(report.ok ? 0 : 1));
