// Drives Debian's chromium through the supervision console, as a supervisor would:
// sign in, look at the unit lights, the overdue list, a breached case (timeline, clocks,
// diagram), the on-time ranking and a vote; then signs in again as a worker (`worker`
// token), opens their worklist and claims a case (`claim`) from it. Prints what it saw as
// one JSON object on stdout; tests/test_server_browser.py asserts on it. Screenshots go
// to `out`.
//
//   node tests/browser/console.mjs '{"base": "http://127.0.0.1:PORT", "token": "...",
//     "case": "ID", "org": "a/b", "vote": "ID", "worker": "TOKEN", "claim": "ID",
//     "out": "DIR", "profile": "EMPTY_DIR"}'
import { chromium } from "playwright-core";
import path from "node:path";

const args = JSON.parse(process.argv[2]);
const seen = { errors: [], external: [], steps: {} };
const FLAGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

const context = await chromium.launchPersistentContext(args.profile, {
  executablePath: "/usr/bin/chromium",
  headless: true,
  args: FLAGS,
  viewport: { width: 1280, height: 900 },
  locale: "zh-CN",
  timezoneId: "Asia/Shanghai",
});
// Nothing but the server under test: any other request is refused and recorded.
await context.route("**/*", (route) => {
  const url = route.request().url();
  if (url.startsWith(args.base + "/") || url.startsWith("data:")) return route.continue();
  seen.external.push(url);
  return route.abort();
});
const page = context.pages()[0] ?? (await context.newPage());
page.on("console", (msg) => {
  if (msg.type() === "error") seen.errors.push(`console: ${msg.text()}`);
});
page.on("pageerror", (err) => seen.errors.push(`page: ${err.message}`));
page.setDefaultTimeout(20000);
const shot = (name) => page.screenshot({ path: path.join(args.out, name), fullPage: true });

try {
  // sign in
  await page.goto(`${args.base}/console/`);
  seen.steps.login_page = new URL(page.url()).pathname;
  await page.fill("input[name=token]", args.token);
  await Promise.all([page.waitForURL(`${args.base}/console/`), page.click("button[type=submit]")]);
  // the unit lights
  const unitRow = page.locator(`#units tr[data-org="${args.org}"]`);
  await unitRow.waitFor();
  seen.steps.unit_light = await unitRow.getAttribute("data-light");
  seen.steps.unit_lamp_colour = await unitRow
    .locator(".lamp")
    .evaluate((el) => getComputedStyle(el).backgroundColor);
  seen.steps.unit_breached = (await unitRow.locator("td").nth(4).innerText()).trim();
  seen.steps.lights = await page
    .locator("#units tr[data-org]")
    .evaluateAll((rows) => Object.fromEntries(rows.map((r) => [r.dataset.org, r.dataset.light])));
  await shot("01-dashboard.png");
  // the overdue list
  await page.click("nav a[href='/console/overdue']");
  const overdueRow = page.locator(`#overdue tr[data-case="${args.case}"]`);
  await overdueRow.waitFor();
  seen.steps.overdue_row_class = await overdueRow.getAttribute("class");
  seen.steps.overdue_lamp_colour = await overdueRow
    .locator(".lamp")
    .evaluate((el) => getComputedStyle(el).backgroundColor);
  await shot("02-overdue.png");
  // the case page: timeline, clocks, diagram
  await overdueRow.locator(`a[href="/console/cases/${args.case}"]`).click();
  await page.waitForURL(`${args.base}/console/cases/${args.case}`);
  await page.waitForSelector("body[data-diagram]");
  seen.steps.diagram = await page.getAttribute("body", "data-diagram");
  seen.steps.diagram_svg = await page.locator("#diagram svg").count();
  seen.steps.diagram_current = await page.locator("#diagram svg .current").count();
  seen.steps.diagram_text = await page.locator("#diagram svg").evaluate((s) => s.textContent);
  seen.steps.timeline = await page.locator("#timeline li .what").allInnerTexts();
  seen.steps.clocks = await page
    .locator("#clocks tr[data-clock]")
    .evaluateAll((rows) =>
      rows.map((r) => ({
        clock: r.dataset.clock,
        status: r.dataset.status,
        last_day: r.children[2].innerText.trim(),
        workdays_left: r.children[4].innerText.trim(),
      })),
    );
  seen.steps.current_state = (await page.locator("#current-state").innerText()).trim();
  await shot("03-case.png");
  // the ranking chart
  await page.click("nav a[href='/console/ranking']");
  await page.waitForSelector("body[data-chart=rendered]");
  seen.steps.ranking_rows = await page.locator("#ranking tbody tr[data-org]").count();
  seen.steps.chart_drawn = await page
    .locator("#ranking-chart")
    .evaluate((c) => c.width > 0 && c.height > 0);
  await shot("04-ranking.png");
  // a vote
  await page.goto(`${args.base}/console/cases/${args.vote}/vote`);
  seen.steps.vote_present = (await page.locator("#vote-present").innerText()).trim();
  seen.steps.vote_status = (await page.locator("#vote-status").innerText()).trim();
  await shot("05-vote.png");
  // sign out; a worker signs in: their worklist, most urgent first, and a claim
  await Promise.all([
    page.waitForURL(`${args.base}/console/login`),
    page.click("form.who button[type=submit]"),
  ]);
  await page.fill("input[name=token]", args.worker);
  await Promise.all([page.waitForURL(`${args.base}/console/`), page.click("button[type=submit]")]);
  await page.click("nav a[href='/console/worklist']");
  await page.waitForURL(`${args.base}/console/worklist`);
  const workRows = page.locator("#worklist tbody tr[data-case]");
  await workRows.first().waitFor();
  seen.steps.worklist_cases = await workRows.evaluateAll((rows) => rows.map((r) => r.dataset.case));
  seen.steps.worklist_lights = await workRows.evaluateAll((rows) =>
    rows.map((r) => r.dataset.light),
  );
  const claimRow = page.locator(`#worklist tr[data-case="${args.claim}"]`);
  seen.steps.worklist_lamp_colour = await claimRow
    .locator(".lamp")
    .evaluate((el) => getComputedStyle(el).backgroundColor);
  seen.steps.worklist_left = (await claimRow.locator("td.left").innerText()).trim();
  seen.steps.claim_buttons = await page.locator("#worklist button.claim-button").count();
  await claimRow.locator("button.claim-button").click();
  await claimRow.locator("td.claim .claimed.mine").waitFor();
  seen.steps.claimed_text = (await claimRow.locator("td.claim").innerText()).trim();
  seen.steps.claimed_assignee = await claimRow.locator("td.claim").getAttribute("data-assignee");
  seen.steps.claim_page = new URL(page.url()).pathname; // htmx swapped the cell in place
  seen.steps.claim_buttons_after = await page.locator("#worklist button.claim-button").count();
  await shot("06-worklist.png");
  // the claim holds on a reload
  await page.reload();
  seen.steps.reloaded_text = (
    await page.locator(`#worklist tr[data-case="${args.claim}"] td.claim`).innerText()
  ).trim();
} catch (err) {
  seen.failure = String(err && err.stack ? err.stack : err);
  await shot("99-failure.png").catch(() => {});
} finally {
  await context.close();
}
process.stdout.write(JSON.stringify(seen));
