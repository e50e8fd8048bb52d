/* The demo partner page: open the flow, log what happens, show the connection. */
(function () {
  "use strict";
  var csrf = document.querySelector("meta[name=csrf-token]").content;
  var events = document.getElementById("events");
  var connection = document.getElementById("connection");
  var revokeButton = document.getElementById("revoke");
  var ordersButton = document.getElementById("orders");
  var connectButton = document.getElementById("connect");

  function log(text) {
    var item = document.createElement("li");
    item.textContent = new Date().toISOString().slice(11, 19) + "  " + text;
    events.appendChild(item);
    events.scrollTop = events.scrollHeight;
  }

  function backend(path, body) {
    return fetch(path, {
      method: "POST",
      headers: { "Content-Type": "application/json", "X-CSRFToken": csrf },
      body: JSON.stringify(body || {})
    }).then(function (response) { return response.json(); });
  }

  function show(pairs) {
    connection.innerHTML = "";
    pairs.forEach(function (pair) {
      var dt = document.createElement("dt");
      var dd = document.createElement("dd");
      dt.textContent = pair[0];
      dd.textContent = pair[1];
      connection.appendChild(dt);
      connection.appendChild(dd);
    });
  }

  function onSuccess(publicToken, meta) {
    log("onSuccess: public token received for " + (meta.system || "a system"));
    backend("exchange", { public_token: publicToken }).then(function (result) {
      if (!result.exchange) { log("exchange failed: " + JSON.stringify(result)); return; }
      log("POST /api/v1/token-exchange → " + result.exchange.connection_id);
      log("GET /api/v1/connection → " + result.introspection.status);
      var info = result.introspection.response || {};
      show([
        ["Connection", result.exchange.connection_id],
        ["System", result.exchange.system],
        ["Status", info.status || result.exchange.status],
        ["Access token", result.exchange.access_token],
        ["Config", JSON.stringify(info.config || {})]
      ]);
      revokeButton.hidden = false;
      ordersButton.hidden = result.exchange.system !== "sandbox-erp";  // the one that syncs here
    });
  }

  function cell(row, text) {
    var td = document.createElement("td");
    td.textContent = text;
    row.appendChild(td);
  }

  function showOrders(orders) {
    var rows = document.getElementById("orders-rows");
    rows.textContent = "";
    orders.forEach(function (order) {
      var row = document.createElement("tr");
      cell(row, order.number);
      cell(row, (order.vendor || {}).name || "");
      cell(row, (order.status || "").replace(/_/g, " "));
      cell(row, (order.total || "") + " " + (order.currency || ""));
      cell(row, String((order.lines || []).length));
      rows.appendChild(row);
    });
    document.getElementById("orders-panel").hidden = false;
  }

  if (connectButton) connectButton.addEventListener("click", function () {
    connectButton.disabled = true;
    backend("link-session").then(function (result) {
      connectButton.disabled = false;
      if (!result.response || !result.response.url) { log("link session failed: " + JSON.stringify(result)); return; }
      log("POST /api/v1/link-sessions → " + result.response.id);
      Onramp.open({
        url: result.response.url,
        onEvent: function (name, meta) { log("onEvent: " + name + (meta.system ? " (" + meta.system + ")" : "")); },
        onExit: function (error, meta) { log("onExit" + (error ? ": " + error.code : "")); },
        onSuccess: onSuccess
      });
    });
  });

  ordersButton.addEventListener("click", function () {
    ordersButton.disabled = true;
    backend("orders").then(function (result) {
      ordersButton.disabled = false;
      log("POST /api/v1/syncs (purchase_orders) → " + result.sync.status);
      log("GET /api/v1/purchase-orders → " + result.list.status);
      showOrders((result.list.response || {}).data || []);
    });
  });

  revokeButton.addEventListener("click", function () {
    backend("revoke").then(function (result) {
      log("DELETE /api/v1/connections/… → " + result.revoke.status);
      log("GET /api/v1/connection with the old token → " + result.introspection_after.status);
      show([["Status", "revoked — the token now gets " + result.introspection_after.status]]);
      revokeButton.hidden = true;
      ordersButton.hidden = true;
      document.getElementById("orders-panel").hidden = true;  // the customer's data is gone
    });
  });
})();
