/* Onramp embed script for partners' pages.
 *
 *   <script src="https://ONRAMP/static/connect.js"></script>
 *   Onramp.open({url, onSuccess(publicToken, meta), onExit(error, meta), onEvent(name, meta)})
 *
 * Opens the flow in a modal iframe: the rest of the page is inert while it is open (focus
 * stays in the flow, whose own header has the close button). Only messages from the flow's
 * exact origin and from that iframe's window are accepted. The screen the user reached is
 * kept for the tab (sessionStorage), so opening the same link again continues there.
 * The "connected" screen stays until the user continues (or closes it); `closeDelay: ms`
 * closes it by itself that long after onSuccess.
 */
(function () {
  "use strict";
  var current = null;

  function style(element, rules) {
    for (var key in rules) element.style[key] = rules[key];
    return element;
  }

  function open(options) {
    if (!options || !options.url) throw new Error("Onramp.open needs {url}");
    if (current) current.close();
    var start = new URL(options.url, window.location.href);
    var flowOrigin = start.origin;
    var returnFocus = document.activeElement;
    var resumeKey = "onramp:" + start.href;

    var overlay = style(document.createElement("div"), {
      position: "fixed", inset: "0", background: "rgba(17, 24, 39, 0.55)", zIndex: "2147483000",
      display: "flex", alignItems: "center", justifyContent: "center"
    });
    var iframe = style(document.createElement("iframe"), {
      width: "min(560px, 100vw)", height: "min(760px, 100vh)", border: "0",
      borderRadius: "12px", background: "#fff", boxShadow: "0 20px 50px rgba(0,0,0,0.3)"
    });
    iframe.src = resumeAt(resumeKey, start) || start.href;
    iframe.title = options.title || "Connect your business system";
    iframe.setAttribute("referrerpolicy", "no-referrer");
    iframe.setAttribute("allow", "clipboard-write");
    overlay.setAttribute("role", "dialog");
    overlay.setAttribute("aria-modal", "true");
    overlay.setAttribute("aria-label", iframe.title);
    overlay.appendChild(iframe);
    var inerted = Array.prototype.filter.call(document.body.children, function (element) {
      return !element.inert;
    });
    inerted.forEach(function (element) { element.inert = true; });
    document.body.appendChild(overlay);
    iframe.focus();
    var ready = false;
    var opened = false;  // OPEN announced
    var selected = "";  // the system SELECT_SYSTEM last announced

    var finished = false;
    var closed = false;
    function close() {
      if (closed) return;
      closed = true;
      window.removeEventListener("message", onMessage);
      document.removeEventListener("keydown", onKey);
      inerted.forEach(function (element) { element.inert = false; });
      if (overlay.parentNode) overlay.parentNode.removeChild(overlay);
      if (returnFocus && returnFocus.focus) returnFocus.focus();
      current = null;
    }
    /* Closes the flow; the callback only if nothing ended it before (after onSuccess, the
     * user's Continue, the close button or Escape just close it). */
    function finish(callback, args) {
      var first = !finished;
      finished = true;
      close();
      if (first && typeof callback === "function") callback.apply(null, args);
    }
    /* Events as a partner counts them: OPEN once per open (a language switch reloads the
     * first screen), SELECT_SYSTEM once per system chosen, also for a system whose only
     * method skips the methods screen, and not again on Back to that screen. */
    function announce(name, meta) {
      if (typeof options.onEvent !== "function") return;
      if (name === "OPEN" && opened) return;
      if (name === "OPEN") opened = true;
      if (meta.system && meta.system !== selected) {
        selected = meta.system;
        if (name !== "SELECT_SYSTEM") options.onEvent("SELECT_SYSTEM", { link_session_id: meta.link_session_id, system: meta.system });
      } else if (name === "SELECT_SYSTEM") {
        return;
      }
      options.onEvent(name, meta);
    }
    function onMessage(event) {
      if (event.origin !== flowOrigin || event.source !== iframe.contentWindow) return;
      var data = event.data;
      if (!data || data.source !== "onramp" || typeof data.type !== "string") return;
      var meta = data.meta || {};
      meta.link_session_id = data.link_session_id;
      if (data.type === "ready") {
        if (!ready && typeof options.onEvent === "function") options.onEvent("READY", meta);
        ready = true;
      }
      if (data.type === "navigate" && typeof data.path === "string" && data.path.indexOf(start.pathname) === 0) {
        remember(resumeKey, flowOrigin + data.path);
      }
      if (data.type === "event") announce(data.name, meta);
      if (data.type === "success") {
        // The "connected" screen stays until the user continues, unless the partner asked
        // for it to close by itself (closeDelay, in milliseconds).
        if (finished) return;
        finished = true;
        remember(resumeKey, null);
        if (typeof options.onSuccess === "function") options.onSuccess(data.public_token, meta);
        if (typeof options.closeDelay === "number") window.setTimeout(close, Math.max(0, options.closeDelay));
      }
      if (data.type === "close" && finished) close();  // the user continued from "connected"
      if (data.type === "closing" || data.type === "exit") window.clearTimeout(unanswered);
      if (data.type === "exit") finish(options.onExit, [data.error || null, meta]);
    }
    var unanswered = null;
    function onKey(event) {
      if (event.key !== "Escape") return;
      // The flow decides (it may ask first). If it does not answer (not loaded, or an error
      // page in the frame), close anyway: the page must never be left inert.
      iframe.contentWindow.postMessage({ source: "onramp-host", type: "close" }, flowOrigin);
      window.clearTimeout(unanswered);
      unanswered = window.setTimeout(function () {
        finish(options.onExit, [null, { reason: "escape" }]);
      }, ready ? 800 : 0);
    }
    window.addEventListener("message", onMessage);
    document.addEventListener("keydown", onKey);
    current = { close: function () { finish(options.onExit, [null, { reason: "closed" }]); } };
    return current;
  }

  function resumeAt(key, start) {
    try {
      var saved = window.sessionStorage.getItem(key);
      return saved && saved.indexOf(start.origin + start.pathname) === 0 ? saved : null;
    } catch (error) {
      return null;  // storage blocked: start at the link itself (the server resumes too)
    }
  }

  function remember(key, url) {
    try {
      if (url) window.sessionStorage.setItem(key, url);
      else window.sessionStorage.removeItem(key);
    } catch (error) { /* storage blocked */ }
  }

  window.Onramp = { open: open };
})();
