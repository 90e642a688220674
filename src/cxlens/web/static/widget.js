// cxlens web widget: one survey in a small panel on the brand's own pages (docs/surveys.md).
//
//   <script src="https://cx.example.com/static/widget.js" data-key="cxw_…"
//           data-user-id="u-123" data-touchpoint="checkout" async></script>
//
// It runs in the HOST page, so it touches nothing but its own panel: no globals, no stylesheet
// (styles are set through element.style, which a host's CSP does not block, unlike style
// attributes or <style>), no cookies. It asks cxlens whether to show the survey (the server
// checks the page's origin and the contact-frequency rule) and, if so, shows the answer page in
// an iframe. It remembers in localStorage when it last asked, so a visitor browsing the site does
// not ask again on every page. Its outcome is written on the script tag as data-cxlens-state
// (shown, not-shown, asked-recently or failed) for the brand's developers and for tests.
(function () {
  "use strict";

  var script = document.currentScript;
  if (!script || !script.src) return;
  var key = script.getAttribute("data-key");
  if (!key) {
    console.warn("cxlens widget: the script tag has no data-key");
    return;
  }
  var server = new URL(script.src).origin;
  var ASKED = "cxlens:widget:" + key + ":asked_at";
  var ANONYMOUS = "cxlens:anonymous_id";
  var ASK_EVERY_MS = 24 * 60 * 60 * 1000; // the server's contact rule decides; this only spares requests
  var NARROW = 480;

  // localStorage throws when storage is disabled (privacy modes, sandboxed frames): work without it.
  function load(name) {
    try {
      return window.localStorage.getItem(name);
    } catch (err) {
      return null;
    }
  }

  function save(name, value) {
    try {
      window.localStorage.setItem(name, value);
    } catch (err) {
      /* nothing to remember with */
    }
  }

  function randomId() {
    if (window.crypto && window.crypto.randomUUID) return window.crypto.randomUUID();
    var bytes = new Uint8Array(16);
    window.crypto.getRandomValues(bytes);
    return Array.prototype.map
      .call(bytes, function (b) {
        return (b + 256).toString(16).slice(1);
      })
      .join("");
  }

  function visitor() {
    var body = {
      touchpoint: script.getAttribute("data-touchpoint") || null,
      locale: navigator.language || null,
    };
    var userId = script.getAttribute("data-user-id");
    if (userId) {
      body.user_id = userId;
      return body;
    }
    var anonymous = load(ANONYMOUS);
    if (!anonymous) {
      anonymous = "anon_" + randomId();
      save(ANONYMOUS, anonymous);
    }
    body.anonymous_id = anonymous;
    return body;
  }

  function style(el, rules) {
    Object.keys(rules).forEach(function (name) {
      el.style[name] = rules[name];
    });
    return el;
  }

  function placePanel(panel) {
    var narrow = window.innerWidth < NARROW;
    style(panel, {
      right: narrow ? "0" : "16px",
      bottom: narrow ? "0" : "16px",
      width: narrow ? "100%" : "360px",
      height: narrow ? "75vh" : "520px",
      maxHeight: narrow ? "100vh" : "calc(100vh - 32px)",
      borderRadius: narrow ? "12px 12px 0 0" : "12px",
    });
  }

  function closeButton(panel) {
    var button = document.createElement("button");
    button.type = "button";
    button.textContent = "\u00d7";
    button.setAttribute("aria-label", "Close the survey");
    style(button, {
      position: "absolute",
      top: "4px",
      right: "4px",
      width: "36px",
      height: "36px",
      border: "0",
      borderRadius: "18px",
      background: "#ffffff",
      color: "#1f2937",
      font: "24px/36px system-ui, sans-serif",
      cursor: "pointer",
      padding: "0",
    });
    button.addEventListener("click", function () {
      panel.remove();
    });
    return button;
  }

  function showPanel(url, brand) {
    // The brand (CXLENS_BRAND_NAME) names the panel; the page inside shows its name and logo.
    var label = brand ? "Survey from " + brand : "Survey";
    var panel = document.createElement("div");
    panel.setAttribute("role", "dialog");
    panel.setAttribute("aria-label", label);
    panel.setAttribute("data-cxlens-widget", key);
    style(panel, {
      position: "fixed",
      zIndex: "2147483000",
      background: "#ffffff",
      boxShadow: "0 8px 32px rgba(0, 0, 0, 0.25)",
      overflow: "hidden",
      boxSizing: "border-box",
      paddingTop: "40px",
    });
    placePanel(panel);
    var frame = document.createElement("iframe");
    frame.src = url;
    frame.title = label;
    // The survey page needs its scripts and forms; it may not navigate or open windows on the host page.
    frame.setAttribute("sandbox", "allow-forms allow-scripts allow-same-origin");
    style(frame, { width: "100%", height: "100%", border: "0", display: "block" });
    panel.appendChild(closeButton(panel));
    panel.appendChild(frame);
    document.body.appendChild(panel);
    window.addEventListener("resize", function () {
      placePanel(panel);
    });
  }

  function done(state) {
    script.setAttribute("data-cxlens-state", state);
  }

  function ask() {
    var asked = Number(load(ASKED) || 0);
    if (Date.now() - asked < ASK_EVERY_MS) return done("asked-recently");
    fetch(server + "/w/" + encodeURIComponent(key) + "/open", {
      method: "POST",
      mode: "cors",
      credentials: "omit",
      headers: { "Content-Type": "application/json", Accept: "application/json" },
      body: JSON.stringify(visitor()),
    })
      .then(function (response) {
        if (!response.ok) throw new Error("cxlens answered " + response.status);
        return response.json();
      })
      .then(function (answer) {
        save(ASKED, String(Date.now()));
        if (answer.show && answer.url) showPanel(answer.url, typeof answer.brand === "string" ? answer.brand : "");
        done(answer.show && answer.url ? "shown" : "not-shown");
      })
      .catch(function (err) {
        console.warn("cxlens widget: not shown (" + err.message + ")");
        done("failed");
      });
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", ask);
  else ask();
})();
