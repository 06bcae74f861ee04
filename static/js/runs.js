// The runs list: says how many runs are selected for the bulk bar, and that "every matching
// run" replaces the selection; keeps a bulk action's question and answers across live
// refreshes. The list itself works without this script.
(function () {
  "use strict";

  function count() {
    var label = document.querySelector("[data-bulk-count]");
    if (!label) return;
    var every = document.querySelector("[data-bulk-all]");
    var picked = document.querySelectorAll("#run-results [data-select]:checked").length;
    if (every && every.checked) label.textContent = "Every matching run";
    else label.textContent = picked ? picked + " selected" : "No run selected";
  }

  document.addEventListener("change", function (event) {
    var target = event.target;
    if (target && target.matches && target.matches("[data-select], [data-bulk-all]")) count();
  });
  document.addEventListener("htmx:after:swap", count);

  // Runs change as a bulk action goes through, and each change asks the list to refresh (a GET
  // from the list itself, live.js). Without this, the question before a bulk action and the
  // outcome per run would vanish before anyone could read them; they stay until the next
  // action or a change of filters replaces them.
  var KEPT = ":scope > .runs-notice, :scope > .bulk-results, :scope > .bulk-confirm";
  document.addEventListener("htmx:before:swap", function (event) {
    var ctx = event.detail && event.detail.ctx;
    var list = document.getElementById("run-results");
    // By id, not identity: a refresh asked for before the answer's swap comes from the list
    // that swap replaced.
    var source = ctx && ctx.sourceElement;
    if (!list || !source || source.id !== "run-results" || ctx.request.method !== "GET") return;
    var kept = list.querySelectorAll(KEPT);
    (event.detail.tasks || []).forEach(function (task) {
      var fresh = task.type === "main" && task.fragment && task.fragment.querySelector("#run-results");
      if (!fresh || fresh.querySelector(KEPT)) return;
      for (var i = kept.length - 1; i >= 0; i--) fresh.insertBefore(kept[i].cloneNode(true), fresh.firstChild);
    });
  });
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", count);
  else count();
})();
