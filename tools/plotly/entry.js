'use strict';

// plotly.js core (which carries the scatter trace) and the bar trace: the two trace types that
// reports/figures.py draws (go.Scatter, go.Bar). tests/reports/test_plotly_bundle.py fails if
// the figure builders start using another one.
var Plotly = require('plotly.js/lib/core');

Plotly.register([require('plotly.js/lib/scatter'), require('plotly.js/lib/bar')]);

module.exports = Plotly;
