// Task flows of the official JS SDK (@inferencesh/sdk, pinned in package.json), used as its
// README shows, against any inference.sh API (here: the local emulator).
//
//   INFERENCESH_JS_SDK=<esbuild bundle of the SDK> node flows.mjs BASE_URL API_KEY FLOW
//
// Prints one JSON line: {"flow", "ok": true, "result"} or {"flow", "ok": false, "error"}.
// A flow returns what the test asserts on; an error it expects (a 412, a cancelled task) is
// caught by the flow and described in its result. To add a flow, add an entry to FLOWS.
import { createHash } from "node:crypto";
import { pathToFileURL } from "node:url";

const [baseUrl, apiKey, flowName] = process.argv.slice(2);
if (!process.env.INFERENCESH_JS_SDK || !flowName) {
  console.error("usage: INFERENCESH_JS_SDK=sdk.mjs node flows.mjs BASE_URL API_KEY FLOW");
  process.exit(2);
}
const sdk = await import(pathToFileURL(process.env.INFERENCESH_JS_SDK).href);
const {
  inference,
  InferenceError,
  RequirementsNotMetException,
  isRequirementsNotMetException,
  parseStatus,
  isTerminalStatus,
  TaskStatusRunning,
} = sdk;

const TEMPLATE = {
  app: "infsh/text-templating",
  input: { template: "Hello {1}!", strings: ["World"] },
};
const SLOW = { app: "infsh/slow", input: { steps: 3, interval: 0.1 } };
// Long enough never to finish by itself within a test; cancelling ends it.
const LONG = { app: "infsh/slow", input: { steps: 600, interval: 0.1 } };
const LLM = { app: "infsh/llm-echo", input: { text: "Hello there, world!" } };
// The version the official SDKs' own integration tests pin (the emulator reports it too).
const PINNED = "53bk0yzk";
const DEADLINE_MS = 30_000;
const POLL_MS = 25;
const SESSION_APP = "infsh/session-test";
// A 1x1 PNG, as raw base64 (>= 64 characters: the SDK auto-uploads such strings).
const PNG_B64 =
  "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==";
const PNG_BYTES = Uint8Array.from(atob(PNG_B64), (c) => c.charCodeAt(0));

const client = inference({ apiKey, baseUrl });

/** A thrown value as JSON: its class and the fields the SDK gives it. */
function describeError(err) {
  if (!(err instanceof Error)) return { name: typeof err, message: String(err) };
  return {
    name: err.name,
    constructor: err.constructor?.name,
    message: err.message,
    statusCode: err.statusCode,
    errors: err.errors,
    responseBody: err.responseBody,
    isInferenceError: err instanceof InferenceError,
    isRequirementsNotMetException: err instanceof RequirementsNotMetException,
    guardRequirementsNotMet: isRequirementsNotMetException(err),
  };
}

/** The part of a task update the tests look at. */
function brief(task) {
  return {
    id: task.id,
    status: task.status,
    output: task.output,
    error: task.error,
    keys: Object.keys(task).sort(),
  };
}

