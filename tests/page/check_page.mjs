// Opens an executive page (attributionctl report page) in Debian's Chromium,
// headless, through playwright-core, and prints what a reader would see as
// JSON: console errors, every request the page made, the marks of each
// chart read from the DOM, the headline tiles and the goals. Takes a
// screenshot. The assertions are in tests/page/test_report_page.py.
//
//   node check_page.mjs PAGE.html SCREENSHOT.png
// env: PAGE_TEST_NODE_MODULES (where npm ci put playwright-core), CHROMIUM.
import { createRequire } from "node:module";
import { pathToFileURL } from "node:url";

const require = createRequire(process.env.PAGE_TEST_NODE_MODULES + "/");
const { chromium } = require("playwright-core");

const [page_path, screenshot] = process.argv.slice(2);
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync"],
});
const out = { console_errors: [], page_errors: [], requests: [] };
try {
  const context = await browser.newContext({ viewport: { width: 1100, height: 1400 } });
  const page = await context.newPage();
  const url = pathToFileURL(page_path).href;
  page.on("console", (m) => { if (m.type() === "error") out.console_errors.push(m.text()); });
  page.on("pageerror", (e) => out.page_errors.push(String(e)));
  page.on("request", (r) => { if (r.url() !== url) out.requests.push(r.url()); });
  await page.goto(url, { waitUntil: "load" });
  out.title = await page.title();
  out.charts = await page.evaluate(() => {
    const charts = {};
    for (const f of document.querySelectorAll("figure.chart")) {
      const marks = {};
      // Shapes (not groups: a faceted mark has a group per facet; nor tooltips).
      for (const kind of ["bar", "rect", "dot", "line", "cell", "rule", "text"]) {
        marks[kind] = f.querySelectorAll(`g[aria-label="${kind}"] :not(g):not(title)`).length;
      }
      // The credit chart's interval lines carry their own label.
      marks.interval = f.querySelectorAll('line[aria-label="interval"]').length;
      const svg = f.querySelector(".plot svg");
      charts[f.id] = {
        marks,
        svg: svg !== null,
        empty: f.querySelector(".plot .empty")?.textContent ?? null,
        y_labels: [...f.querySelectorAll('g[aria-label="y-axis tick label"] text, ' +
          'g[aria-label="fy-axis tick label"] text')].map((t) => t.textContent),
      };
    }
    return charts;
  });
  // Axis labels must not overlap: the bounding boxes of each chart's tick
  // labels on the channel axis, pairwise.
  out.overlapping_labels = await page.evaluate(() => {
    let n = 0;
    for (const g of document.querySelectorAll('g[aria-label="y-axis tick label"], ' +
      'g[aria-label="fy-axis tick label"]')) {
      const boxes = [...g.querySelectorAll("text")].map((t) => t.getBoundingClientRect());
      for (let i = 0; i < boxes.length; ++i)
        for (let j = i + 1; j < boxes.length; ++j) {
          const a = boxes[i], b = boxes[j];
          if (a.left < b.right && b.left < a.right && a.top < b.bottom - 0.5 &&
              b.top < a.bottom - 0.5) ++n;
        }
    }
    return n;
  });
  out.tiles = await page.evaluate(() => Object.fromEntries(
    [...document.querySelectorAll(".tile")].map((t) => [t.dataset.metric, {
      value: t.dataset.value === undefined ? null : Number(t.dataset.value),
      previous: t.dataset.previous === undefined ? null : Number(t.dataset.previous),
      direction: t.dataset.direction, assessment: t.dataset.assessment,
      text: t.querySelector(".value").textContent,
      change: t.querySelector(".change").textContent,
    }])));
  out.summary = await page.evaluate(() =>
    [...document.querySelectorAll(".summary li")].map((l) => l.textContent));
  out.goals = await page.evaluate(() =>
    [...document.querySelectorAll("tr.goal")].map((g) => ({
      name: g.dataset.goal, status: g.dataset.status, progress: Number(g.dataset.progress),
      bar: g.querySelector('[role="progressbar"] > div').style.width })));
  await page.screenshot({ path: screenshot, fullPage: true });
} finally {
  await browser.close();
}
console.log(JSON.stringify(out));
