// cxlens pages: draws the Vega-Lite charts and sends the CSRF token with every HTMX request.
//
// The server's Content-Security-Policy allows scripts from /static only and no eval. So there are
// no inline scripts (chart specs travel in <script type="application/json"> blocks, which are data,
// not code), and charts run on vega-interpreter (`ast: true`) instead of vega's compiled
// expressions, which need `new Function`.
(function () {
  "use strict";

  var EMBED_OPTIONS = {
    actions: false,
    renderer: "svg",
    ast: true,
    expr: window.vega && window.vega.expressionInterpreter,
    // vega-embed and vega-tooltip would add <style> elements, which the CSP refuses (a console
    // error); their few rules are in app.css instead.
    defaultStyle: false,
    tooltip: { disableDefaultStyle: true },
  };

  // Chart element -> its vega-embed result (null while drawing): each chart is drawn once, and a
  // chart HTMX removes is finalised (charts sized to their container listen on the window).
  var charts = new WeakMap();

  function renderChart(el) {
    if (charts.has(el)) return;
    charts.set(el, null);
    var id = el.getAttribute("data-spec-id");
    var source = document.getElementById(id);
    if (!source) {
      console.error("cxlens: no chart spec with id " + id);
      return;
    }
    var spec;
    try {
      spec = JSON.parse(source.textContent);
    } catch (err) {
      console.error("cxlens: chart spec " + id + " is not valid JSON", err);
      return;
    }
    window
      .vegaEmbed(el, spec, EMBED_OPTIONS)
      .then(function (result) {
        if (el.isConnected) charts.set(el, result);
        else result.finalize(); // swapped out while it was drawing
      })
      .catch(function (err) {
        console.error("cxlens: chart " + id + " could not be drawn", err);
      });
  }

  function renderCharts() {
    // Pages without charts (customer pages) do not load the chart libraries at all.
    if (!document.querySelector(".chart[data-spec-id]")) return;
    if (typeof window.vegaEmbed !== "function" || !(window.vega && window.vega.expressionInterpreter)) {
      console.error("cxlens: the chart libraries did not load (static/vendor)");
      return;
    }
    document.querySelectorAll(".chart[data-spec-id]").forEach(renderChart);
  }

  document.addEventListener("htmx:configRequest", function (evt) {
    var meta = document.querySelector('meta[name="csrf-token"]');
    var token = meta && meta.getAttribute("content");
    if (token) evt.detail.headers["X-CSRF-Token"] = token;
  });

  // Charts in swapped-in content; those already drawn are skipped.
  document.addEventListener("htmx:afterSettle", renderCharts);

  document.addEventListener("htmx:beforeCleanupElement", function (evt) {
    var result = charts.get(evt.target);
    if (result) result.finalize();
    charts.delete(evt.target);
  });

  // Deferred scripts run once the document is parsed; the check keeps app.js correct if it is ever
  // loaded another way.
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", renderCharts);
  else renderCharts();
})();
