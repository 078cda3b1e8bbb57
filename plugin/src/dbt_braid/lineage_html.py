"""The unified graph as one self-contained HTML page: ``braid lineage --format html``. Pure.

No CDN, no fonts, no external scripts: the page works offline from ``file://``. The layout is
computed here (left to right; a node's column is the longest path to it from a root, and
nodes in a column are ordered by the average position of their neighbours, a few sweeps
down and up, to keep crossings few) and drawn as inline SVG, so the picture is there even
without JavaScript. A small script adds the search box, the details panel and zoom. The
data (nodes with their upstream, downstream and last status) is one JSON blob in a
``<script type="application/json">`` tag, with every ``<`` escaped.
"""

from __future__ import annotations

import html
import json
from collections import deque
from collections.abc import Mapping, Sequence
from typing import Any

from dbt_braid.lineage_views import DEFAULT_STYLE, STYLE

NODE_H = 30
ROW_GAP = 12
COL_GAP = 56
MARGIN = 24
MIN_W, MAX_W = 150, 240
CHAR_W = 7.0  # px per character of the 12px sans-serif label, roughly
LABEL_ROOM = 66  # badge on the left, status dot on the right

#: resource type -> its letter badge, so the kind reads even in greyscale
BADGE = {
    "python": "Py",
    "model": "M",
    "seed": "Sd",
    "snapshot": "Sn",
    "source": "Src",
    "exposure": "Ex",
}
#: order of kinds inside a column before the crossing sweeps
KIND_RANK = {"seed": 0, "source": 1, "snapshot": 2, "model": 3, "python": 4, "exposure": 5}
STATUS_COLOUR = {
    "success": "#16a34a",
    "pass": "#16a34a",
    "warn": "#d97706",
    "error": "#dc2626",
    "fail": "#dc2626",
    "skipped": "#9ca3af",
}


def layout(payload: Mapping[str, Any]) -> dict[str, tuple[int, int]]:
    """unique_id -> (column, row): column = longest path from a root, rows sorted to keep
    edges from crossing (barycentre of the neighbours' relative positions)."""
    ids = [n["unique_id"] for n in payload["nodes"]]
    kind = {n["unique_id"]: n["resource_type"] for n in payload["nodes"]}
    name = {n["unique_id"]: n["name"] for n in payload["nodes"]}
    parents: dict[str, list[str]] = {u: [] for u in ids}
    children: dict[str, list[str]] = {u: [] for u in ids}
    for edge in payload["edges"]:
        a, b = edge["from"], edge["to"]
        if a in parents and b in parents and a != b:
            parents[b].append(a)
            children[a].append(b)
    column = dict.fromkeys(ids, 0)
    waiting = {u: len(parents[u]) for u in ids}
    queue = deque(u for u in ids if waiting[u] == 0)
    while queue:
        u = queue.popleft()
        for child in children[u]:
            column[child] = max(column[child], column[u] + 1)
            waiting[child] -= 1
            if waiting[child] == 0:
                queue.append(child)
    # a cycle (never in a valid project) leaves its nodes where they were last pushed
    width = max(column.values(), default=0) + 1
    columns: list[list[str]] = [[] for _ in range(width)]
    for u in sorted(ids, key=lambda u: (KIND_RANK.get(kind[u], 9), name[u], u)):
        columns[column[u]].append(u)

    def place() -> dict[str, float]:
        return {u: (i + 0.5) / len(col) for col in columns for i, u in enumerate(col)}

    where = place()
    for _ in range(4):
        for direction in (parents, children):
            order = range(1, width) if direction is parents else range(width - 2, -1, -1)
            for c in order:
                def key(u: str, near: dict[str, list[str]] = direction) -> float:
                    seen = [where[v] for v in near[u]]
                    return sum(seen) / len(seen) if seen else where[u]

                columns[c].sort(key=key)
                where.update({u: (i + 0.5) / len(columns[c]) for i, u in enumerate(columns[c])})
    return {u: (c, i) for c, col in enumerate(columns) for i, u in enumerate(col)}


def _status_dict(status: Any) -> dict[str, Any] | None:
    if status is None:
        return None
    if hasattr(status, "to_dict"):
        status = status.to_dict()
    keep = ("last_run", "last_status", "state", "reason")
    return {k: status.get(k) for k in keep}


