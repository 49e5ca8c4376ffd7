// A plotly figure drawn in the page (st.components.v2, no iframe) with our build of plotly.js,
// loaded once per page from the app's static files (lab/chart.py says why). A chart is drawn only
// while it is on screen or near it: one off screen keeps its figure and is drawn when scrolled to.
function plotly() {
  if (!window.__mmlabPlotly) {
    window.__mmlabPlotly = new Promise((resolve, reject) => {
      const script = document.createElement("script");
      script.src = "./app/static/plotly-lab.min.js";
      script.onload = () => resolve(quickArrayAttributes(window.Plotly));
      script.onerror = reject;
      document.head.appendChild(script);
    });
  }
  return window.__mmlabPlotly;
}

// plotly.js finds the attributes of a trace that hold arrays (PlotSchema.findArrayAttributes) at every
// calc, a frame's too, by crawling the trace type's whole attribute schema: 0.8 ms a scatter trace, 30 ms
// of each press on random intercepts' forty traces. The schema does not change, so its crawl is done
// once per trace type and recorded (the paths of attributes that may hold arrays, in crawl order); a
// trace then only looks at those paths. Same result, same order: plotly.js's own function with the crawl
// recorded, the walk below is its inner walk (tests/test_browser.py compares them on drawn charts).
function quickArrayAttributes(Plotly) {
  const schema = Plotly && Plotly.PlotSchema;
  if (!schema || typeof schema.findArrayAttributes !== "function" || typeof schema.crawl !== "function"
      || schema.findArrayAttributes.mmlabOriginal) return Plotly;
  const original = schema.findArrayAttributes;
  const isArrayLike = (v) => Array.isArray(v) || (ArrayBuffer.isView(v) && !(v instanceof DataView));
  const isPlain = (v) => Object.prototype.toString.call(v) === "[object Object]"  // plotly's isPlainObject
    && Object.getPrototypeOf(v).hasOwnProperty("hasOwnProperty");
  const known = new Map();  // a trace's module -> [[path names, linked-to-array flags]]
  function record(trace) {
    const paths = [], crawl = schema.crawl;
    schema.crawl = function (attrs, callback, depth) {
      if (depth !== undefined) return crawl.apply(this, arguments);  // a nested call: already recorded
      let names = [], linked = [];
      return crawl.call(this, attrs, function (attr, name, parent, level) {
        names = names.slice(0, level).concat([name]);
        linked = linked.slice(0, level).concat([attr && attr._isLinkedToArray]);
        if (attr && (attr.valType === "data_array" || attr.arrayOk === true)
            && !(names[level - 1] === "colorbar" && (name === "ticktext" || name === "tickvals"))) {
          paths.push([names, linked]);
        }
        return callback.apply(this, arguments);
      });
    };
    try { original(trace); } finally { schema.crawl = crawl; }
    return paths;
  }
  function walk(value, names, linked, u, prefix, out) {
    const here = value[names[u]], path = prefix + names[u];
    if (u === names.length - 1) {
      if (isArrayLike(here)) out.push(path);
    } else if (linked[u]) {
      if (Array.isArray(here)) {
        here.forEach((item, d) => isPlain(item) && walk(item, names, linked, u + 1, `${path}[${d}].`, out));
      }
    } else if (isPlain(here)) walk(here, names, linked, u + 1, `${path}.`, out);
  }
  const quick = function (trace) {
    const key = trace && trace._module;
    if (!key) return original(trace);
    if (!known.has(key)) known.set(key, record(trace));
    const out = [];
    for (const [names, linked] of known.get(key)) walk(trace, names, linked, 0, "", out);
    return out;
  };
  quick.mmlabOriginal = original;
  schema.findArrayAttributes = quick;
  return Plotly;
}

// Streamlit's look for charts where the figure does not set its own (the figures carry no template).
const FONT = { family: '"Source Sans", "Source Sans Pro", sans-serif', color: "#31333F" };
const GRID = "#e6eaf1";
const AXIS_TEXT = "#808495";

function axis(given) {
  const title = typeof given.title === "string" ? { text: given.title } : (given.title || {});
  return { gridcolor: GRID, zerolinecolor: GRID, automargin: true, ...given,
    tickfont: { color: AXIS_TEXT, ...(given.tickfont || {}) },
    title: { standoff: 8, ...title, font: { color: AXIS_TEXT, ...(title.font || {}) } } };
}

function themed(layout) {
  const out = { ...layout, font: { ...FONT, ...(layout.font || {}) } };
  if (layout.title) {  // Streamlit's: at the left, semibold
    const title = typeof layout.title === "string" ? { text: layout.title } : layout.title;
    out.title = { x: 0, xanchor: "left", ...title, font: { weight: 600, ...(title.font || {}) } };
  }
  for (const key of ["xaxis", "yaxis", ...Object.keys(layout).filter((k) => /^[xy]axis\d+$/.test(k))]) {
    out[key] = axis(layout[key] || {});
  }
  return out;
}

