"""The charts of a page run under AppTest, as plotly figure dicts: lab.chart's element (the figure's
JSON) first, then any st.plotly_chart (figures with a trace type the cartesian bundle lacks)."""
from __future__ import annotations

import json


def chart_specs(at) -> list[dict]:
    ours = [json.loads(json.loads(c.proto.json)) for c in at.get("bidi_component")
            if c.proto.component_name == "mmlab_chart"]
    return ours + [json.loads(c.proto.spec) for c in at.get("plotly_chart")]