/** Fetch the task until it is terminal, as an app polling `tasks.get` would. */
async function pollUntilTerminal(id, seen) {
  const until = Date.now() + DEADLINE_MS;
  for (;;) {
    const { data: task } = await client.tasks.get(id);
    if (seen.at(-1) !== task.status) seen.push(task.status);
    if (isTerminalStatus(task.status)) return task;
    if (Date.now() > until) throw new Error(`task ${id} not terminal: ${task.status}`);
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
}

/** The parts of a FileDTO the tests look at. */
function fileBrief(file) {
  return {
    id: file.id,
    uri: file.uri,
    filename: file.filename,
    content_type: file.content_type,
    size: file.size,
    hasUploadUrl: Boolean(file.upload_url),
    keys: Object.keys(file).sort(),
  };
}

/** Fetch a file's uri as any caller would (no key: it is a presigned-style URL). */
async function fetchBytes(uri) {
  const response = await fetch(uri);
  const bytes = new Uint8Array(await response.arrayBuffer());
  return {
    status: response.status,
    contentType: response.headers.get("content-type"),
    size: bytes.length,
    sha256: sha256(bytes),
    head: Array.from(bytes.slice(0, 8)),
    png: bytes.length > 24 ? { width: readUint32(bytes, 16), height: readUint32(bytes, 20) } : null,
  };
}

function sha256(bytes) {
  return createHash("sha256").update(bytes).digest("hex");
}

function readUint32(bytes, at) {
  return new DataView(bytes.buffer, bytes.byteOffset + at, 4).getUint32(0);
}

/** Await a promise expected to reject, and describe the rejection. */
async function rejection(promise) {
  try {
    const value = await promise;
    return { rejected: false, value };
  } catch (err) {
    return { rejected: true, error: describeError(err) };
  }
}

const FLOWS = {
  /** `client.run` waits (streaming by default) and resolves with the completed task. */
  async "run-and-wait"() {
    // `namespace/name@version`, the pinned form the SDK's docs ask for.
    const task = await client.run({ ...TEMPLATE, app: `${TEMPLATE.app}@${PINNED}` });
    return { task: brief(task), parsedStatus: parseStatus(task.status) };
  },

  /** `wait: false` returns the created task at once; then poll `tasks.get` until done. */
  async "wait-false"() {
    const created = await client.run(TEMPLATE, { wait: false });
    const seen = [];
    const task = await pollUntilTerminal(created.id, seen);
    return { created: brief(created), task: brief(task), seen };
  },

  /** Default stream mode: `onUpdate` for each update, `onPartialUpdate` for partial ones. */
  async "stream-updates"() {
    const updates = [];
    const partial = [];
    const task = await client.run(SLOW, {
      onUpdate: (update) => updates.push(brief(update)),
      onPartialUpdate: (update, fields) => partial.push({ ...brief(update), fields }),
    });
    return { task: brief(task), updates, partial };
  },

  /** `stream: false`: poll `/tasks/{id}/status`, fetch the task when its status changes. */
  async "polling"() {
    const updates = [];
    const task = await client.run(SLOW, {
      stream: false,
      pollIntervalMs: POLL_MS,
      onUpdate: (update) => updates.push(brief(update)),
    });
    return { task: brief(task), updates };
  },

  /** Start a long task with `wait: false`, cancel it, observe it cancelled. */
  async "cancel"() {
    const created = await client.run(LONG, { wait: false });
    const cancelResult = await client.tasks.cancel(created.id);
    const seen = [];
    const task = await pollUntilTerminal(created.id, seen);
    // Following the cancelled task the SDK's way rejects with "task cancelled".
    const watched = await rejection(client.tasks.watch(created).done);
    return { created: brief(created), cancelResult, task: brief(task), seen, watched };
  },

  /** Cancel from `onUpdate` while `run` streams: the stream's terminal update rejects `run`. */
  async "cancel-while-streaming"() {
    const statuses = [];
    let cancelled = false;
    const outcome = await rejection(
      client.run(LONG, {
        onUpdate: (update) => {
          statuses.push(update.status);
          if (!cancelled && parseStatus(update.status) === TaskStatusRunning) {
            cancelled = true;
            client.cancel(update.id);
          }
        },
      }),
    );
    return { outcome, statuses, cancelled };
  },

  /** An LLM app: `onDelta` receives the token deltas, then `run` resolves with the output. */
  async "deltas"() {
    const deltas = [];
    const updates = [];
    const task = await client.run(LLM, {
      onDelta: (delta, seq) => deltas.push({ delta, seq }),
      onUpdate: (update) => updates.push(brief(update)),
    });
    return { task: brief(task), deltas, updates };
  },

  /** Task management around a finished task: list, logs, timings, delete. */
  async "manage"() {
    const task = await client.run({ app: "infsh/slow", input: { steps: 2, interval: 0 } });
    const { data: page } = await client.tasks.list({ limit: 5 });
    const { data: logs } = await client.tasks.getLogs(task.id);
    const { data: timings } = await client.tasks.getTimings(task.id);
    const deleted = await client.tasks.delete(task.id);
    const afterDelete = await rejection(client.tasks.get(task.id));
    return {
      id: task.id,
      listed: page.items.map((t) => t.id),
      pageKeys: Object.keys(page).sort(),
      logs: { task_id: logs.task_id, status: logs.status, contents: logs.logs.map((l) => l.content) },
      timings: { task_id: timings.task_id, status: timings.status, groups: timings.groups.length },
      deleted,
      afterDelete,
    };
  },

  /** The deprecated SSE stream (`tasks.stream(id)`, an EventSource on the same path). */
  async "legacy-sse"() {
    const created = await client.run(SLOW, { wait: false });
    const source = await client.tasks.stream(created.id);
    const statuses = [];
    await new Promise((resolve, reject) => {
      source.onmessage = (message) => {
        const payload = JSON.parse(message.data);
        const task = payload.fields ? payload.data : payload;
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
    return { id: created.id, statuses };
  },

  /** A missing secret: HTTP 412 becomes `RequirementsNotMetException` with `errors`. */
  async "requirements-412"() {
    return rejection(client.run({ app: "infsh/needs-secret", input: {} }));
  },

  /** A failing app: `run` rejects with the task's error. */
  async "failed-task"() {
    return rejection(client.run({ app: "infsh/fail", input: { message: "boom from the conformance suite" } }));
  },

  /** An unknown task: `InferenceError` with the HTTP status and the problem detail. */
  async "not-found"() {
    return rejection(client.tasks.get("no-such-task"));
  },

  /** `files.upload(dataUri)`: the two-step upload; the returned uri serves the bytes. */
  async "upload-data-uri"() {
    const text = "hello from the official JS SDK";
    const file = await client.files.upload(`data:text/plain;base64,${btoa(text)}`);
    const fetched = await fetchBytes(file.uri);
    return { file: fileBrief(file), fetched, expected: sha256(new TextEncoder().encode(text)) };
  },

  /** `files.upload(Blob | File | raw base64)`, then get, list, delete, and an app reads them. */
  async "upload-blob"() {
    const blob = await client.files.upload(new Blob([PNG_BYTES], { type: "image/png" }), {
      filename: "dot.png",
    });
    const named = globalThis.File
      ? await client.files.upload(new File([PNG_BYTES], "named.png", { type: "image/png" }))
      : null;
    const raw = await client.files.upload(PNG_B64, { contentType: "image/png" });
    const { data: got } = await client.files.get(blob.id);
    const { data: page } = await client.files.list({ limit: 100 });
    const task = await client.run({
      app: "infsh/file-info",
      input: { file: blob.uri, others: [raw.uri] },
    });
    const deleted = await client.files.delete(raw.id);
    const afterDelete = await rejection(client.files.get(raw.id));
    return {
      blob: fileBrief(blob),
      named: named && fileBrief(named),
      raw: fileBrief(raw),
      got: fileBrief(got),
      listed: page.items.map((f) => f.id),
      output: task.output,
      expected: sha256(PNG_BYTES),
      deleted,
      afterDelete,
    };
  },

  /** `run` uploads data URIs, Blobs and long base64 strings in the input by itself. */
  async "auto-upload"() {
    const text = "auto-uploaded by the JS SDK";
    const task = await client.run({
      app: "infsh/file-info",
      input: {
        file: `data:text/plain;base64,${btoa(text)}`,
        others: [new Blob([PNG_BYTES], { type: "image/png" }), PNG_B64],
      },
    });
    return {
      output: task.output,
      input: task.input,
      expected: { file: sha256(new TextEncoder().encode(text)), png: sha256(PNG_BYTES) },
    };
  },

  /** An app's output file (the draw-image PNG) is a uri the caller fetches directly. */
  async "output-file"() {
    const task = await client.run({ app: "infsh/draw-image", input: { width: 16, height: 8 } });
    return { image: task.output.image, width: task.output.width, fetched: await fetchBytes(task.output.image.uri) };
  },

  /** `session: "new"`, then the returned `session_id` again: one worker, state kept. */
  async "session"() {
    const run = (fn, input, session, extra = {}) =>
      client.run({ app: SESSION_APP, function: fn, input, session, ...extra });
    const first = await run("set_value", { key: "k", value: "v" }, "new", { session_timeout: 30 });
    const sid = first.session_id;
    const got = await run("get_value", { key: "k" }, sid);
    const inc1 = await run("increment", {}, sid);
    const inc2 = await run("increment", {}, sid);
    const other = await run("get_value", { key: "k" }, "new");
    const { data: info } = await client.sessions.get(sid);
    const { data: listed } = await client.sessions.list();
    const { data: kept } = await client.sessions.keepalive(sid);
    const ended = await client.sessions.end(sid);
    await client.sessions.end(other.session_id);
    const { data: after } = await client.sessions.get(sid);
    return {
      sid,
      firstOutput: first.output,
      sessionIds: [got.session_id, inc1.session_id, inc2.session_id],
      got: got.output,
      counts: [inc1.output, inc2.output],
      other: { sid: other.session_id, output: other.output },
      info,
      listed: listed.map((s) => s.id),
      kept: { status: kept.status, expires_at: kept.expires_at },
      ended,
      after: { status: after.status, ended_at: after.ended_at },
      afterEnd: await rejection(run("increment", {}, sid)),
      keepaliveAfterEnd: await rejection(client.sessions.keepalive(sid)),
    };
  },

  /** The session errors: unknown id, another app's session, `session_timeout` misuse. */
  async "session-errors"() {
    const opened = await client.run({ app: SESSION_APP, function: "increment", input: {}, session: "new" });
    const result = {
      unknown: await rejection(
        client.run({ app: SESSION_APP, function: "increment", input: {}, session: "sess_unknown" }),
      ),
      unknownGet: await rejection(client.sessions.get("sess_unknown")),
      otherApp: await rejection(
        client.run({ app: "infsh/echo", input: { x: 1 }, session: opened.session_id }),
      ),
      timeoutWithoutNew: await rejection(
        client.run({ app: SESSION_APP, function: "increment", input: {}, session_timeout: 30 }),
      ),
      timeoutOutOfRange: await rejection(
        client.run({ app: SESSION_APP, function: "increment", input: {}, session: "new", session_timeout: 0 }),
      ),
    };
    await client.sessions.end(opened.session_id);
    return result;
  },
};

const flow = FLOWS[flowName];
let report;
if (!flow) {
  report = { flow: flowName, ok: false, error: { name: "UnknownFlow", message: flowName } };
} else {
  try {
    report = { flow: flowName, ok: true, result: await flow() };
  } catch (err) {
    report = { flow: flowName, ok: false, error: { ...describeError(err), stack: err?.stack } };
  }
}
// Exit once the line is out: a cancelled stream or a poll timer may still hold the loop.
process.stdout.write(JSON.stringify(report) + "\n", () => process.exit(report.ok ? 0 : 1));
