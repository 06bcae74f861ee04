// The cockpit's clocks: time in state and the countdowns of delayed transitions tick every
// second between live refreshes; "Add a field" adds a row to the event-data form.
(function () {
  "use strict";

  function spoken(seconds) {
    seconds = Math.max(0, Math.round(seconds));
    if (seconds < 60) return seconds + " s";
    var minutes = Math.floor(seconds / 60);
    if (minutes < 60) return minutes + " min " + String(seconds % 60).padStart(2, "0") + " s";
    var hours = Math.floor(minutes / 60);
    if (hours < 24) return hours + " h " + String(minutes % 60).padStart(2, "0") + " min";
    return Math.floor(hours / 24) + " d " + (hours % 24) + " h";
  }

  function tick() {
    var now = Date.now();
    document.querySelectorAll("[data-countdown]").forEach(function (element) {
      var left = (Date.parse(element.dataset.countdown) - now) / 1000;
      element.textContent = left > 0 ? spoken(left) : "a moment";
    });
    document.querySelectorAll("[data-since]").forEach(function (element) {
      element.textContent = spoken((now - Date.parse(element.dataset.since)) / 1000);
    });
  }

  document.addEventListener("click", function (event) {
    var add = event.target.closest("[data-add-row]");
    if (!add) return;
    var rows = add.parentElement.querySelector("[data-rows]");
    var row = rows.firstElementChild.cloneNode(true);
    row.querySelectorAll("input").forEach(function (input) { input.value = ""; });
    rows.appendChild(row);
    row.querySelector("input").focus();
  });

  tick();
  window.setInterval(tick, 1000);
})();
