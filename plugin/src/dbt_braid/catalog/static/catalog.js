// braid catalog: draws the data braid wrote into the page (catalog/model.py shapes it).
// Routes: #/ the graph, #/asset/<unique_id> a node's page, #/runs the runs,
// #/run/<run_id> one run on a timeline. Nothing is fetched: the page works from file://.
"use strict";

(function () {
  const DATA = JSON.parse(document.getElementById("braid-catalog-data").textContent);
  const NODES = DATA.nodes;
  const BY_ID = new Map(NODES.map((n) => [n.unique_id, n]));
  const RUNS = new Map(DATA.runs.map((r) => [r.run_id, r]));
  const SVG = "http://www.w3.org/2000/svg";
  const NODE_H = 30, ROW_GAP = 14, COL_GAP = 70, MARGIN = 30;
  const BADGE = { python: "Py", model: "M", seed: "Sd", snapshot: "Sn", source: "Src",
                  exposure: "Ex" };
  const HEALTH = ["fresh", "stale", "failed", "never", "none"];

  // ---- small DOM helpers: text always goes in as text, never as markup ---------------
  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v === null || v === undefined || v === false) continue;
      if (k === "text") node.textContent = String(v);
      else node.setAttribute(k, String(v));
    }
    for (const child of children.flat()) {
      if (child === null || child === undefined) continue;
      node.append(child instanceof Node ? child : document.createTextNode(String(child)));
    }
    return node;
  }
  function svg(tag, attrs, ...children) {
    const node = document.createElementNS(SVG, tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v !== null && v !== undefined) node.setAttribute(k, String(v));
    }
    for (const child of children.flat()) {
      if (child === null || child === undefined) continue;
      node.append(child instanceof Node ? child : document.createTextNode(String(child)));
    }
    return node;
  }
  const assetHref = (uid) => "#/asset/" + encodeURIComponent(uid);
  const runHref = (id) => "#/run/" + encodeURIComponent(id);
  function chip(text, cls) { return el("span", { class: "chip " + (cls || text), text }); }
  function short(text, n) {
    text = String(text || "");
    return text.length > n ? text.slice(0, n - 1) + "\u2026" : text;
  }
  function when(text) { return text ? String(text).slice(0, 19).replace("T", " ") : ""; }
  function secs(value) {
    if (value === null || value === undefined) return "";
    return value < 60 ? value.toFixed(2) + " s" : (value / 60).toFixed(1) + " min";
  }
  function time(text) { return text ? new Date(String(text).replace(" ", "T") + "Z").getTime() : NaN; }

  // ---- the graph ------------------------------------------------------------------
  const graph = document.getElementById("graph");
  const canvas = document.getElementById("canvas");
  const lengths = NODES.map((n) => n.name.length).sort((a, b) => a - b);
  const usual = lengths.length ? lengths[Math.floor(0.95 * (lengths.length - 1))] : 10;
  const NODE_W = Math.round(Math.min(260, Math.max(150, usual * 7.2 + 64)));
  const perCol = new Map();
  for (const n of NODES) perCol.set(n.col, (perCol.get(n.col) || 0) + 1);
  const tallest = Math.max(1, ...perCol.values());
  const width = MARGIN * 2 + (Math.max(0, ...perCol.keys()) + 1) * (NODE_W + COL_GAP) - COL_GAP;
  const height = MARGIN * 2 + tallest * (NODE_H + ROW_GAP) - ROW_GAP;
  function xy(n) {
    const shift = (tallest - perCol.get(n.col)) * (NODE_H + ROW_GAP) / 2;
    return [MARGIN + n.col * (NODE_W + COL_GAP), MARGIN + shift + n.row * (NODE_H + ROW_GAP)];
  }
  function fitLabel(text) {
    const room = Math.floor((NODE_W - 64) / 7.2);
    return text.length <= room ? text : text.slice(0, Math.max(room - 1, 1)) + "\u2026";
  }
  function shape(n) {
    const cls = "shape health-" + n.health, w = NODE_W, h = NODE_H;
    if (n.resource_type === "python") return svg("rect", { class: cls, width: w, height: h, rx: h / 2 });
    if (n.resource_type === "source") {
      return svg("path", { class: cls, d: `M0,5 A${w / 2},5 0 0 1 ${w},5 V${h - 5} A${w / 2},5 0 0 1 0,${h - 5} Z` });
    }
    if (n.resource_type === "exposure") {
      return svg("path", { class: cls, d: `M0,0 H${w - 12} L${w},${h / 2} L${w - 12},${h} H0 Z` });
    }
    return svg("rect", { class: cls, width: w, height: h, rx: 4,
                         "stroke-dasharray": n.resource_type === "seed" ? "4 2" : null });
  }
  const viewport = svg("g", { id: "viewport" });
  const edgeLayer = svg("g", { id: "edges" });
  const nodeLayer = svg("g", { id: "nodes" });
  graph.append(svg("defs", {}, svg("marker", { id: "arrow", viewBox: "0 0 8 8", refX: 8, refY: 4,
    markerWidth: 7, markerHeight: 7, orient: "auto" }, svg("path", { d: "M0,0 L8,4 L0,8 Z", fill: "#94a3b8" }))));
  viewport.append(edgeLayer, nodeLayer);
  graph.append(viewport);
  const edgeEls = [];
  for (const [a, b] of DATA.edges) {
    const [x1, y1] = xy(BY_ID.get(a)), [x2, y2] = xy(BY_ID.get(b));
    const sx = x1 + NODE_W, sy = y1 + NODE_H / 2, ty = y2 + NODE_H / 2;
    const bend = Math.max((x2 - sx) / 2, 30);
    const path = svg("path", { class: "edge", "marker-end": "url(#arrow)",
      d: `M${sx},${sy} C${sx + bend},${sy} ${x2 - bend},${ty} ${x2},${ty}` });
    edgeEls.push([a, b, path]);
    edgeLayer.append(path);
  }
  const nodeEls = new Map();
  for (const n of NODES) {
    const [x, y] = xy(n);
    const g = svg("g", { class: `node kind-${n.resource_type} health-${n.health}`,
      "data-id": n.unique_id, transform: `translate(${x},${y})`, tabindex: 0 },
      svg("title", {}, `${n.unique_id} (${n.health})`), shape(n),
      svg("text", { class: "badge", x: 12, y: NODE_H / 2 + 4 }, BADGE[n.resource_type] || n.resource_type.slice(0, 2)),
      svg("text", { class: "label", x: 42, y: NODE_H / 2 + 4 }, fitLabel(n.name)));
    g.addEventListener("click", () => { if (!moved) location.hash = assetHref(n.unique_id); });
    g.addEventListener("keydown", (e) => { if (e.key === "Enter") location.hash = assetHref(n.unique_id); });
    nodeEls.set(n.unique_id, g);
    nodeLayer.append(g);
  }

  // pan and zoom: one transform on the viewport group
  const view = { x: 0, y: 0, k: 1 };
  function apply() { viewport.setAttribute("transform", `translate(${view.x},${view.y}) scale(${view.k})`); }
  function fit() {
    const box = canvas.getBoundingClientRect();
    const w = box.width || 1200, h = box.height || 800;
    const k = Math.min(w / width, h / height, 1.6);
    // a big graph is not shrunk past readable labels: it opens at its upstream end instead
    view.k = Math.max(k, 0.55);
    view.x = view.k === k ? (w - width * k) / 2 : 0;
    view.y = view.k === k ? (h - height * k) / 2 : Math.min(0, (h - height * view.k) / 2);
    apply();
  }
  function zoom(factor, cx, cy) {
    const box = canvas.getBoundingClientRect();
    cx = cx === undefined ? box.width / 2 : cx;
    cy = cy === undefined ? box.height / 2 : cy;
    const k = Math.min(4, Math.max(0.05, view.k * factor));
    view.x = cx - (cx - view.x) * (k / view.k);
    view.y = cy - (cy - view.y) * (k / view.k);
    view.k = k;
    apply();
  }
  let drag = null, moved = false;
  canvas.addEventListener("pointerdown", (e) => {
    drag = { x: e.clientX, y: e.clientY, vx: view.x, vy: view.y };
    moved = false;
  });
  window.addEventListener("pointermove", (e) => {
    if (!drag) return;
    const dx = e.clientX - drag.x, dy = e.clientY - drag.y;
    if (!moved && Math.abs(dx) + Math.abs(dy) < 4) return;
    moved = true;
    canvas.classList.add("dragging");
    view.x = drag.vx + dx;
    view.y = drag.vy + dy;
    apply();
  });
  window.addEventListener("pointerup", () => {
    drag = null;
    canvas.classList.remove("dragging");
  });
  canvas.addEventListener("wheel", (e) => {
    e.preventDefault();
    const box = canvas.getBoundingClientRect();
    zoom(e.deltaY < 0 ? 1.15 : 1 / 1.15, e.clientX - box.left, e.clientY - box.top);
  }, { passive: false });
  document.getElementById("zoom-in").addEventListener("click", () => zoom(1.25));
  document.getElementById("zoom-out").addEventListener("click", () => zoom(1 / 1.25));
  document.getElementById("zoom-fit").addEventListener("click", fit);

  // legend
  const legend = document.getElementById("legend");
  for (const h of HEALTH) {
    legend.append(el("span", {}, el("i", { class: "key", style: `background:var(--${h})` }),
      { fresh: "fresh", stale: "stale", failed: "failed", never: "never run", none: "nothing to build" }[h]));
  }
  legend.append(el("span", {}, el("i", { style: "border:2px solid var(--python);border-radius:7px" }), "Python asset"));

  // ---- search and filters ---------------------------------------------------------
  const search = document.getElementById("search");
  const filters = {
    kind: document.getElementById("filter-kind"),
    health: document.getElementById("filter-health"),
    tag: document.getElementById("filter-tag"),
    package: document.getElementById("filter-package"),
  };
  const options = { kind: new Set(), health: new Set(), tag: new Set(), package: new Set() };
  for (const n of NODES) {
    options.kind.add(n.resource_type);
    options.health.add(n.health);
    options.package.add(n.package_name);
    for (const t of n.tags || []) options.tag.add(t);
  }
  for (const [key, select] of Object.entries(filters)) {
    for (const value of [...options[key]].sort()) select.append(el("option", { value, text: value }));
    select.addEventListener("change", applyFilters);
  }
  function matches(n) {
    const q = search.value.trim().toLowerCase();
    if (q && !n.name.toLowerCase().includes(q) && !n.unique_id.toLowerCase().includes(q)) return false;
    if (filters.kind.value && n.resource_type !== filters.kind.value) return false;
    if (filters.health.value && n.health !== filters.health.value) return false;
    if (filters.tag.value && !(n.tags || []).includes(filters.tag.value)) return false;
    if (filters.package.value && n.package_name !== filters.package.value) return false;
    return true;
  }
  function active() {
    return search.value.trim() || Object.values(filters).some((s) => s.value);
  }
  function applyFilters() {
    const on = active();
    const hits = new Set();
    for (const n of NODES) {
      const hit = on && matches(n);
      if (hit) hits.add(n.unique_id);
      const g = nodeEls.get(n.unique_id);
      g.classList.toggle("dim", on && !hit);
      g.classList.toggle("hit", hit);
    }
    for (const [a, b, path] of edgeEls) path.classList.toggle("dim", on && !(hits.has(a) && hits.has(b)));
    document.getElementById("count").textContent = on ? `${hits.size} of ${NODES.length} match` : `${NODES.length} nodes`;
    return hits;
  }
  search.addEventListener("input", applyFilters);
  search.addEventListener("keydown", (e) => {
    if (e.key !== "Enter") return;
    const first = NODES.find((n) => active() && matches(n));
    if (first) location.hash = assetHref(first.unique_id);
  });
  document.getElementById("history-note").textContent = DATA.has_history
    ? `history of ${DATA.runs.length} run${DATA.runs.length === 1 ? "" : "s"}` : "no history";

  // ---- plots ----------------------------------------------------------------------
  function plot(title, points) {
    const W = 300, H = 120, L = 44, B = 18;
    const values = points.map((p) => p.v);
    const lo = Math.min(...values), hi = Math.max(...values);
    const span = hi - lo || 1;
    const x = (i) => L + (points.length === 1 ? (W - L) / 2 : i * (W - L - 8) / (points.length - 1));
    const y = (v) => 8 + (H - B - 8) * (1 - (v - lo) / span);
    const chart = svg("svg", { width: W, height: H, viewBox: `0 0 ${W} ${H}`, role: "img",
                               "aria-label": title },
      svg("line", { class: "axis", x1: L, y1: H - B, x2: W, y2: H - B }),
      svg("line", { class: "axis", x1: L, y1: 4, x2: L, y2: H - B }),
      svg("text", { x: L - 4, y: 14, "text-anchor": "end" }, String(+hi.toPrecision(4))),
      svg("text", { x: L - 4, y: H - B, "text-anchor": "end" }, String(+lo.toPrecision(4))),
      svg("text", { x: L, y: H - 3 }, when(points[0].t).slice(0, 10)),
      svg("text", { x: W - 2, y: H - 3, "text-anchor": "end" }, when(points[points.length - 1].t).slice(0, 10)),
      svg("polyline", { class: "line", points: points.map((p, i) => `${x(i)},${y(p.v)}`).join(" ") }),
      points.map((p, i) => svg("circle", { class: "dot", cx: x(i), cy: y(p.v), r: 3 },
        svg("title", {}, `${when(p.t)}: ${p.v}`))));
    return el("div", { class: "plot", "data-series": title }, el("div", { text: title }), chart);
  }
  function plotsFor(n) {
    const rows = (n.history || []).slice().reverse();  // oldest first
    const series = new Map([["duration (s)", []], ["rows written", []]]);
    for (const r of rows) {
      if (r.seconds !== null && r.status !== "skipped") series.get("duration (s)").push({ t: r.completed_at, v: r.seconds });
      if (r.rows !== null) series.get("rows written").push({ t: r.completed_at, v: r.rows });
      for (const [key, value] of Object.entries(r.metadata || {})) {
        if (typeof value !== "number" || !isFinite(value)) continue;
        if (!series.has(key)) series.set(key, []);
        series.get(key).push({ t: r.completed_at, v: value });
      }
    }
    return [...series].filter(([, pts]) => pts.length).map(([title, pts]) => plot(title, pts));
  }

  // ---- a node's page --------------------------------------------------------------
  function nodeLinks(ids) {
    if (!ids.length) return el("span", { class: "muted", text: "none" });
    return el("span", { class: "links" }, ids.map((u) => el("a", { href: assetHref(u), text: BY_ID.get(u).name })));
  }
  function facts(rows) {
    return el("table", { class: "facts" }, rows.filter(([, v]) => v !== undefined && v !== null && v !== "")
      .map(([k, v]) => el("tr", {}, el("th", { text: k }), el("td", {}, v))));
  }
  function metadataValue(v) {
    if (typeof v === "string" && /^https?:\/\//.test(v)) return el("a", { href: v, rel: "noopener", text: v });
    return typeof v === "object" ? JSON.stringify(v) : String(v);
  }
  // a partitioned asset's windows, oldest first: one cell each, coloured by its state
  function windowsText(summary) {
    // as braid status says it (history/window_status.py summary_text)
    const parts = [`${summary.done}/${summary.total} done`];
    for (const state of ["stale", "failed", "missing"]) {
      const ranges = summary[state] || [];
      if (!ranges.length) continue;
      const more = ranges.length > 3 ? ` (+${ranges.length - 3} more)` : "";
      parts.push(`${state} ${ranges.slice(0, 3).join(", ")}${more}`);
    }
    return parts.join("; ");
  }
  function windowStrip(windows) {
    const cells = windows.states.map(([key, state]) =>
      el("span", { class: "cell " + state, title: `${key}: ${state}`, "data-key": key }));
    const older = windows.left_out
      ? el("span", { class: "older muted", text: `${windows.left_out} older not shown` }) : null;
    return el("div", { id: "windows", class: "windows" },
      el("div", { class: "strip" }, older, cells),
      el("span", { id: "windows-summary", class: "windows-summary", text: windowsText(windows.summary) }));
  }
  function renderAsset(uid) {
    const page = document.getElementById("asset-view");
    page.replaceChildren();
    const n = BY_ID.get(uid);
    if (!n) {
      page.append(el("h1", { text: "Not in this catalog" }), el("p", { text: uid }), el("a", { href: "#/", text: "back to the graph" }));
      return;
    }
    const kind = n.resource_type;
    page.append(el("h1", { id: "asset-name" }, n.name, chip(kind, "kind " + kind), chip(n.health)));
    if (n.description) page.append(el("p", { class: "description", text: n.description }));
    const owner = n.owner ? (n.owner.name || n.owner.email || JSON.stringify(n.owner)) : "";
    page.append(facts([
      ["unique_id", n.unique_id], ["package", n.package_name], ["relation", n.relation],
      ["owner", owner], ["tags", (n.tags || []).join(", ")], ["group", n.group],
      ["file", n.path], ["declared in", n.yaml_file], ["function", n.python],
      ["materialized", n.materialized],
    ]));
    page.append(el("h2", { text: "Freshness" }));
    if (n.freshness) {
      page.append(facts([["state", chip(n.health)], ["why", n.freshness.reason],
                         ["last run", when(n.freshness.last_run)], ["last result", n.freshness.last_status]]));
    } else {
      page.append(el("p", { class: "muted", text: DATA.has_history ? "braid builds nothing for this node." : "No history is kept (the braid package is not installed)." }));
    }
    if (n.windows) page.append(el("h2", { text: "Windows" }), windowStrip(n.windows));
    page.append(el("h2", { text: "Lineage" }),
                facts([["upstream", nodeLinks(n.upstream)], ["downstream", nodeLinks(n.downstream)]]));
    if (n.columns && n.columns.length) {
      page.append(el("h2", { text: "Columns" }), el("table", { id: "columns" },
        el("tr", {}, el("th", { text: "name" }), el("th", { text: "type" }), el("th", { text: "description" })),
        n.columns.map((c) => el("tr", {}, el("td", { text: c.name }), el("td", { text: c.type || "" }),
                                       el("td", { text: c.description || "" })))));
    }
    const history = n.history || [];
    page.append(el("h2", { text: `Materializations (${history.length})` }));
    if (history.length) {
      page.append(el("table", { id: "history" },
        el("tr", {}, ["status", "started", "duration", "rows", "attempt", "run", "message"].map((h) => el("th", { text: h }))),
        history.map((r) => el("tr", { class: "history-row" },
          el("td", {}, chip(r.status)), el("td", { text: when(r.started_at) }),
          el("td", { class: "num", text: secs(r.seconds) }), el("td", { class: "num", text: r.rows === null ? "" : r.rows }),
          el("td", { class: "num", text: r.attempt || "" }),
          el("td", {}, RUNS.has(r.run_id) ? el("a", { href: runHref(r.run_id), text: String(r.run_id).slice(0, 8) }) : String(r.run_id || "").slice(0, 8)),
          el("td", { title: r.message || "", text: short(r.message, 90) })))));
      const latest = history.find((r) => Object.keys(r.metadata || {}).length);
      if (latest) {
        page.append(el("h2", { text: "Metadata" }), facts(Object.entries(latest.metadata).map(([k, v]) => [k, metadataValue(v)])));
      }
      const plots = plotsFor(n);
      if (plots.length) page.append(el("h2", { text: "Over time" }), el("div", { class: "plots" }, plots));
    } else {
      page.append(el("p", { class: "muted", text: "Not materialized by a recorded run yet." }));
    }
    const code = [["Python function", n.python_source], ["SQL", n.raw_code], ["compiled SQL", n.compiled_code],
                  ["declaration", n.declaration]].filter(([, text]) => text);
    if (code.length) {
      page.append(el("h2", { text: "Code" }));
      code.forEach(([title, text], i) => page.append(el("details", { open: i === 0 ? "" : null },
        el("summary", { text: title }), el("pre", { class: "code", text }))));
    }
    page.scrollTop = 0;
  }

  // ---- runs -----------------------------------------------------------------------
  function renderSchedules(page) {
    const schedules = DATA.schedules || [];
    if (!schedules.length) return;
    page.append(el("h2", { text: "Schedules (braid.yml)" }), el("table", { id: "schedules" },
      el("tr", {}, ["schedule", "cron", "runs", "next (UTC)", "last run", "result"].map((h) => el("th", { text: h }))),
      schedules.map((s) => el("tr", { class: "schedule-row" }, el("td", { text: s.name }),
        el("td", { text: `${s.cron} (${s.timezone})` }), el("td", { text: s.runs }),
        el("td", { text: when(s.next) }),
        el("td", {}, s.last_run_id && RUNS.has(s.last_run_id)
          ? el("a", { href: runHref(s.last_run_id), text: when(s.last_run) }) : (s.last_run ? when(s.last_run) : "never")),
        el("td", {}, s.last_result ? chip(s.last_result) : "")))));
    page.append(el("h2", { text: "Runs" }));
  }
  function renderRuns() {
    const page = document.getElementById("runs-view");
    page.replaceChildren(el("h1", { text: "Runs" }));
    renderSchedules(page);
    if (!DATA.runs.length) {
      page.append(el("p", { class: "muted", text: "No run recorded yet." }));
      return;
    }
    page.append(el("table", { id: "runs" },
      el("tr", {}, ["started", "command", "selection", "status", "duration", "nodes", "run"].map((h) => el("th", { text: h }))),
      DATA.runs.map((r) => el("tr", { class: "run-row" }, el("td", { text: when(r.started_at) }),
        el("td", { text: r.command + (r.schedule ? ` (schedule ${r.schedule})` : "") }), el("td", { text: r.selection }), el("td", {}, chip(r.status)),
        el("td", { class: "num", text: secs(r.seconds) }), el("td", { class: "num", text: r.nodes.length }),
        el("td", {}, el("a", { href: runHref(r.run_id), text: r.run_id.slice(0, 8) }))))));
  }
  function timeline(run) {
    // a skipped node never ran: it has no bar (the table below lists it)
    const nodes = run.nodes.filter((n) => n.started_at && n.status !== "skipped");
    const start = time(run.started_at);
    const ends = nodes.map((n) => time(n.completed_at)).concat([time(run.completed_at)]).filter(isFinite);
    const total = Math.max(1, (Math.max(start, ...ends) - start) / 1000);
    const W = 900, LABEL = 220, ROW = 22;
    const x = (t) => LABEL + (W - LABEL - 10) * Math.max(0, (time(t) - start) / 1000) / total;
    const chart = svg("svg", { class: "timeline", width: W, height: nodes.length * ROW + 30,
                               viewBox: `0 0 ${W} ${nodes.length * ROW + 30}` });
    for (let s = 0; s <= 4; s++) {
      const tx = LABEL + (W - LABEL - 10) * s / 4;
      chart.append(svg("line", { class: "tick", x1: tx, y1: 0, x2: tx, y2: nodes.length * ROW }),
                   svg("text", { x: tx, y: nodes.length * ROW + 16, "text-anchor": "middle" }, (total * s / 4).toFixed(1) + " s"));
    }
    nodes.forEach((n, i) => {
      const y = i * ROW;
      const where = n.kind === "python" ? "Python"
        : (n.invocation !== null && n.invocation !== undefined ? `dbt batch ${n.invocation + 1}` : "dbt");
      const x1 = x(n.started_at), x2 = Math.max(x(n.completed_at || n.started_at), x1 + 2);
      const label = svg("a", { href: assetHref(n.unique_id) },
        svg("text", { x: 4, y: y + 15 }, short(`${n.name} (${where})`, 34)));
      chart.append(svg("rect", { class: "lane", x: 0, y: y + 1, width: W, height: ROW - 2 }), label,
        svg("rect", { class: `bar ${n.status} ${n.kind === "python" ? "python" : "dbt"}`, x: x1, y: y + 4,
                      width: x2 - x1, height: ROW - 8, "data-id": n.unique_id },
          svg("title", {}, `${n.name}: ${n.status}, ${when(n.started_at)} to ${when(n.completed_at)}`)));
    });
    return chart;
  }
  function renderRun(id) {
    const page = document.getElementById("run-view");
    page.replaceChildren();
    const run = RUNS.get(id);
    if (!run) {
      page.append(el("h1", { text: "Run not in this catalog" }), el("p", { text: id }), el("a", { href: "#/runs", text: "all runs" }));
      return;
    }
    page.append(el("h1", { id: "run-title" }, `${run.command} ${run.selection}`, chip(run.status)));
    const retried = run.retry_of ? (RUNS.has(run.retry_of)
      ? el("a", { href: runHref(run.retry_of), id: "retry-of", text: run.retry_of.slice(0, 8) })
      : run.retry_of.slice(0, 8)) : null;
    const retries = DATA.runs.filter((r) => r.retry_of === run.run_id)
      .map((r) => el("a", { href: runHref(r.run_id), text: r.run_id.slice(0, 8) }));
    page.append(facts([["run id", run.run_id], ["target", run.target], ["started", when(run.started_at)],
                       ["finished", when(run.completed_at)], ["duration", secs(run.seconds)],
                       ["retry of", retried], ["retried by", retries.length ? el("span", { class: "links" }, retries) : null]]));
    page.append(el("h2", { text: "Timeline" }), el("p", { class: "muted",
      text: "Each node from its start to its end; dbt nodes by batch (one dbt invocation each), Python assets between." }));
    page.append(timeline(run));
    page.append(el("h2", { text: "Nodes" }), el("table", { id: "run-nodes" },
      el("tr", {}, ["node", "kind", "status", "started", "rows", "message"].map((h) => el("th", { text: h }))),
      run.nodes.map((n) => el("tr", {}, el("td", {}, el("a", { href: assetHref(n.unique_id), text: n.name })),
        el("td", { text: n.kind }), el("td", {}, chip(n.status)), el("td", { text: when(n.started_at) }),
        el("td", { class: "num", text: n.rows === null ? "" : n.rows }), el("td", { text: short(n.message, 80) })))));
  }

  // ---- routing --------------------------------------------------------------------
  const views = ["graph-view", "asset-view", "runs-view", "run-view"];
  let fitted = false;
  function route() {
    const hash = decodeURIComponent(location.hash.replace(/^#\/?/, ""));
    let show = "graph-view";
    if (hash.startsWith("asset/")) { show = "asset-view"; renderAsset(hash.slice(6)); }
    else if (hash === "runs") { show = "runs-view"; renderRuns(); }
    else if (hash.startsWith("run/")) { show = "run-view"; renderRun(hash.slice(4)); }
    else if (hash.startsWith("live/")) { show = "live-view"; }  // braid serve's script draws it
    for (const v of views) document.getElementById(v).hidden = v !== show;
    document.getElementById("live-view").hidden = show !== "live-view";
    document.getElementById("nav-graph").classList.toggle("current", show === "graph-view");
    document.getElementById("nav-runs").classList.toggle("current", show === "runs-view" || show === "run-view");
    if (show === "graph-view" && !fitted) { fit(); fitted = true; }
  }
  window.addEventListener("hashchange", route);
  applyFilters();
  route();
  if (DATA.note) document.getElementById("history-note").textContent += ` (${DATA.note})`;
  // for braid serve's script, which adds the actions on a served page
  window.braidCatalog = { DATA, BY_ID, nodeEls, el, chip };
  document.body.dataset.ready = "true";
})();