def page_data(
    payload: Mapping[str, Any], statuses: Mapping[str, Any] | None
) -> dict[str, Any]:
    """What the page's script reads: nodes with their neighbours and last status."""
    names = {n["unique_id"]: n["name"] for n in payload["nodes"]}
    up: dict[str, list[str]] = {u: [] for u in names}
    down: dict[str, list[str]] = {u: [] for u in names}
    for edge in payload["edges"]:
        if edge["from"] in names and edge["to"] in names:
            up[edge["to"]].append(edge["from"])
            down[edge["from"]].append(edge["to"])
    nodes = []
    for node in payload["nodes"]:
        uid = node["unique_id"]
        item = {
            k: node[k]
            for k in (
                "unique_id", "name", "resource_type", "package_name", "relation", "path",
                "python", "python_file", "declared_by", "source_name", "tags",
            )
            if node.get(k)
        }
        item["upstream"] = sorted(up[uid], key=lambda u: names[u])
        item["downstream"] = sorted(down[uid], key=lambda u: names[u])
        item["status"] = _status_dict(statuses.get(uid)) if statuses is not None else None
        nodes.append(item)
    return {"history": statuses is not None, "nodes": nodes}


def _node_width(payload: Mapping[str, Any]) -> int:
    """Wide enough for 19 names in 20; the longest few are cut (whole in the panel)."""
    lengths = sorted(len(n["name"]) for n in payload["nodes"]) or [10]
    usual = lengths[int(0.95 * (len(lengths) - 1))]
    return int(min(MAX_W, max(MIN_W, usual * CHAR_W + LABEL_ROOM)))


def _fit(text: str, width: int) -> str:
    room = int((width - LABEL_ROOM) / CHAR_W)
    return text if len(text) <= room else text[: max(room - 1, 1)] + "\u2026"


def _shape(kind: str, w: int, h: int) -> str:
    _, fill = STYLE.get(kind, DEFAULT_STYLE)
    if kind == "python":
        return (f'<rect class="shape" width="{w}" height="{h}" rx="{h / 2}" fill="{fill}" '
                'stroke="#b45309" stroke-width="2"/>')
    if kind == "source":
        r = 5
        return (f'<path class="shape" d="M0,{r} A{w / 2},{r} 0 0 1 {w},{r} V{h - r} '
                f'A{w / 2},{r} 0 0 1 0,{h - r} Z" fill="{fill}" stroke="#4b5563"/>'
                f'<path d="M0,{r} A{w / 2},{r} 0 0 0 {w},{r}" fill="none" stroke="#4b5563"/>')
    if kind == "exposure":
        return (f'<path class="shape" d="M0,0 H{w - 12} L{w},{h / 2} L{w - 12},{h} H0 Z" '
                f'fill="{fill}" stroke="#4b5563"/>')
    dash = ' stroke-dasharray="4 2"' if kind == "seed" else ""
    return (f'<rect class="shape" width="{w}" height="{h}" rx="4" fill="{fill}" '
            f'stroke="#4b5563"{dash}/>')


def _status_mark(status: Mapping[str, Any] | None, w: int, h: int) -> str:
    if status is None:
        return ""
    colour = STATUS_COLOUR.get(str(status.get("last_status")), "#ffffff")
    ring = {"stale": "#ea580c", "fresh": "#16a34a"}.get(str(status.get("state")), "#9ca3af")
    return (f'<circle class="status" cx="{w - 14}" cy="{h / 2}" r="6" fill="{colour}" '
            f'stroke="{ring}" stroke-width="2.5"/>')


