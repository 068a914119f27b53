// admin_browser.mjs - the admin console in a real browser: playwright-core
// driving Debian's chromium, headless.
//
//   node admin_browser.mjs BASE USER PASSWORD OUTDIR [ORG_ID]
//
// BASE is the console's URL (http://127.0.0.1:PORT/aura-admin). Signs in
// with HTTP Basic auth, opens the overview, creates a key with the HTML
// form on /keys (in ORG_ID when the form asks for an org), reads the
// secret from #new-key-secret, checks the key is listed on /keys, opens
// the cost report /costs and looks for svg#cost-chart. Screenshots go to
// OUTDIR. Prints ONE JSON line with what it saw; the pytest file
// (tests/integration/test_admin_browser.py) makes the assertions.
// Exits 0 whenever it could print that line.

import { chromium } from "playwright-core";
import path from "node:path";

const [base, user, password, outdir, orgId] = process.argv.slice(2);
if (!base || !user || !password || !outdir) {
  console.error("usage: admin_browser.mjs BASE USER PASSWORD OUTDIR [ORG_ID]");
  process.exit(2);
}
const executablePath = process.env.CHROMIUM || "/usr/bin/chromium";
const keyName = "browser-key-" + Date.now().toString(36);
const seen = { key_name: keyName, console_errors: [], page_errors: [],
               http_errors: [], screenshots: [] };

// Chromium's sandbox needs user namespaces, which root in a container
// lacks; the pages are our own, on loopback.
const args = ["--disable-dev-shm-usage", "--no-first-run"];
if (process.getuid && process.getuid() === 0) args.push("--no-sandbox");

async function shot(page, name) {
  const file = path.join(outdir, name + ".png");
  await page.screenshot({ path: file, fullPage: true });
  seen.screenshots.push(file);
}

async function visit(page, rel) {
  const r = await page.goto(base + rel, { waitUntil: "load" });
  return r ? r.status() : null;
}

async function h1(page) {
  const l = page.locator("h1").first();
  return (await l.count()) ? (await l.innerText()).trim() : null;
}

// The create form on /keys: a POST form with a `name` input.
async function createKey(page) {
  const form = page.locator("form").filter({
    has: page.locator('input[name="name"]') }).filter({
    has: page.locator('input[name="csrf"]') }).first();
  if (!(await form.count())) return { error: "no create form on /keys" };
  await form.locator('[name="name"]').fill(keyName);
  const org = form.locator('[name="org_id"]');
  if (orgId && (await org.count())) {
    const tag = await org.evaluate((e) => e.tagName.toLowerCase());
    if (tag === "select") await org.selectOption(String(orgId));
    else await org.fill(String(orgId));
  }
  const submit = form.locator(
    'button[type="submit"], input[type="submit"], button:not([type])').first();
  const [resp] = await Promise.all([
    page.waitForResponse((r) => r.request().method() === "POST"),
    submit.click(),
  ]);
  await page.waitForLoadState("load");
  const out = { status: resp.status(), secret: null, errors: [] };
  const secret = page.locator("#new-key-secret");
  if (await secret.count()) out.secret = (await secret.innerText()).trim();
  for (const e of await page.locator(".error").all())
    out.errors.push((await e.innerText()).trim());
  return out;
}

async function main() {
  const browser = await chromium.launch({ executablePath, headless: true,
                                          args });
  try {
    const context = await browser.newContext({
      httpCredentials: { username: user, password },
      viewport: { width: 1280, height: 900 },
    });
    const page = await context.newPage();
    page.setDefaultTimeout(20000);
    page.on("console", (m) => {
      if (m.type() === "error") seen.console_errors.push(m.text());
    });
    page.on("pageerror", (e) => seen.page_errors.push(String(e)));
    // Every sub-resource that failed, by URL (the console only says
    // "Failed to load resource"); the browser's own favicon probe aside.
    page.on("response", (r) => {
      if (r.status() >= 400 && !r.url().endsWith("/favicon.ico"))
        seen.http_errors.push({ url: r.url(), status: r.status() });
    });

    seen.overview = { status: await visit(page, "/"), h1: await h1(page),
      spend_chart: (await page.locator("svg#spend-chart").count()) > 0 };
    await shot(page, "overview");

    seen.keys_page = { status: await visit(page, "/keys") };
    seen.created = await createKey(page);
    await shot(page, "created");

    const listStatus = await visit(page, "/keys");
    const listHtml = await page.content();
    seen.keys = { status: listStatus, listed: listHtml.includes(keyName),
      secret_shown: !!seen.created.secret &&
                    listHtml.includes(seen.created.secret) };
    await shot(page, "keys");

    seen.costs = { status: await visit(page, "/costs"), h1: await h1(page) };
    const chart = page.locator("svg#cost-chart");
    seen.costs.chart = (await chart.count()) > 0;
    seen.costs.chart_visible = seen.costs.chart && await chart.isVisible();
    seen.costs.chart_marks = seen.costs.chart ?
      await chart.locator("rect, path, polyline, circle").count() : 0;
    await shot(page, "costs");
  } finally {
    await browser.close();
  }
}

try {
  await main();
} catch (e) {
  seen.error = String(e && e.stack || e).split("\n").slice(0, 4).join(" | ");
}
// The secret is printed on purpose: the caller checks that it works as a
// key. It is a throwaway key of a throwaway test database.
console.log(JSON.stringify(seen));
