// braid serve: the catalog page's actions, present only when the page is served live.
// Launch run/build for a selection (typed, or picked by clicking nodes), retry the last
// run, and watch a launched run as it goes (#/live/<run_id>: node states and the console),
// with a button that cancels it.
// Every request that changes anything carries the session token from the page's URL.
"use strict";

(function () {
  const C = window.braidCatalog;
  if (!C || !C.DATA.live) return;
  const { el, chip, DATA } = C;
  const params = new URLSearchParams(location.search);
  if (params.get("token")) sessionStorage.setItem("braid-token", params.get("token"));
  const token = () => sessionStorage.getItem("braid-token") || "";

  // ---- the action bar -----------------------------------------------------------
  const bar = document.getElementById("actions");
  const select = el("input", { id: "run-select", type: "text", placeholder: "selection, e.g. +forecast_summary",
                               "aria-label": "Selection to run", autocomplete: "off" });
  const command = el("select", { id: "run-command", "aria-label": "Command" },
    el("option", { value: "run", text: "run" }), el("option", { value: "build", text: "build" }));
  const refresh = el("input", { id: "run-full-refresh", type: "checkbox" });
  const picking = el("input", { id: "pick-nodes", type: "checkbox" });
  const go = el("button", { id: "run-button", text: "Run" });
  bar.append(select, command, el("label", {}, refresh, " full refresh"),
             el("label", { title: "Clicks on the graph add nodes to the selection" }, picking, " pick nodes"), go);
  bar.hidden = false;
  const notice = document.getElementById("notice");
  function say(text, bad) {
    notice.textContent = text;
    notice.className = bad ? "bad" : "";
    notice.hidden = !text;
  }

  async function post(path, body) {
    const reply = await fetch(path, {
      method: "POST",
      headers: { "Content-Type": "application/json", Authorization: "Bearer " + token() },
      body: JSON.stringify(body || {}),
    });
    const data = await reply.json().catch(() => ({}));
    if (!reply.ok) throw new Error(data.error || `HTTP ${reply.status}`);
    return data;
  }
  async function launch(path, body) {
    say("");
    try {
      const reply = await post(path, body);
      if (!reply.run_id) { say(reply.message || reply.status); return; }  // nothing to retry
      location.hash = "#/live/" + encodeURIComponent(reply.run_id);
    } catch (err) {
      say(String(err.message || err), true);
    }
  }
  go.addEventListener("click", () => launch("/api/runs", {
    command: command.value, select: select.value.trim(), full_refresh: refresh.checked }));
  select.addEventListener("keydown", (e) => { if (e.key === "Enter") go.click(); });

  // picking: a click on a node adds it to (or takes it out of) the selection
  document.getElementById("nodes").addEventListener("click", (e) => {
    if (!picking.checked) return;
    const g = e.target.closest("g.node");
    if (!g) return;
    e.stopPropagation();
    e.preventDefault();
    const name = C.BY_ID.get(g.dataset.id).name;
    const words = select.value.split(/\s+/).filter(Boolean);
    const at = words.indexOf(name);
    if (at >= 0) words.splice(at, 1); else words.push(name);
    select.value = words.join(" ");
    g.classList.toggle("picked", at < 0);
  }, true);

  // ---- buttons on the pages -------------------------------------------------------
  function addButtons() {
    const hash = decodeURIComponent(location.hash.replace(/^#\/?/, ""));
    if (hash.startsWith("asset/")) {
      const n = C.BY_ID.get(hash.slice(6));
      if (!n || !["model", "seed", "snapshot", "python"].includes(n.resource_type)) return;
      const title = document.getElementById("asset-name");
      title.after(el("p", { class: "actions" },
        el("button", { id: "run-node", text: `Run ${n.name}` }), " ",
        el("button", { id: "run-node-upstream", text: `Run ${n.name} and its upstream` })));
      document.getElementById("run-node").addEventListener("click", () =>
        launch("/api/runs", { command: "run", select: n.name }));
      document.getElementById("run-node-upstream").addEventListener("click", () =>
        launch("/api/runs", { command: "run", select: "+" + n.name }));
    } else if (hash.startsWith("run/")) {
      const run = DATA.runs[0];
      if (!run || run.run_id !== hash.slice(4) || !run.nodes.some((n) => ["error", "fail", "skipped"].includes(n.status))) return;
      const title = document.getElementById("run-title");
      title.after(el("p", { class: "actions" }, el("button", { id: "retry-run", text: "Retry what failed or was skipped" })));
      document.getElementById("retry-run").addEventListener("click", () =>
        launch(`/api/runs/${encodeURIComponent(run.run_id)}/retry`, {}));
    } else if (hash.startsWith("live/")) {
      watch(hash.slice(5));
    }
  }
  window.addEventListener("hashchange", addButtons);

  // ---- a launched run, as it goes ---------------------------------------------------
  let watching = null;
  async function watch(runId) {
    const page = document.getElementById("live-view");
    for (const v of ["graph-view", "asset-view", "runs-view", "run-view"]) document.getElementById(v).hidden = true;
    page.hidden = false;
    watching = runId;
    while (watching === runId) {
      let state;
      try {
        const reply = await fetch("/api/runs/" + encodeURIComponent(runId));
        state = await reply.json();
        if (!reply.ok) throw new Error(state.error || `HTTP ${reply.status}`);
      } catch (err) {
        page.replaceChildren(el("h1", { text: "Run " + runId.slice(0, 8) }), el("p", { class: "bad", text: String(err.message || err) }));
        return;
      }
      const done = !["queued", "running"].includes(state.status);
      const cancel = done ? null : el("button", { id: "cancel-run", text: "Cancel" });
      page.replaceChildren(
        el("h1", { id: "live-title" }, (state.argv || []).join(" ") || `${state.command || "run"} ${state.selection || ""}`, chip(state.status)),
        el("p", { class: "muted" }, done ? "Finished." : "Updates every second. ", cancel),
        el("table", { id: "live-nodes" },
          el("tr", {}, ["node", "kind", "status", "message"].map((h) => el("th", { text: h }))),
          (state.nodes || []).map((n) => el("tr", { "data-id": n.unique_id },
            el("td", {}, el("a", { href: "#/asset/" + encodeURIComponent(n.unique_id), text: n.name })),
            el("td", { text: n.kind }), el("td", {}, chip(n.status)), el("td", { text: n.message || "" })))),
        el("h2", { text: "Console" }), el("pre", { id: "live-log", text: (state.log || []).join("\n") }));
      if (cancel) {
        cancel.addEventListener("click", async () => {
          cancel.disabled = true;
          try {
            await post(`/api/runs/${encodeURIComponent(runId)}/cancel`, {});
          } catch (err) {
            say(String(err.message || err), true);
          }
        });
      }
      if (done) {
        page.append(el("p", {}, el("a", { id: "live-reload", href: "#/run/" + encodeURIComponent(runId),
          text: "open the run with its history" })));
        document.getElementById("live-reload").addEventListener("click", (e) => {
          e.preventDefault();
          location.hash = "#/run/" + encodeURIComponent(runId);
          location.reload();  // the page again, with the history this run added
        });
        watching = null;
        return;
      }
      await new Promise((resolve) => setTimeout(resolve, 1000));
    }
  }
  window.addEventListener("hashchange", () => {
    if (!location.hash.startsWith("#/live/")) {
      watching = null;
      document.getElementById("live-view").hidden = true;
    }
  });
  addButtons();
})();