// A slider step that restyles traces and sets the title (mmcore/figures/sweeps.py: method "update") makes
// plotly redraw the whole figure, axes and legend included, at every step of a drag: ~35 ms of the main
// thread per step in the page. As an animation frame without redraw only the traces' data change; the
// title is set by a relayout of the title alone. Only steps that a frame plays exactly are converted (new
// x or y values of scatter traces, a new title); a slider with any other step is left as it is.
const FRAME = { mode: "immediate", frame: { duration: 0, redraw: false }, transition: { duration: 0 } };
const isObject = (v) => v !== null && typeof v === "object" && !Array.isArray(v);
const isScatter = (trace) => (trace.type || "scatter") === "scatter";
const sameJSON = (a, b) => JSON.stringify(a) === JSON.stringify(b);

function playable(step, traces) {
  if (step.method !== "update" || !Array.isArray(step.args) || step.args.length !== 3) return false;
  const [data, layout, indices] = step.args;
  return isObject(data) && (layout === null || layout === undefined || isObject(layout))
    && Array.isArray(indices) && indices.length > 0
    && indices.every((k) => Number.isInteger(k) && k >= 0 && k < traces.length && isScatter(traces[k]))
    && Object.entries(data).every(([key, values]) => (key === "x" || key === "y")
                                  && Array.isArray(values) && values.length === indices.length)
    && Object.keys(layout || {}).every((key) => key === "title.text");
}

function asFrames(layout, traces) {
  const frames = [], titles = new Map();
  if (!Array.isArray(layout.sliders)) return { frames, titles };
  layout.sliders = layout.sliders.map((slider, i) => {  // copies: the figure itself stays as it came
    if (!Array.isArray(slider.steps) || !slider.steps.every((step) => playable(step, traces))) return slider;
    return { ...slider, steps: slider.steps.map((step, j) => {
      const [data, title, indices] = step.args;
      const name = `mmlab-${i}-${j}`;
      frames.push({ name, traces: indices, data: indices.map((_, k) =>
        Object.fromEntries(Object.entries(data).map(([key, values]) => [key, values[k]]))) });
      titles.set(name, title || {});
      return { ...step, method: "animate", args: [[name], FRAME] };
    }) };
  });
  return { frames, titles };
}

function setTitle(Plotly, div, event) {
  const args = event && event.step && event.step.args;
  const name = Array.isArray(args) && Array.isArray(args[0]) ? args[0][0] : undefined;
  const title = div.mmlabTitles && div.mmlabTitles.get(name);
  if (title && Object.keys(title).length) Plotly.relayout(div, title);
}

// A new figure that differs from the drawn one only in its scatter traces' x and y values and point
// labels (text, textposition), in the ranges of axes the figure fixes (mmcore/figures/style.py:
// steady_range) and in its title is the same picture with the points moved: played as one animation
// frame without redraw, new ranges in the frame (plotly.js then redraws the axes and what is drawn in
// data units, not the legend), the title set apart by a relayout of the title alone. A slider press on
// random intercepts, whose pooling chart of ten panels Plotly.react redrew at 85-170 ms of the page's
// main thread; random slopes' intercept-slope plane, whose labels move with its points. Anything else
// (another layout, another trace, a trace that gains or loses labels, an axis that autoranges or is not
// linear, a figure with sliders, a view the student zoomed or whose legend they clicked) is drawn by
// Plotly.react, which also puts the view back to the figure's.
const withoutXY = ({ x, y, ...rest }) => rest;
const POINTWISE = ["x", "y", "text", "textposition"];  // what a frame moves
const withoutPoints = ({ x, y, text, textposition, ...rest }) =>
  ({ ...rest, text: text !== undefined, textposition: textposition !== undefined });
const isNumbers = (v) => (isObject(v) && typeof v.bdata === "string")  // plotly's typed-array spec
  || (Array.isArray(v) && v.every((e) => e === null || typeof e === "number"));

function fixedRange(layout, id, letter) {
  const seen = new Set();  // an axis takes its range from the one it matches
  for (let key = `${letter}axis${id.slice(1)}`; !seen.has(key); ) {
    seen.add(key);
    const ax = layout[key];
    if (!isObject(ax)) return false;
    if (typeof ax.matches === "string") {
      if (ax.matches[0] !== letter) return false;
      key = `${letter}axis${ax.matches.slice(1)}`;
      continue;
    }
    return Array.isArray(ax.range) && ax.range.length === 2 && ax.range.every(Number.isFinite)
      && [undefined, null, false].includes(ax.autorange) && [undefined, "-", "linear"].includes(ax.type);
  }
  return false;
}

