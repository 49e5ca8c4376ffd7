// A plotly figure drawn in the page (st.components.v2, no iframe) with plotly.js's cartesian bundle,
// loaded once per page from the app's static files (lab/chart.py says why).
function plotly() {
  if (!window.__mmlabPlotly) {
    window.__mmlabPlotly = new Promise((resolve, reject) => {
      const script = document.createElement("script");
      script.src = "./app/static/plotly-cartesian.min.js";
      script.onload = () => resolve(window.Plotly);
      script.onerror = reject;
      document.head.appendChild(script);
    });
  }
  return window.__mmlabPlotly;
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

export default function (component) {
  const { data, parentElement } = component;
  let div = parentElement.querySelector("div.mmlab-chart");
  if (!div) {
    div = document.createElement("div");
    div.className = "mmlab-chart";
    div.style.width = "100%";
    parentElement.appendChild(div);
  }
  const fig = JSON.parse(data);
  plotly().then((Plotly) => {
    Plotly.react(div, fig.data, themed(fig.layout || {}), { displaylogo: false, responsive: true });
    if (!div.mmlabObserver) {  // a chart drawn while hidden (a closed tab or expander) takes its width when shown
      let width = div.clientWidth;
      div.mmlabObserver = new ResizeObserver(() => {
        if (div.clientWidth && div.clientWidth !== width) {
          width = div.clientWidth;
          Plotly.Plots.resize(div);
        }
      });
      div.mmlabObserver.observe(div);
    }
  });
  return () => {
    if (div.mmlabObserver) div.mmlabObserver.disconnect();
    div.mmlabObserver = null;
    if (window.Plotly) window.Plotly.purge(div);
  };
}
