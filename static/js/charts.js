/* Draws the episode charts: each .js-chart container names a JSON block (json_script) that holds
   a Plotly figure built on the server by reports/figures.py. No inline script, no other origin:
   plotly.js is loaded before this file from /static/vendor/plotly.min.js. */
(function () {
  "use strict";

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
      return;
    }
    var figure = JSON.parse(block.textContent);
    container.textContent = "";
    // A responsive plot fills its container, so the container takes the figure's height (the
    // legend's extra rows on a narrow screen then come out of the plot, not over the summary).
    if (figure.layout && figure.layout.height) {
      container.style.height = figure.layout.height + "px";
    }
    window.Plotly.newPlot(container, figure.data, figure.layout, CONFIG).then(function () {
      container.classList.add("is-drawn");
    });
  }

  function drawAll() {
    if (!window.Plotly) {
      // plotly.js did not load: the fallback text and the summaries stay in place.
      return;
    }
    var containers = document.querySelectorAll(".js-chart");
    for (var i = 0; i < containers.length; i += 1) {
      draw(containers[i]);
    }
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", drawAll);
  } else {
    drawAll();
  }
})();
