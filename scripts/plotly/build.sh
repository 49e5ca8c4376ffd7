#!/bin/sh
# Build static/plotly-lab.min.js: plotly.js (the version package.json pins, which must equal the one the
# Python package plotly ships) with only the trace types the app draws (entry.js). Needs Node.js and the
# npm registry; not part of `make test` (the built file is committed). esbuild's options are those of
# plotly.js's own esbuild-config.js for its dist bundles, without the plugins for WebGL shaders and map CSS
# (no such trace is included: the one CSS file required, maplibre's, is dropped).
set -eu
cd "$(dirname "$0")"
npm ci --ignore-scripts --no-audit --no-fund
version=$(node -p "require('plotly.js/package.json').version")
npx esbuild entry.js --bundle --minify --format=iife --global-name=Plotly --target=es2016 \
  --define:global=window --define:define.amd=false --loader:.css=empty --legal-comments=eof \
  --banner:js="/** plotly.js (mmlab: scatter, bar, box, contour, heatmap, histogram - minified) v$version. Copyright 2012-2026, Plotly, Inc. MIT license (plotly-LICENSE.txt). Built by scripts/plotly/build.sh. */" \
  --outfile=../../static/plotly-lab.min.js