def _svg(payload: Mapping[str, Any], data: Mapping[str, Any]) -> str:
    places = layout(payload)
    w = _node_width(payload)
    rows_per_col: dict[int, int] = {}
    for c, _ in places.values():
        rows_per_col[c] = rows_per_col.get(c, 0) + 1
    tallest = max(rows_per_col.values(), default=1)
    step = NODE_H + ROW_GAP

    def xy(uid: str) -> tuple[float, float]:
        c, r = places[uid]
        shift = (tallest - rows_per_col[c]) * step / 2
        return MARGIN + c * (w + COL_GAP), MARGIN + shift + r * step

    width = MARGIN * 2 + (max(rows_per_col, default=0) + 1) * (w + COL_GAP) - COL_GAP
    height = MARGIN * 2 + tallest * step - ROW_GAP
    out = [
        f'<svg id="graph" xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" data-width="{width}" data-height="{height}">',
        '<defs><marker id="arrow" viewBox="0 0 8 8" refX="8" refY="4" markerWidth="7" '
        'markerHeight="7" orient="auto"><path d="M0,0 L8,4 L0,8 Z" fill="#94a3b8"/></marker>'
        '</defs><g id="edges">',
    ]
    index = {n["unique_id"]: i for i, n in enumerate(payload["nodes"])}
    for edge in payload["edges"]:
        a, b = edge["from"], edge["to"]
        if a not in places or b not in places:
            continue
        (x1, y1), (x2, y2) = xy(a), xy(b)
        x1, y1, y2 = x1 + w, y1 + NODE_H / 2, y2 + NODE_H / 2
        bend = max((x2 - x1) / 2, 30)
        out.append(
            f'<path class="edge" data-from="{index[a]}" data-to="{index[b]}" '
            f'd="M{x1:.1f},{y1:.1f} C{x1 + bend:.1f},{y1:.1f} {x2 - bend:.1f},{y2:.1f} '
            f'{x2:.1f},{y2:.1f}" marker-end="url(#arrow)"/>'
        )
    out.append('</g><g id="nodes">')
    for i, node in enumerate(data["nodes"]):
        uid, kind = node["unique_id"], node["resource_type"]
        x, y = xy(uid)
        label = html.escape(_fit(node["name"], w))
        out.append(
            f'<g class="node kind-{html.escape(kind)}" data-i="{i}" '
            f'data-id="{html.escape(uid)}" transform="translate({x:.1f},{y:.1f})" tabindex="0">'
            f"<title>{html.escape(uid)}</title>{_shape(kind, w, NODE_H)}"
            f'<text class="badge" x="12" y="{NODE_H / 2 + 4}">'
            f"{html.escape(BADGE.get(kind, kind[:2]))}</text>"
            f'<text class="label" x="40" y="{NODE_H / 2 + 4}">{label}</text>'
            f"{_status_mark(node['status'], w, NODE_H)}</g>"
        )
    out.append("</g></svg>")
    return "".join(out)


def _legend() -> str:
    items = []
    for kind in ("model", "python", "seed", "source", "snapshot", "exposure"):
        _, fill = STYLE[kind]
        radius = "9px" if kind == "python" else "3px"
        border = "2px solid #b45309" if kind == "python" else "1px solid #4b5563"
        items.append(
            f'<span class="key"><i style="background:{fill};border:{border};'
            f'border-radius:{radius}"></i>{BADGE[kind]} {kind}</span>'
        )
    items.append('<span class="key"><b class="dot" style="background:#16a34a;'
                 'border-color:#16a34a"></b>success, fresh</span>')
    items.append('<span class="key"><b class="dot" style="background:#16a34a;'
                 'border-color:#ea580c"></b>stale</span>')
    items.append('<span class="key"><b class="dot" style="background:#dc2626;'
                 'border-color:#ea580c"></b>error</span>')
    return "".join(items)


CSS = """
*{box-sizing:border-box}
body{margin:0;font:13px/1.4 system-ui,-apple-system,"Segoe UI",Helvetica,Arial,sans-serif;
color:#111827;background:#f8fafc;display:flex;flex-direction:column;height:100vh}
header{display:flex;flex-wrap:wrap;gap:8px 16px;align-items:center;padding:8px 14px;
background:#fff;border-bottom:1px solid #e5e7eb}
header h1{font-size:15px;margin:0}
#search{width:260px;padding:5px 8px;border:1px solid #cbd5e1;border-radius:6px;font:inherit}
#count{color:#6b7280;min-width:90px}
.legend{display:flex;flex-wrap:wrap;gap:4px 12px;color:#374151;font-size:12px}
.key{display:inline-flex;align-items:center;gap:5px}
.key i{display:inline-block;width:22px;height:14px}
.dot{display:inline-block;width:12px;height:12px;border-radius:50%;border:2.5px solid}
.zoom button{font:inherit;padding:2px 8px;border:1px solid #cbd5e1;background:#fff;
border-radius:5px;cursor:pointer}
#history{padding:2px 8px;border-radius:10px;background:#fef3c7;color:#92400e;font-size:12px}
main{flex:1;display:flex;min-height:0}
#canvas{flex:1;overflow:auto;min-width:0}
#panel{width:340px;border-left:1px solid #e5e7eb;background:#fff;padding:12px 14px;
overflow:auto;font-size:12.5px}
#panel h2{font-size:15px;margin:0 0 2px;word-break:break-all}
#panel dl{margin:8px 0;display:grid;grid-template-columns:92px 1fr;gap:4px 8px}
#panel dt{color:#6b7280}
#panel dd{margin:0;word-break:break-all}
#panel ul{margin:0;padding-left:16px}
#panel a{color:#1d4ed8;cursor:pointer;text-decoration:underline}
.state-fresh{color:#15803d;font-weight:600}
.state-stale{color:#c2410c;font-weight:600}
.state-unknown{color:#6b7280;font-weight:600}
.hint{color:#6b7280}
.node{cursor:pointer}
.node text{font-size:12px;fill:#111827;pointer-events:none}
.node .badge{font-size:10px;font-weight:700;fill:#374151}
.node:hover .shape,.node:focus .shape{stroke:#1d4ed8;stroke-width:2}
.node.selected .shape{stroke:#1d4ed8;stroke-width:3}
.node.hit .shape{stroke:#db2777;stroke-width:3}
.node.dim{opacity:.18}
.edge{fill:none;stroke:#94a3b8;stroke-width:1.3}
.edge.dim{opacity:.12}
.edge.lit{stroke:#1d4ed8;stroke-width:2.2;opacity:1}
"""

