// The executive page's charts, drawn with Observable Plot (inlined beside
// this file) from the figures the server put in #page-data. Each chart goes
// into its figure's .plot element; a chart with nothing to show says so.
(function () {
  "use strict";
  const data = JSON.parse(document.getElementById("page-data").textContent);

  // Okabe-Ito: told apart with every common colour-vision deficiency.
  const BLUE = "#0072B2", ORANGE = "#E69F00", GREEN = "#009E73",
    VERMILLION = "#D55E00", PURPLE = "#CC79A7", GREY = "#9AA3AD",
    BLACK = "#1B1F24";
  const MODEL_COLOURS = [BLUE, ORANGE, PURPLE];
  const WIDTH = 470;
  const WIDE = 980;

  const money = (() => {
    if (!data.currency) {
      const n = new Intl.NumberFormat("en-US", { maximumFractionDigits: 2 });
      const c = new Intl.NumberFormat("en-US", { notation: "compact" });
      return { full: (v) => n.format(v), short: (v) => c.format(v) };
    }
    const n = new Intl.NumberFormat("en-US",
      { style: "currency", currency: data.currency, maximumFractionDigits: 2 });
    const c = new Intl.NumberFormat("en-US",
      { style: "currency", currency: data.currency, notation: "compact" });
    return { full: (v) => n.format(v), short: (v) => c.format(v) };
  })();
  const count = (v) => new Intl.NumberFormat("en-US",
    { maximumFractionDigits: Math.abs(v - Math.round(v)) < 1e-9 ? 0 : 1 }).format(v);
  const percent = (v) => (v * 100).toFixed(1) + "%";
  const ratio = (v) => v.toFixed(2) + "x";

  // Rows beyond 14 get thinner, so a chart keeps the height it has at 14
  // rows and each sheet still prints on one page.
  const fit = (n) => (n <= 14 ? 1 : 14 / n);
  const rowHeight = (n, px) => px * fit(n) * n;

  // Long labels are cut in the middle so that they never run into the bars.
  const MAX_LABEL = 30;
  const cut = (s) => s.length <= MAX_LABEL ? s
    : s.slice(0, 18) + "…" + s.slice(s.length - (MAX_LABEL - 19));
  const leftMargin = (labels) =>
    Math.min(210, 12 + 6.6 * Math.max(6, ...labels.map((l) => cut(l).length)));

  function put(id, build) {
    const slot = document.querySelector("#" + id + " .plot");
    try {
      const node = build();
      if (typeof node === "string") {
        const p = document.createElement("p");
        p.className = "empty";
        p.textContent = node;
        slot.replaceChildren(p);
      } else {
        slot.replaceChildren(node);
      }
    } catch (e) {
      console.error("chart " + id + ": " + e);
    }
  }

  // One horizontal bar per row, the value written at its end.
  function bars(rows, field, format, fill, extra) {
    const labels = rows.map((r) => r.label);
    return Plot.plot({
      width: WIDTH,
      height: rowHeight(rows.length, 24) + 44,
      marginLeft: leftMargin(labels),
      marginRight: 70,
      style: { fontSize: "12px" },
      x: { grid: true, nice: true, tickFormat: format.axis, label: null, ticks: 4 },
      y: { domain: labels, label: null, tickFormat: cut },
      marks: [
        Plot.barX(rows, { x: field, y: "label", fill,
          title: (d) => d.label + ": " + format.full(d[field]) }),
        Plot.text(rows, { x: field, y: "label", text: (d) => format.full(d[field]),
          textAnchor: "start", dx: 4, fill: BLACK }),
        Plot.ruleX([0]),
        ...(extra || []),
      ],
    });
  }

  const byField = (rows, field) =>
    rows.filter((r) => r[field] !== null && r[field] !== undefined)
      .sort((a, b) => b[field] - a[field] || (a.label < b.label ? -1 : 1));

  const rows = data.rows;
  const MONEY = { full: money.full, axis: money.short };
  const COUNT = { full: count, axis: (v) => count(v) };

  put("chart-new-customers", () => rows.length === 0
    ? "No channel has data in this period."
    : bars(byField(rows, "new_customers"), "new_customers", COUNT, BLUE));

  put("chart-cac", () => {
    const r = byField(rows, "cac");
    return r.length === 0 ? "No channel has both spend and new customers."
      : bars(r, "cac", MONEY, ORANGE);
  });

  put("chart-revenue-spend", () => {
    if (rows.length === 0) return "No channel has data in this period.";
    const order = byField(rows, "revenue").map((r) => r.label);
    const long = [];
    for (const r of rows) {
      long.push({ label: r.label, series: "Revenue", value: r.revenue });
      long.push({ label: r.label, series: "Spend", value: r.spend });
    }
    return Plot.plot({
      width: WIDTH,
      height: rowHeight(rows.length, 30) + 60,
      marginLeft: leftMargin(order),
      marginRight: 70,
      style: { fontSize: "12px" },
      x: { grid: true, nice: true, tickFormat: money.short, label: null, ticks: 5 },
      y: { domain: ["Revenue", "Spend"], axis: null },
      fy: { domain: order, label: null, tickFormat: cut, padding: 0.15 },
      color: { domain: ["Revenue", "Spend"], range: [BLUE, ORANGE], legend: true },
      marks: [
        Plot.barX(long, { x: "value", y: "series", fy: "label", fill: "series",
          title: (d) => d.label + ", " + d.series.toLowerCase() + ": " + money.full(d.value) }),
        Plot.text(long, { x: "value", y: "series", fy: "label",
          text: (d) => money.short(d.value), textAnchor: "start", dx: 4, fill: BLACK }),
        Plot.ruleX([0]),
      ],
    });
  });

  put("chart-credit", () => {
    const c = data.credit;
    if (c.rows.length === 0) return "No new customer to credit in this period.";
    // Channels by their largest credit under any model.
    const top = new Map();
    for (const r of c.rows) top.set(r.label, Math.max(top.get(r.label) || 0, r.conversions));
    const order = [...top.keys()].sort((a, b) => top.get(b) - top.get(a) || (a < b ? -1 : 1));
    const colours = MODEL_COLOURS.slice(0, c.models.length);
    const withInterval = c.rows.filter((r) => r.low !== null && r.high !== null);
    return Plot.plot({
      width: WIDTH,
      height: rowHeight(order.length, 12 * c.models.length + 10) + 60,
      marginLeft: leftMargin(order),
      marginRight: 50,
      style: { fontSize: "12px" },
      x: { grid: true, nice: true, tickFormat: count, label: null, ticks: 5 },
      y: { domain: c.models, axis: null },
      fy: { domain: order, label: null, tickFormat: cut, padding: 0.15 },
      color: { domain: c.models, range: colours, legend: true },
      marks: [
        Plot.barX(c.rows, { x: "conversions", y: "model", fy: "label", fill: "model",
          title: (d) => d.label + ", " + d.model + ": " + count(d.conversions) +
            (d.low !== null ? " (" + count(d.low) + " to " + count(d.high) + ")" : "") }),
        Plot.ruleY(withInterval, { x1: "low", x2: "high", y: "model", fy: "label",
          stroke: BLACK, strokeWidth: 1.5, ariaLabel: () => "interval" }),
        Plot.ruleX([0]),
      ],
    });
  });

  put("chart-cash-flow", () => {
    const points = data.cash_flow.points.map((p) => ({
      ...p, start: new Date(p.start), end: new Date(p.end) }));
    if (points.length === 0) return "The period has no buckets.";
    return Plot.plot({
      width: WIDE,
      height: 230,
      marginLeft: 70,
      style: { fontSize: "12px" },
      x: { type: "utc", label: null },
      y: { grid: true, tickFormat: money.short, label: null },
      color: { domain: ["Revenue in", "Spend out", "Running net"],
        range: [BLUE, ORANGE, BLACK], legend: true },
      marks: [
        Plot.rectY(points, { x1: "start", x2: "end", y: "revenue_in", fill: () => "Revenue in",
          inset: 0.5, title: (d) => "Revenue in: " + money.full(d.revenue_in) }),
        Plot.rectY(points, { x1: "start", x2: "end", y: (d) => -d.spend_out,
          fill: () => "Spend out", inset: 0.5,
          title: (d) => "Spend out: " + money.full(d.spend_out) }),
        Plot.line(points, { x: "start", y: "running_net", stroke: () => "Running net" }),
        Plot.dot(points, { x: "start", y: "running_net", r: 2, fill: () => "Running net",
          title: (d) => d.start.toISOString().slice(0, 10) + ", running net: " +
            money.full(d.running_net) }),
        Plot.ruleY([0]),
      ],
    });
  });

  put("chart-cohorts", () => {
    const c = data.cohorts;
    if (c.cells.length === 0) return "No customer acquired in these months has reached a horizon.";
    return Plot.plot({
      width: WIDTH,
      height: 26 * c.months.length + 80,
      marginLeft: 70,
      padding: 0.04,
      style: { fontSize: "12px" },
      x: { domain: c.horizons, label: null, axis: "top", tickFormat: (d) => d + " d" },
      y: { domain: c.months, label: null },
      color: { type: "linear", scheme: "blues", domain: [0, Math.max(0.05, ...c.cells.map((d) => d.rate))],
        legend: true, tickFormat: percent, label: "retained" },
      marks: [
        Plot.cell(c.cells, { x: "horizon", y: "month", fill: "rate",
          title: (d) => d.month + ", " + d.horizon + " days: " + percent(d.rate) + " of " +
            count(d.observed) + " customers" }),
        Plot.text(c.cells, { x: "horizon", y: "month", text: (d) => percent(d.rate),
          fill: (d) => d.dark ? "white" : BLACK }),
      ],
    });
  });

  put("chart-ltv-cac", () => {
    const r = byField(data.ltv.rows, "ltv_to_cac");
    return r.length === 0 ? "No channel has both spend and acquired customers old enough."
      : bars(r, "ltv_to_cac", { full: ratio, axis: (v) => v + "x" }, GREEN,
        [Plot.ruleX([1], { stroke: VERMILLION, strokeDasharray: "4,3" })]);
  });

  put("chart-sentiment", () => {
    const r = rows.filter((x) => x.positive !== null);
    if (r.length === 0) return "No touch in this period carries a sentiment.";
    const order = r.slice().sort((a, b) => b.positive - a.positive ||
      (a.label < b.label ? -1 : 1)).map((x) => x.label);
    const long = [];
    for (const x of r) {
      long.push({ label: x.label, tone: "Positive", share: x.positive });
      long.push({ label: x.label, tone: "Neutral", share: x.neutral });
      long.push({ label: x.label, tone: "Negative", share: x.negative });
    }
    return Plot.plot({
      width: WIDTH,
      height: rowHeight(r.length, 24) + 60,
      marginLeft: leftMargin(order),
      marginRight: 20,
      style: { fontSize: "12px" },
      x: { domain: [0, 1], tickFormat: (v) => Math.round(v * 100) + "%", label: null },
      y: { domain: order, label: null, tickFormat: cut },
      color: { domain: ["Positive", "Neutral", "Negative"], range: [GREEN, GREY, VERMILLION],
        legend: true },
      marks: [
        Plot.barX(long, Plot.stackX({ x: "share", y: "label", fill: "tone",
          order: ["Positive", "Neutral", "Negative"],
          title: (d) => d.label + ", " + d.tone.toLowerCase() + ": " + percent(d.share) })),
      ],
    });
  });
})();
