/* Inside the flow (iframe or hosted page): tell the partner's page what happens.
 *
 * Messages go to exactly the session's pinned origin, never "*", and carry
 * {source: "onramp", type, ...}. Screens mark what to announce with data attributes,
 * so no inline script is needed (strict CSP).
 */
(function () {
  "use strict";
  var body = document.body;
  var parentOrigin = body.dataset.parentOrigin || "";
  var framed = window.parent !== window;
  var linkSession = body.dataset.linkSession || "";

  function post(type, extra) {
    if (!framed || !parentOrigin) return;
    var message = { source: "onramp", type: type, link_session_id: linkSession };
    for (var key in extra) message[key] = extra[key];
    window.parent.postMessage(message, parentOrigin);
  }

  function metaOf(element) {
    var data = element.dataset;
    var meta = {};
    if (data.onrampSystem) meta.system = data.onrampSystem;
    if (data.onrampMethod) meta.method = data.onrampMethod;
    if (data.onrampError) meta.error_code = data.onrampError;
    return meta;
  }

  function announce(root) {
    var marked = root.querySelectorAll("[data-onramp-event]:not([data-announced])");
    if (root.matches && root.matches("[data-onramp-event]:not([data-announced])")) {
      marked = [root].concat(Array.prototype.slice.call(marked));
    }
    Array.prototype.forEach.call(marked, function (element) {
      element.setAttribute("data-announced", "");
      post("event", { name: element.dataset.onrampEvent, meta: metaOf(element) });
    });
    var success = root.querySelector("[data-onramp-success]:not([data-announced])");
    if (success) {
      success.setAttribute("data-announced", "");
      post("success", { public_token: success.dataset.publicToken, meta: metaOf(success) });
      if (!framed && success.dataset.returnUrl) {
        window.setTimeout(function () { window.location.assign(success.dataset.returnUrl); }, 2500);
      }
    }
    var closed = root.querySelector("[data-onramp-closed]:not([data-announced])");
    if (closed) {  // the link cannot be used any more (locked, expired…): once per screen
      closed.setAttribute("data-announced", "");
      post("event", { name: "ERROR", meta: { error_code: closed.dataset.onrampClosed } });
    }
  }

  function focusHeading() {
    var summary = document.querySelector("#flow [data-focus-first]");  // what to fix, first
    var heading = summary || document.querySelector("#flow h1");
    if (heading) heading.focus({ preventScroll: false });
  }

  function currentScreen() {
    var section = document.querySelector("#flow [data-screen]");
    return section ? section.dataset.screen : "";
  }

  /* Closing asks first once the user has made progress (not on the first screen, nor when
   * the flow is over): the link keeps their place, but they should not lose it by accident. */
  var CLOSE_AT_ONCE = ["choose", "done", "closed", ""];
  function requestClose() {
    var dialog = document.getElementById("leave-dialog");
    var over = document.querySelector("#flow [data-onramp-closed]");  // a locked link: nothing to lose
    if (over || CLOSE_AT_ONCE.indexOf(currentScreen()) >= 0 || !dialog || !dialog.showModal) return exit();
    if (!dialog.open) dialog.showModal();
  }

  function exit() {
    var url = body.dataset.exitUrl;
    var screen = currentScreen();
    var closed = document.querySelector("#flow [data-onramp-closed]");
    var error = closed ? { code: closed.dataset.onrampClosed } : null;
    if (!framed) return leaveHostedPage(url, screen);
    var data = new FormData();
    data.append("screen", screen);
    fetch(url, { method: "POST", body: data, keepalive: true, credentials: "omit" }).catch(function () {});
    post("event", { name: "EXIT", meta: { screen: screen } });
    post("exit", { error: error, meta: { screen: screen } });
  }

  /* A hosted page goes back to the partner's redirect_url (the server says where; a form
   * could not follow a redirect to another origin under form-action 'self'), or shows why. */
  function leaveHostedPage(url, screen) {
    var data = new FormData();
    data.append("screen", screen);
    data.append("hosted", "1");
    fetch(url, { method: "POST", body: data, headers: { "HX-Request": "true" }, credentials: "omit" })
      .then(function (response) {
        var next = response.headers.get("HX-Redirect");
        if (next) return window.location.assign(next);
        return response.text().then(function (html) {
          var flow = document.getElementById("flow");
          flow.innerHTML = html;
          focusHeading();
        });
      });
  }

  function copy(button) {
    var source = document.getElementById(button.dataset.copy);
    var text = source.value !== undefined ? source.value : source.textContent;
    var done = function () { button.textContent = button.dataset.copied || "Copied"; };
    if (navigator.clipboard) {
      navigator.clipboard.writeText(text).then(done, function () { select(source); });
    } else {
      select(source);
    }
  }

  function select(element) {
    var range = document.createRange();
    range.selectNodeContents(element);
    window.getSelection().removeAllRanges();
    window.getSelection().addRange(range);
  }

  /* Sign-in methods: from the iframe, the consent page opens in a popup, opened at the
   * click (browsers allow no other) and sent to the provider once the server has bound a
   * new sign-in to this session; meanwhile this page asks how the sign-in stands. */
  function signIn(event) {
    var form = event.target.closest && event.target.closest("form[data-sign-in]");
    if (!form || !framed) return;  // a hosted page signs in with a full redirect
    event.preventDefault();
    var popup = window.open("about:blank", "onramp-sign-in", "popup,width=520,height=720");
    if (!popup) {
      document.getElementById("popup-blocked").hidden = false;
      return;
    }
    form.querySelector("[name=in_popup]").value = "1";
    fetch(form.action, {
      method: "POST", body: new FormData(form), headers: { "HX-Request": "true" }, credentials: "omit"
    }).then(function (response) {
      var consent = response.headers.get("X-Sign-In-Url");
      if (consent) {
        popup.location.href = consent;
        var waiting = document.getElementById("sign-in-waiting");
        waiting.hidden = false;
        return waitForSignIn(waiting.dataset.statusUrl);
      }
      popup.close();
      return response.text().then(function (html) {  // the details again, saying what to fix
        var flow = document.getElementById("flow");
        flow.innerHTML = html;
        if (window.htmx) window.htmx.process(flow);
        focusHeading();
      });
    }).catch(function () { popup.close(); });
  }

  /* How the sign-in went comes from the server, never from the popup: a provider page that
   * isolates itself (Cross-Origin-Opener-Policy) looks closed to this page as soon as it
   * loads (Onramp's own start page does too), and its last page cannot message us. A long
   * wait only earns a hint; signing in again replaces the earlier sign-in. */
  var signInWait = null;
  function waitForSignIn(url) {
    if (signInWait) signInWait.done = true;
    var wait = signInWait = { done: false, since: Date.now() };
    function ask() {
      if (wait.done) return;
      var hint = document.getElementById("sign-in-closed");
      if (hint && Date.now() - wait.since > 10000) hint.hidden = false;
      fetch(url, { headers: { "HX-Request": "true" }, credentials: "omit" })
        .then(function (response) {
          if (wait.done) return;
          if (response.status === 204) return window.setTimeout(ask, 1000);
          wait.done = true;
          var next = response.headers.get("HX-Redirect");
          if (next) return window.location.assign(next);
          return response.text().then(function (html) {
            var section = document.getElementById("sign-in");
            section.outerHTML = html;
            var alert = document.querySelector("#sign-in [role=alert]");
            if (alert) {
              alert.setAttribute("tabindex", "-1");
              alert.focus();
            }
          });
        })
        .catch(function () { window.setTimeout(ask, 2000); });
    }
    window.addEventListener("message", function (event) {
      if (event.origin === window.location.origin && event.data && event.data.source === "onramp") ask();
    });
    window.setTimeout(ask, 1000);
  }

  document.addEventListener("submit", function (event) {
    var form = event.target.closest && event.target.closest("form[data-onramp-submit]");
    if (form) post("event", { name: "SUBMIT", meta: metaOf(document.querySelector("#flow [data-screen]")) });
  }, true);
  document.addEventListener("submit", signIn);
  document.addEventListener("click", function (event) {
    if (event.target.closest("[data-onramp-close]")) requestClose();
    var copyButton = event.target.closest("[data-copy]");
    if (copyButton) copy(copyButton);
  });
  document.addEventListener("keydown", function (event) {
    if (event.key !== "Escape") return;
    var dialog = document.getElementById("leave-dialog");
    if (dialog && dialog.open) return;  // the dialog's own Escape: stay
    var target = event.target;
    if (target.closest && target.closest("input, textarea, select, [contenteditable]")) return;
    requestClose();
  });
  document.addEventListener("click", function (event) {
    if (event.target.closest("[data-leave]")) {
      document.getElementById("leave-dialog").close();
      exit();
    }
    if (event.target.closest("[data-stay]")) document.getElementById("leave-dialog").close();
    var handoff = event.target.closest("[data-onramp-handoff]");
    if (handoff) {
      var where = metaOf(document.querySelector("#flow [data-screen]"));
      where.via = handoff.dataset.onrampHandoff;
      post("event", { name: "HANDOFF", meta: where });
    }
    var reveal = event.target.closest("[data-reveal]");
    if (reveal) {
      var input = document.getElementById(reveal.dataset.reveal);
      var show = input.type === "password";
      input.type = show ? "text" : "password";
      reveal.setAttribute("aria-pressed", show ? "true" : "false");
      reveal.textContent = show ? reveal.dataset.labelHide : reveal.dataset.labelShow;
    }
    var jump = event.target.closest("[data-focus-target]");
    if (jump) {
      event.preventDefault();
      var field = document.getElementById(jump.dataset.focusTarget);
      if (field) field.focus();
    }
  });
  /* What the end user types (non-secret fields only) is kept, to resume with it. */
  document.addEventListener("change", function (event) {
    var field = event.target.closest && event.target.closest("[data-draft]");
    var form = field && field.form;
    if (!form || !form.dataset.draftUrl) return;
    var data = new FormData();
    form.querySelectorAll("[data-draft]").forEach(function (input) { data.append(input.name, input.value); });
    fetch(form.dataset.draftUrl, { method: "POST", body: data, keepalive: true, credentials: "omit" }).catch(function () {});
  });
  /* The partner's page asks to close (its own Escape): the same as the close button. */
  window.addEventListener("message", function (event) {
    if (!framed || event.source !== window.parent || event.origin !== parentOrigin) return;
    var data = event.data;
    if (data && data.source === "onramp-host" && data.type === "close") {
      post("closing", {});  // heard: the host waits for the user's answer
      requestClose();
    }
  });
  /* The language menu returns to the screen shown now: htmx may have moved on since load. */
  document.addEventListener("submit", function (event) {
    if (!event.target.matches("[data-language-menu]")) return;
    var here = event.target.querySelector("[data-current-path]");
    if (here) here.value = window.location.pathname + window.location.search;
  });
  body.addEventListener("htmx:afterSettle", function (event) {
    if (event.detail.target && event.detail.target.id === "flow") focusHeading();
    announce(document);  // new content only (announced elements are marked); an outerHTML
  });                    // swap's target is already out of the page

  body.addEventListener("htmx:pushedIntoHistory", function () {
    post("navigate", { path: window.location.pathname });
  });
  post("ready", {});
  post("navigate", { path: window.location.pathname });
  announce(document);
  focusHeading();  // full page loads too: a screen reader starts at the new screen's title
})();