SCRIPT = r"""
(function () {
  "use strict";
  var data = JSON.parse(document.getElementById("braid-lineage-data").textContent);
  var nodes = data.nodes;
  var byId = {};
  nodes.forEach(function (n, i) { byId[n.unique_id] = i; });
  var groups = Array.prototype.slice.call(document.querySelectorAll("#nodes .node"));
  var edges = Array.prototype.slice.call(document.querySelectorAll("#edges .edge"));
  var svg = document.getElementById("graph");
  var canvas = document.getElementById("canvas");
  var panel = document.getElementById("panel");
  var search = document.getElementById("search");
  var count = document.getElementById("count");
  var selected = -1;
  var scale = 1;

  function el(tag, text, cls) {
    var e = document.createElement(tag);
    if (text !== undefined && text !== null) { e.textContent = String(text); }
    if (cls) { e.className = cls; }
    return e;
  }
  function row(dl, key, value) {
    dl.appendChild(el("dt", key));
    var dd = el("dd");
    if (value instanceof Node) { dd.appendChild(value); } else { dd.textContent = value; }
    dl.appendChild(dd);
  }
  function links(ids) {
    if (!ids.length) { return el("span", "none", "hint"); }
    var ul = el("ul");
    ids.forEach(function (uid) {
      var li = el("li");
      var a = el("a", nodes[byId[uid]].name);
      a.title = uid;
      a.addEventListener("click", function () { select(byId[uid], true); });
      li.appendChild(a);
      ul.appendChild(li);
    });
    return ul;
  }
  function reveal(i) {
    var g = groups[i];
    var box = g.getBBox();
    var m = g.transform.baseVal.consolidate().matrix;
    var x = (m.e + box.width / 2) * scale, y = (m.f + box.height / 2) * scale;
    canvas.scrollTo({left: x - canvas.clientWidth / 2, top: y - canvas.clientHeight / 2});
  }
  function select(i, scroll) {
    if (selected >= 0) { groups[selected].classList.remove("selected"); }
    selected = i;
    groups[i].classList.add("selected");
    edges.forEach(function (e) {
      var lit = +e.dataset.from === i || +e.dataset.to === i;
      e.classList.toggle("lit", lit);
    });
    var n = nodes[i];
    panel.textContent = "";
    panel.appendChild(el("h2", n.name));
    panel.appendChild(el("div", n.resource_type, "hint"));
    var dl = el("dl");
    row(dl, "unique_id", n.unique_id);
    row(dl, "relation", n.relation || "\u2014");
    if (n.resource_type === "python") {
      row(dl, "function", n.python || "\u2014");
      row(dl, "python file", n.python_file || "\u2014");
      row(dl, "declared in", n.path || "\u2014");
    } else {
      row(dl, n.resource_type === "model" || n.resource_type === "snapshot" ? "SQL" : "file",
          n.path || "\u2014");
    }
    if (n.tags && n.tags.length) { row(dl, "tags", n.tags.join(", ")); }
    var s = n.status;
    if (!data.history) {
      row(dl, "last run", "no history");
    } else if (!s) {
      row(dl, "last run", "not materialized by braid");
    } else {
      row(dl, "last status", s.last_status || "never run");
      row(dl, "last run", s.last_run || "\u2014");
      row(dl, "state", el("span", s.state, "state-" + s.state));
      row(dl, "why", s.reason);
    }
    row(dl, "upstream", links(n.upstream));
    row(dl, "downstream", links(n.downstream));
    panel.appendChild(dl);
    if (scroll) { reveal(i); }
  }
  groups.forEach(function (g, i) {
    g.addEventListener("click", function () { select(i, false); });
    g.addEventListener("keydown", function (ev) {
      if (ev.key === "Enter" || ev.key === " ") { ev.preventDefault(); select(i, false); }
    });
  });
  function filter() {
    var q = search.value.trim().toLowerCase();
    var hits = [];
    groups.forEach(function (g, i) {
      var n = nodes[i];
      var match = !q || n.name.toLowerCase().indexOf(q) >= 0 ||
        n.unique_id.toLowerCase().indexOf(q) >= 0;
      g.classList.toggle("dim", !match);
      g.classList.toggle("hit", !!q && match);
      if (q && match) { hits.push(i); }
    });
    edges.forEach(function (e) { e.classList.toggle("dim", !!q); });
    count.textContent = q ? hits.length + " of " + nodes.length + " match" :
      nodes.length + " nodes";
    return hits;
  }
  search.addEventListener("input", function () {
    var hits = filter();
    if (hits.length && search.value.trim()) { reveal(hits[0]); }
  });
  search.addEventListener("keydown", function (ev) {
    if (ev.key === "Enter") {
      var hits = filter();
      if (hits.length) { select(hits[0], true); }
    }
  });
  function zoom(to) {
    scale = Math.max(0.1, Math.min(3, to));
    svg.setAttribute("width", +svg.dataset.width * scale);
    svg.setAttribute("height", +svg.dataset.height * scale);
  }
  document.getElementById("zoom-in").addEventListener("click", function () {
    zoom(scale * 1.25);
  });
  document.getElementById("zoom-out").addEventListener("click", function () {
    zoom(scale / 1.25);
  });
  function fitScale() {
    return Math.min(canvas.clientWidth / +svg.dataset.width,
                    canvas.clientHeight / +svg.dataset.height, 1);
  }
  document.getElementById("zoom-fit").addEventListener("click", function () {
    zoom(fitScale());
  });
  document.getElementById("zoom-reset").addEventListener("click", function () { zoom(1); });
  // a small graph starts whole on screen; a big one at 100%, where labels stay readable
  if (fitScale() >= 0.75) { zoom(fitScale()); }
  filter();
})();
"""


