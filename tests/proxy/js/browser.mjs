// Headless Chromium (the system's, driven by playwright-core) uses a page served by an example:
// the official JS SDK in proxy mode streams a task, uploads a file picked in an
// <input type=file>, and sends an agent a message whose client tool runs in the page, as a
// person would.
//
//   PLAYWRIGHT_CORE=<playwright-core/index.mjs> node browser.mjs PAGE_URL PNG_PATH CHROMIUM GATE
//
// Prints {"event": "streamed-before-end", ...} once the page shows the task's last progress
// update (the task then waits on GATE until the test opens it), then one JSON line
// {"ok": true, "result": {...}} or {"ok": false, "error": ...}.
import { pathToFileURL } from "node:url";

const [pageUrl, pngPath, executablePath, gate] = process.argv.slice(2);
const { chromium } = await import(pathToFileURL(process.env.PLAYWRIGHT_CORE).href);
const STEPS = 5;
const WAIT = { timeout: 20_000 };

const browser = await chromium.launch({
  executablePath,
  headless: true,
  // No background traffic: this machine's network is closed, and a test needs none.
  args: [
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
  ],
});
try {
  const page = await browser.newPage();
  const requests = [];
  const bodies = [];
  const consoleErrors = [];
  page.on("console", (message) => {
    if (message.type() === "error") consoleErrors.push(`${message.text()} ${message.location().url}`);
  });
  page.on("request", (request) =>
    requests.push({ url: request.url(), method: request.method(), headers: request.headers() }),
  );
  page.on("response", async (response) => {
    if ((response.headers()["content-type"] ?? "").includes("json")) {
      bodies.push(await response.text().catch(() => ""));
    }
  });

  await page.goto(pageUrl);
  await page.waitForFunction(() => window.demo?.ready, null, WAIT);

  // A task whose updates must show up while it still runs.
  await page.fill("#app", "proxy-test/steps");
  await page.fill("#input", JSON.stringify({ gate, steps: STEPS }));
  await page.click("#run");
  await page.waitForFunction(
    (last) => window.demo.updates.some((u) => u.progress_message === last) || window.demo.errors.length,
    `step ${STEPS}`,
    WAIT,
  );
  const early = await page.evaluate(() => ({ updates: window.demo.updates, output: window.demo.output }));
  console.log(JSON.stringify({ event: "streamed-before-end", ...early }));
  await page.waitForFunction(() => window.demo.output !== null || window.demo.errors.length, null, WAIT);
  const listed = await page.locator("#updates li").allTextContents();

  // A file chosen in the page's <input type=file>, uploaded by the SDK, read by an app.
  await page.setInputFiles("#file", pngPath);
  await page.click("#upload");
  await page.waitForFunction(() => window.demo.upload !== null || window.demo.errors.length, null, WAIT);

  // An agent message whose client tool runs in the page.
  await page.click("#ask");
  await page.waitForFunction(() => window.demo.agent !== null || window.demo.errors.length, null, WAIT);
  const reply = await page.locator("#agent-reply").textContent();

  const demo = await page.evaluate(() => window.demo);
  const shown = await page.locator("#upload-output").textContent();
  console.log(JSON.stringify({ ok: true, result: { demo, listed, shown, reply, requests, bodies, consoleErrors } }));
} catch (err) {
  console.log(JSON.stringify({ ok: false, error: String(err?.stack ?? err) }));
  process.exitCode = 1;
} finally {
  await browser.close();
}
