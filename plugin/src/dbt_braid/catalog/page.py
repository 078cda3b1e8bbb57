"""The catalog as one HTML file: the page's own template, stylesheet and script (real files
in ``catalog/static``), with the data inlined, so it opens offline from ``file://``.

The data is JSON in a ``<script type="application/json">`` tag, every ``<`` escaped, so no
name or message can end the tag early; the script builds the page with DOM text nodes,
never markup from the data.
"""

from __future__ import annotations

import html
import json
from collections.abc import Mapping
from importlib import resources
from typing import Any


def static(name: str) -> str:
    return resources.files("dbt_braid.catalog").joinpath("static").joinpath(name).read_text("utf-8")


def blob(data: Mapping[str, Any]) -> str:
    return json.dumps(data, sort_keys=True, default=str).replace("<", "\\u003c")


def to_html(data: Mapping[str, Any]) -> str:
    """The page for :func:`dbt_braid.catalog.model.catalog_data`'s ``data``."""
    parts = {
        "{{title}}": html.escape(str(data.get("title") or "braid catalog")),
        "{{css}}": static("catalog.css"),
        "{{js}}": static("catalog.js").replace("</", "<\\/"),
        # the actions of braid serve, only on a page it serves
        "{{serve_js}}": static("serve.js").replace("</", "<\\/") if data.get("live") else "",
        "{{data}}": blob(data),
    }
    text = static("catalog.html")
    # one pass, so a placeholder-like string inside the data is never replaced
    out, i = [], 0
    while True:
        j = text.find("{{", i)
        if j < 0:
            out.append(text[i:])
            break
        end = text.find("}}", j) + 2
        out.append(text[i:j])
        out.append(parts.get(text[j:end], text[j:end]))
        i = end
    return "".join(out)
