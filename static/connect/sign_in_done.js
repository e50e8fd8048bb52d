/* The sign-in popup's last page: tell the flow (same origin as this page) and close. The
 * flow does not depend on this message: it polls the sign-in's status anyway. */
(function () {
  "use strict";
  var result = document.body.dataset.signInDone;
  if (window.opener && result) {
    try {
      window.opener.postMessage({ source: "onramp", type: "sign_in_" + result }, window.location.origin);
    } catch (e) { /* the opener navigated away */ }
    window.setTimeout(function () { window.close(); }, result === "ok" ? 600 : 4000);
  }
})();