// What a figure draws apart from its points and axis ranges, taken before plotly.js writes into the
// figure's objects; null when a frame cannot play it.
function outline(fig) {
  const layout = fig.layout || {}, data = fig.data || [];
  if (!data.length || fig.frames || layout.sliders || layout.updatemenus) return null;
  if (!data.every((t) => isScatter(t) && isNumbers(t.x) && isNumbers(t.y)
                         && fixedRange(layout, t.xaxis || "x", "x") && fixedRange(layout, t.yaxis || "y", "y"))) {
    return null;
  }
  const ranges = {}, rest = {};
  for (const [key, value] of Object.entries(layout)) {
    if (/^[xy]axis\d*$/.test(key) && isObject(value)) {
      ranges[key] = value.range;
      rest[key] = { ...value, range: null };
    } else if (key !== "title") rest[key] = value;
  }
  return { text: JSON.stringify([rest, data.map(withoutPoints)]), ranges, title: JSON.stringify(layout.title || null) };
}

// The frame that turns the drawn figure (its outline `was`) into `fig`, or null if it is another picture
// or the chart no longer shows `was` as drawn (zoomed, panned, autoscaled, a trace hidden from the legend).
function movedPoints(div, was, fig, now) {
  if (!was || !now || was.text !== now.text) return null;
  const shown = div.layout || {}, traces = div.data || [];
  for (const [key, range] of Object.entries(was.ranges)) {
    if (Array.isArray(range) && (!isObject(shown[key]) || shown[key].autorange
                                 || !sameJSON(shown[key].range, range))) return null;
  }
  if (fig.data.some((t, k) => !traces[k] || (traces[k].visible ?? true) !== (t.visible ?? true))) return null;
  const frame = { data: fig.data.map((t) => Object.fromEntries(POINTWISE.filter((key) => t[key] !== undefined)
                                                                  .map((key) => [key, t[key]]))),
                  traces: fig.data.map((_, k) => k) };
  const ranges = {};
  for (const [key, range] of Object.entries(now.ranges)) {
    if (!sameJSON(range, was.ranges[key])) ranges[`${key}.range`] = range;
  }
  const title = now.title === was.title ? null : themed({ title: fig.layout.title || { text: "" } }).title;
  return { frame: Object.keys(ranges).length ? { ...frame, layout: ranges } : frame, title };
}

// A figure whose slider the server follows (lab/chart.py: show's on_step) says where the student let go
// of it: the step's index, as the element's trigger "landed" (an event: the same step twice is said
// twice; one rerun per release, none while dragging). The server's next figure is the same with that
// step active (that step's points and title, which the chart played when the step was reached): the
// chart already shows it, so it is kept as it is, not redrawn.
const withoutActive = (fig) => JSON.stringify({ ...fig, mmlabReport: undefined, data: (fig.data || []).map(withoutXY),
  layout: { ...fig.layout, title: undefined } }, (key, value) => (key === "active" ? undefined : value));
const titleText = (title) => (typeof title === "string" ? title : (title && title.text) || "");

function showsAlready(div, fig) {
  const drawn = div.layout && Array.isArray(div.layout.sliders) ? div.layout.sliders : null;
  const wanted = fig.layout && Array.isArray(fig.layout.sliders) ? fig.layout.sliders : null;
  if (!drawn || !wanted || !div.mmlabSliderText || drawn.length !== wanted.length) return false;
  return wanted.every((s, i) => (s.active || 0) === (drawn[i].active || 0))
    && titleText(fig.layout.title) === titleText(div.layout.title) && div.mmlabSliderText === withoutActive(fig);
}

function report(div, event) {
  const slider = event && event.slider, step = event && event.step;
  const index = slider && Number.isInteger(slider.active) ? slider.active : step && step._index;
  if (div.mmlabReport && Number.isInteger(index)) div.mmlabReport("landed", index);
}

