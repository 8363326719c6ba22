/* Draws the episode charts: each .js-chart container names a JSON block (json_script) that holds
   a Plotly figure built on the server by reports/figures.py. No inline script, no other origin.

   plotly.js (our partial bundle, about 1 MB) is loaded by this script rather than by a <script>
   tag of its own, so it never holds up the page: the findings, the summaries and the fallback text
   in each chart's place are shown and usable (DOMContentLoaded fires) while it downloads, and the
   charts are drawn when it arrives. Each drawn container gets data-chart-drawn="1"; when all are,
   <html data-charts-drawn="all">, or "none" if plotly.js could not be loaded (the summaries
   describe the charts then). The browser tests and the benchmark wait on these. */
(function () {
  "use strict";

  var SCRIPT = document.currentScript;

  // A minimal mode bar: only "download as PNG" (for a letter). No Plotly logo and no link to
  // Plotly's cloud; zoom and pan stay off so a finger on a tablet scrolls the page.
  var CONFIG = {
    responsive: true,
    displaylogo: false,
    showLink: false,
    showSendToCloud: false,
    showEditInChartStudio: false,
    scrollZoom: false,
    doubleClick: false,
    modeBarButtons: [["toImage"]],
    toImageButtonOptions: { format: "png", scale: 2 },
  };

  function draw(container) {
    var block = document.getElementById(container.getAttribute("data-figure"));
    if (!block) {
      return Promise.resolve();
    }
    var figure = JSON.parse(block.textContent);
    container.textContent = "";
    // A responsive plot fills its container, so the container takes the figure's height (the
    // legend's extra rows on a narrow screen then come out of the plot, not over the summary).
    if (figure.layout && figure.layout.height) {
      container.style.height = figure.layout.height + "px";
    }
    return window.Plotly.newPlot(container, figure.data, figure.layout, CONFIG).then(function () {
      container.classList.add("is-drawn");
      container.setAttribute("data-chart-drawn", "1");
    });
  }

  function drawAll(containers) {
    var drawing = [];
    for (var i = 0; i < containers.length; i += 1) {
      drawing.push(draw(containers[i]));
    }
    Promise.all(drawing).then(function () {
      document.documentElement.setAttribute("data-charts-drawn", "all");
      // The moment the benchmark reports as "charts drawn" (bench/episode_page.py).
      if (window.performance && performance.mark) {
        performance.mark("pais:charts-drawn");
      }
    });
  }

  function start() {
    var containers = document.querySelectorAll(".js-chart");
    if (!containers.length) {
      return;
    }
    if (window.Plotly) {
      drawAll(containers);
      return;
    }
    var plotly = document.createElement("script");
    plotly.src = SCRIPT.getAttribute("data-plotly");
    plotly.onload = function () {
      drawAll(containers);
    };
    plotly.onerror = function () {
      // plotly.js did not load: the fallback text and the summaries stay in place.
      document.documentElement.setAttribute("data-charts-drawn", "none");
    };
    document.head.appendChild(plotly);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
