// The runs list: says how many runs are selected for the bulk bar, and that "every matching
// run" replaces the selection. The list itself works without this script.
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
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", count);
  else count();
})();
