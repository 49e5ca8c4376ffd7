"""What a page run under AppTest shows through elements AppTest does not name: lab.chart's charts,
lab.code's preformatted text, and lab.table's tables (Markdown)."""
from __future__ import annotations

import json
import re

import pandas as pd


def chart_specs(at) -> list[dict]:
    """The charts as plotly figure dicts: lab.chart's element (the figure's JSON) first, then any
    st.plotly_chart (figures with a trace type our plotly.js build lacks)."""
    ours = [json.loads(c.proto.bytes) for c in at.get("bidi_component")
            if c.proto.component_name == "mmlab_chart"]
    return ours + [json.loads(c.proto.spec) for c in at.get("plotly_chart")]


def _code_data(node) -> list[dict]:
    return [json.loads(c.proto.json) for c in node.get("bidi_component") if c.proto.component_name == "mmlab_code"]


def codes(node) -> list[str]:
    """The texts of lab.code_text in `node` (the app, or at.sidebar), in page order."""
    return [d["text"] for d in _code_data(node)]


def code_captions(node) -> list[str | None]:
    """The captions above lab.code_text's texts in `node` (the sidebar's link has one), in page order."""
    return [d.get("caption") for d in _code_data(node)]


def tables(at) -> list[pd.DataFrame]:
    """The Markdown tables on the page (lab.table, lab.truth_table, ...), as text: the first column
    is the index when its header is empty. A table may follow a heading in its element."""
    out = []
    for m in at.markdown:
        lines = m.value.strip().splitlines()
        # where the table starts: a row, then the line under its head (a heading may come first)
        start = next((i for i in range(len(lines) - 1) if lines[i].startswith("|") and lines[i + 1].startswith("|")
                      and not set(lines[i + 1]) - set("|:- ")), None)
        if start is None:
            continue
        lines = lines[start:]
        end = next((i for i, line in enumerate(lines) if not line.startswith("|")), len(lines))
        lines = lines[:end]  # the table ends where its rows do (text may follow)
        cell = lambda line: [c.strip().replace("\\|", "|") for c in re.split(r"(?<!\\)\|", line.strip()[1:-1])]  # noqa: E731
        head, rows = cell(lines[0]), [cell(line) for line in lines[2:]]
        frame = pd.DataFrame(rows, columns=head)
        out.append(frame.set_index(head[0]).rename_axis(None) if head[0] == "" else frame)
    return out