function draw(div) {
  const fig = div.mmlabFigure;
  if (!fig || div.mmlabDrawn === fig) return;
  div.mmlabDrawn = fig;
  // One drawing at a time per chart, each after the last has ended: plotly.js plays a frame at the next
  // animation frame, and a second frame asked for before then dropped the first one's new axis ranges
  // (tests/test_browser.py); in the same task, a Plotly.react was even undone by the pending frame.
  const last = div.mmlabChain || Promise.resolve();
  div.mmlabChain = last.then(plotly).then((Plotly) => {
    if (div.mmlabDrawn !== fig) return undefined;  // a newer figure came meanwhile: it is drawn next
    if (fig.mmlabReport && showsAlready(div, fig)) return undefined;
    const now = outline(fig);
    const moved = movedPoints(div, div.mmlabPlotted, fig, now);  // against what is on screen
    div.mmlabPlotted = now;
    if (moved) {
      const played = Plotly.animate(div, moved.frame, FRAME);
      return moved.title ? played.then(() => Plotly.relayout(div, { title: moved.title })) : played;
    }
    div.mmlabSliderText = fig.mmlabReport ? withoutActive(fig) : null;  // before plotly.js writes into fig
    const layout = themed(fig.layout || {});
    const data = (fig.data || []).map((trace) => ({ ...trace }));  // plotly writes a frame's values into these
    const { frames, titles } = asFrames(layout, data);
    div.mmlabTitles = titles;
    const drawn = Plotly.react(div, { data, layout, frames, config: { displaylogo: false, responsive: true } });
    // one listener per drawn figure: purge (the cleanup) removes plotly's listeners, react keeps them
    if (div.removeAllListeners) ["plotly_sliderchange", "plotly_sliderend"].forEach((e) => div.removeAllListeners(e));
    if (frames.length && div.on) div.on("plotly_sliderchange", (event) => setTitle(Plotly, div, event));
    if (fig.mmlabReport && div.on) div.on("plotly_sliderend", (event) => report(div, event));
    return drawn;
  }).catch(() => {  // a frame dropped from plotly.js's queue: the next figure is drawn in full
    div.mmlabPlotted = null;
  });
}

// Near the screen: within a screen's height of what shows, so a chart is drawn before it scrolls in.
// Streamlit scrolls inside its main element, so that element (the nearest scrolling ancestor) is the root.
const watchers = new Map();
const watched = new Set();  // every chart on the page, drawn or not: a printed page shows them all
window.addEventListener("beforeprint", () => watched.forEach((div) => {
  div.mmlabPlotted = null;  // drawn in full: a frame would be played after the page is printed
  draw(div);
}));
function scroller(div) {
  for (let el = div.parentElement; el; el = el.parentElement) {
    if (/(auto|scroll)/.test(getComputedStyle(el).overflowY)) return el;
  }
  return null;
}
function watch(div) {
  const root = scroller(div);
  if (!watchers.has(root)) {
    watchers.set(root, new IntersectionObserver((entries) => {
      for (const entry of entries) {
        entry.target.mmlabNear = entry.isIntersecting;
        if (entry.isIntersecting) draw(entry.target);
      }
    }, { root, rootMargin: "100% 0px" }));
  }
  div.mmlabWatcher = watchers.get(root);
  div.mmlabWatcher.observe(div);
  watched.add(div);
}

const decoder = new TextDecoder();

export default function (component) {
  const { data, parentElement } = component;
  let div = parentElement.querySelector("div.mmlab-chart");
  if (!div) {
    div = document.createElement("div");
    div.className = "mmlab-chart";
    div.style.width = "100%";
    parentElement.appendChild(div);
  }
  // The figure's JSON as UTF-8 bytes (lab/chart.py). A chart whose figure did not change is not called
  // again: Streamlit's frontend keeps an element whose message is the same.
  const fig = JSON.parse(decoder.decode(data));
  div.mmlabFigure = fig;
  div.mmlabReport = fig.mmlabReport ? component.setTriggerValue : null;
  div.style.minHeight = `${(fig.layout && fig.layout.height) || 450}px`;  // its place, drawn or not
  if (!div.mmlabWatched) {
    div.mmlabWatched = true;
    watch(div);
    let width = div.clientWidth;  // a drawn chart whose column changed width (a window resized, a tab shown)
    div.mmlabObserver = new ResizeObserver(() => {
      if (div.clientWidth && div.clientWidth !== width) {
        width = div.clientWidth;
        if (div.mmlabDrawn && window.Plotly) window.Plotly.Plots.resize(div);
      }
    });
    div.mmlabObserver.observe(div);
  } else if (div.mmlabNear) {
    draw(div);
  }
  return () => {
    // a superseded render's cleanup may run after the newer render: it must not undo that one
    if (div.mmlabFigure !== fig) return;
    if (div.mmlabObserver) div.mmlabObserver.disconnect();
    if (div.mmlabWatcher) div.mmlabWatcher.unobserve(div);
    watched.delete(div);
    div.mmlabWatched = false;
    div.mmlabDrawn = null;
    div.mmlabPlotted = null;
    div.mmlabSliderText = null;
    div.mmlabChain = null;  // purge stops a frame in play without settling its promise: start afresh
    if (window.Plotly) window.Plotly.purge(div);
  };
}
