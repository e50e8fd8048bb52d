/* The choose screen's search as a combobox (WAI-ARIA's "combobox with listbox popup", list
 * autocomplete): focus stays in the search box while ArrowDown/ArrowUp move through the
 * results (aria-activedescendant), Enter opens the active result (or the first), Escape
 * clears the search. The results stay real links, reachable by Tab too, so the screen works
 * without this script; "N systems found" is spoken from a live region that a search's answer
 * updates rather than replaces.
 */
(function () {
  "use strict";

  function parts() {
    var box = document.getElementById("system-search");
    var list = document.getElementById("system-list");
    var options = list ? Array.prototype.slice.call(list.querySelectorAll("a.system-card")) : [];
    var count = document.querySelector("#results [data-results-count]");
    return { box: box, list: list, options: options, answered: count ? count.dataset.query : null };
  }

  function enhance() {
    var found = parts();
    if (!found.box) return;
    var box = found.box;
    box.setAttribute("role", "combobox");
    box.setAttribute("aria-autocomplete", "list");
    box.setAttribute("aria-expanded", found.options.length ? "true" : "false");
    box.setAttribute("aria-controls", found.list ? found.list.id : "results");
    box.removeAttribute("aria-activedescendant");
    if (!found.list) return;
    found.list.setAttribute("role", "listbox");
    Array.prototype.forEach.call(found.list.children, function (item) { item.setAttribute("role", "none"); });
    found.options.forEach(function (option) {
      option.setAttribute("role", "option");
      option.setAttribute("aria-selected", "false");
    });
  }

  function activate(found, option) {
    found.options.forEach(function (each) {
      each.setAttribute("aria-selected", each === option ? "true" : "false");
      each.classList.toggle("is-active", each === option);
    });
    if (!option) return found.box.removeAttribute("aria-activedescendant");
    found.box.setAttribute("aria-activedescendant", option.id);
    option.scrollIntoView({ block: "nearest" });
  }

  function move(found, step) {
    var active = found.box.getAttribute("aria-activedescendant");
    var index = found.options.map(function (option) { return option.id; }).indexOf(active);
    var next = Math.min(index + step, found.options.length - 1);
    activate(found, next < 0 ? null : found.options[next]);
  }

  /* Enter picks what the results show for what is typed: if the answer to the last keys is
   * still on its way, the pick waits for it rather than opening a stale first result. */
  var pickWhenCurrent = false;
  var asked = 0;  // searches sent for a pick: an older answer may settle first
  function pick(found, settled) {
    var stale = found.answered !== found.box.value;  // the results answer another query
    if (stale && (!settled || asked < 3)) {
      pickWhenCurrent = true;
      asked = settled ? asked + 1 : 1;
      if (window.htmx) window.htmx.trigger(found.box, "search");
      return;
    }
    asked = 0;
    var active = document.getElementById(found.box.getAttribute("aria-activedescendant") || "");
    var option = active || found.options[0];
    if (option) option.click();
  }

  function onKey(event) {
    if (!event.target || event.target.id !== "system-search" || event.isComposing) return;
    var found = parts();
    if (event.key === "ArrowDown" || event.key === "ArrowUp") {
      event.preventDefault();
      move(found, event.key === "ArrowDown" ? 1 : -1);
    } else if (event.key === "Enter") {
      event.preventDefault();  // not a page load: the results are already here
      pick(found);
    } else if (event.key === "Escape") {
      activate(found, null);
      if (!found.box.value) return;
      event.preventDefault();
      found.box.value = "";
      if (window.htmx) window.htmx.trigger(found.box, "search");
    }
  }

  var spoken = "";
  function announceCount() {
    var status = document.getElementById("results-status");
    var count = document.querySelector("#results [data-results-count]");
    if (!status) return;
    var text = count ? count.textContent.trim() : "";
    status.textContent = "";
    spoken = text;
    // A moment's gap so that the same words as before are spoken again.
    window.setTimeout(function () { if (spoken === text) status.textContent = text; }, 100);
  }

  document.addEventListener("keydown", onKey);
  document.body.addEventListener("htmx:afterSettle", function (event) {
    var target = event.detail.target;
    if (!target || (target.id !== "results" && target.id !== "flow")) return;
    enhance();
    announceCount();
    if (pickWhenCurrent && target.id === "results") {
      pickWhenCurrent = false;
      pick(parts(), true);
    }
  });
  enhance();
  announceCount();
})();
