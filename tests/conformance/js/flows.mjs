// Task flows of the official JS SDK (@inferencesh/sdk, pinned in package.json), used as its
// README shows, against any inference.sh API (here: the local emulator).
//
//   INFERENCESH_JS_SDK=<esbuild bundle of the SDK> node flows.mjs BASE_URL API_KEY FLOW
//
// Prints one JSON line: {"flow", "ok": true, "result"} or {"flow", "ok": false, "error"}.
// A flow returns what the test asserts on; an error it expects (a 412, a cancelled task) is
// caught by the flow and described in its result. To add a flow, add an entry to FLOWS.
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