def _blob(data: Mapping[str, Any]) -> str:
    # `<` escaped everywhere, so neither `</script>` nor `<!--` can end the tag early
    return json.dumps(data, sort_keys=True).replace("<", "\\u003c")


def to_html(
    payload: Mapping[str, Any],
    statuses: Mapping[str, Any] | None = None,
    title: str = "braid lineage",
) -> str:
    """The page for lineage.json's ``payload``; ``statuses`` (unique_id -> NodeStatus or its
    dict) from braid's history, or None when there is no history to show."""
    data = page_data(payload, statuses)
    n_python = sum(1 for n in payload["nodes"] if n["resource_type"] == "python")
    summary = (f"{len(payload['nodes'])} nodes ({n_python} Python), "
               f"{len(payload['edges'])} edges")
    history = "" if statuses is not None else '<span id="history">no history</span>'
    hint = ("Click a node for its details. Type in the search box to find nodes by name; "
            "Enter jumps to the first match.")
    return "".join([
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">",
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{html.escape(title)}</title><style>{CSS}</style></head><body>",
        f"<header><h1>{html.escape(title)}</h1>",
        '<input id="search" type="search" placeholder="Search nodes by name" '
        'autocomplete="off" aria-label="Search nodes">',
        '<span id="count"></span><span class="zoom"><button id="zoom-out" title="zoom out">'
        '\u2212</button> <button id="zoom-in" title="zoom in">+</button> '
        '<button id="zoom-fit">fit</button> <button id="zoom-reset">100%</button></span>',
        f"{history}<span class=\"hint\">{html.escape(summary)}</span>",
        f'<div class="legend">{_legend()}</div></header>',
        f'<main><div id="canvas">{_svg(payload, data)}</div>',
        f'<aside id="panel"><p class="hint">{html.escape(hint)}</p></aside></main>',
        f'<script type="application/json" id="braid-lineage-data">{_blob(data)}</script>',
        f"<script>{SCRIPT}</script></body></html>\n",
    ])


def with_python_functions(
    payload: Mapping[str, Any], functions: Mapping[str, str]
) -> dict[str, Any]:
    """The payload with each Python asset's ``python:`` (module.function) added."""
    nodes: Sequence[Mapping[str, Any]] = payload["nodes"]
    return {
        "nodes": [
            {**n, "python": functions[n["unique_id"]]} if n["unique_id"] in functions else dict(n)
            for n in nodes
        ],
        "edges": list(payload["edges"]),
    }
