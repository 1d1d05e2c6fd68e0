// Agent flows of the official JS SDK (@inferencesh/sdk, pinned in package.json), used as its
// README shows, against the local emulator.
//
//   INFERENCESH_JS_SDK=<esbuild bundle of the SDK> node agent_flows.mjs BASE_URL API_KEY FLOW
//
// Prints one JSON line: {"flow", "ok": true, "result"} or {"flow", "ok": false, "error"}. The
// agents use the emulator's models: the offline rule-based model for any LLM ref (so the
// README's weather example runs as written) and `local/scripted` where a flow needs an exact
// sequence of tool calls.
import { pathToFileURL } from "node:url";

const [baseUrl, apiKey, flowName] = process.argv.slice(2);
if (!process.env.INFERENCESH_JS_SDK || !flowName) {
  console.error("usage: INFERENCESH_JS_SDK=sdk.mjs node agent_flows.mjs BASE_URL API_KEY FLOW");
  process.exit(2);
}
const sdk = await import(pathToFileURL(process.env.INFERENCESH_JS_SDK).href);
const { inference, tool, appTool, string, internalTools, pendingApprovals } = sdk;

const client = inference({ apiKey, baseUrl });
const LLM = { ref: "infsh/claude-sonnet-4@abc123" };
const WEATHER = JSON.stringify({ temp: 72, conditions: "sunny" });
const SENTIMENT = {
  type: "object",
  properties: {
    summary: { type: "string" },
    sentiment: { type: "string", enum: ["positive", "negative", "neutral"] },
    confidence: { type: "number" },
  },
  required: ["summary", "sentiment", "confidence"],
};

const weatherTool = () =>
  tool("get_weather").describe("Get current weather").param("city", string("City name")).build();

const texts = (message) =>
  (message.content ?? []).filter((c) => c.type === "text").map((c) => c.text ?? "").join("");

/** The parts of a chat the tests look at. */
function briefChat(chat) {
  const messages = chat?.chat_messages ?? [];
  return {
    id: chat?.id,
    status: chat?.status,
    runState: chat?.active_run?.state,
    output: chat?.output ?? null,
    roles: messages.map((m) => m.role),
    statuses: messages.map((m) => m.status),
    texts: messages.map(texts),
    invocations: messages.flatMap((m) =>
      (m.tool_invocations ?? []).map((i) => ({
        name: i.function.name,
        args: i.function.arguments,
        status: i.status,
        result: i.result ?? null,
      })),
    ),
  };
}

/** The README's client tool round trip, for a client streaming or polling. */
async function clientTool(agentClient) {
  const agent = agentClient.agent({
    core_app: LLM,
    system_prompt: "You are a helpful assistant.",
    tools: [weatherTool()],
  });
  const calls = [];
  const seen = [];
  const first = await agent.sendMessage("What is the weather in Paris?", {
    onMessage: (msg) => seen.push(msg.role),
    onToolCall: async (call) => {
      calls.push({ id: call.id, name: call.name, args: call.args });
      await agent.submitToolResult(call.id, WEATHER);
    },
  });
  const afterFirst = await agent.getChat();
  // A follow-up in the same chat: the SDK opens the stream before posting this time.
  await agent.sendMessage("Thanks!", { onMessage: (msg) => seen.push(msg.role) });
  const afterSecond = await agent.getChat();
  agent.disconnect();
  return {
    chatId: agent.currentChatId,
    firstAssistant: { id: first.assistantMessage.id, status: first.assistantMessage.status },
    calls,
    seenRoles: [...new Set(seen)].sort(),
    first: briefChat(afterFirst),
    second: briefChat(afterSecond),
  };
}

const FLOWS = {
  "agent-client-tool": () => clientTool(client),
  "agent-polling": () => clientTool(inference({ apiKey, baseUrl, stream: false, pollIntervalMs: 50 })),

  /** Approvals through interrupts: one allowed, one denied (`resolveInterrupt`). */
  async "agent-approval"() {
    const echo = appTool("echo", "infsh/echo")
      .describe("Echo the input")
      .param("text", string("Text"))
      .requireApproval()
      .build();
    const script = [
      { tool_calls: [{ name: "echo", arguments: { text: "approved call" } }] },
      { tool_calls: [{ name: "echo", arguments: { text: "denied call" } }] },
      { text: "All done." },
    ];
    const agent = client.agent({ core_app: { ref: "local/scripted", input: { script } }, tools: [echo] });
    const handled = new Set();
    const decisions = [];
    const resolutions = [];
    let parked = null;
    await agent.sendMessage("Echo twice", {
      onChat: (chat) => {
        for (const approval of pendingApprovals(chat)) {
          if (handled.has(approval.interruptId)) continue;
          handled.add(approval.interruptId);
          parked ??= { status: chat.status, runState: chat.active_run?.state };
          const decision = handled.size === 1 ? "allow" : "deny";
          decisions.push({ tool: approval.toolName, args: approval.arguments, decision });
          resolutions.push(
            client.agents.resolveInterrupt(approval.interruptId, decision).then(({ data }) => ({
              status: data.status,
              resolution: data.resolution,
            })),
          );
        }
      },
    });
    const chat = await agent.getChat();
    agent.disconnect();
    return { decisions, resolved: await Promise.all(resolutions), parked, chat: briefChat(chat) };
  },

  /** `run()` with an output schema and the finish tool (polling, as the SDK always does). */
  async "agent-run-structured"() {
    const agent = client.agent({
      core_app: LLM,
      output_schema: SENTIMENT,
      internal_tools: internalTools().finish().build(),
    });
    const output = await agent.run("Analyze: Great product!", { pollIntervalMs: 50 });
    return { output, chat: briefChat(await agent.getChat()) };
  },

  /** A template registered on the emulator, by `namespace/name@version`. */
  async "agent-template"() {
    const agent = client.agent("conformance/weather@latest");
    await agent.sendMessage("What is the weather in Paris?", {
      onToolCall: (call) => agent.submitToolResult(call.id, WEATHER),
    });
    const chat = await agent.getChat();
    agent.disconnect();
    return { chat: briefChat(chat) };
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
    report = { flow: flowName, ok: false, error: { name: err?.name, message: String(err?.message ?? err), stack: err?.stack } };
  }
}
// Exit once the line is out: a cancelled stream or a poll timer may still hold the loop.
process.stdout.write(JSON.stringify(report) + "\n", () => process.exit(report.ok ? 0 : 1));
