// plotly.js's core (scatter and the cartesian axes) with the trace types mmcore.figures draws: what
// lab/chart.py's TRACES lists. A figure with any other type is drawn by st.plotly_chart.
var Plotly = require('plotly.js/lib/core');

Plotly.register([
    require('plotly.js/lib/bar'),
    require('plotly.js/lib/box'),
    require('plotly.js/lib/contour'),
    require('plotly.js/lib/heatmap'),
    require('plotly.js/lib/histogram'),
]);

module.exports = Plotly;
