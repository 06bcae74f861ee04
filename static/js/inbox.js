// Keyboard triage in the inbox: j/k move between tasks, a/r approve or reject the current one
// (with whatever its comment box holds), c goes to its comment box, x selects it for the bulk
// bar, o opens its page. Keys typed into a field are the field's, never a shortcut.
(function () {
  "use strict";

  function cards() {
    return Array.prototype.slice.call(document.querySelectorAll("[data-triage] [data-task]"));
  }

  function current() {
    var active = document.activeElement;
    return active && active.closest ? active.closest("[data-task]") : null;
  }

  function move(step) {
    var all = cards();
    if (!all.length) return;
    var at = all.indexOf(current());
    var next = all[Math.max(0, Math.min(all.length - 1, at < 0 ? 0 : at + step))];
    next.focus();
    next.scrollIntoView({ block: "nearest" });
  }

  function decide(card, decision) {
    var button = card.querySelector('.decide-form button[name="decision"][value="' + decision + '"]');
    if (button) button.click();
  }

  function countSelected() {
    var label = document.querySelector("[data-bulk-count]");
    if (!label) return;
    var picked = document.querySelectorAll("[data-select]:checked").length;
    label.textContent = picked ? picked + " selected" : "No task selected";
  }

  document.addEventListener("keydown", function (event) {
    if (event.ctrlKey || event.metaKey || event.altKey) return;
    var target = event.target;
    if (target && target.matches && target.matches("input, textarea, select, [contenteditable]")) {
      // Escape leaves a field for its task, where the shortcuts work again.
      var holder = event.key === "Escape" && target.closest ? target.closest("[data-task]") : null;
      if (holder) { holder.focus(); event.preventDefault(); }
      return;
    }
    if (!document.querySelector("[data-triage]")) return;
    var card = current();
    switch (event.key) {
      case "j": move(1); break;
      case "k": move(-1); break;
      case "a": if (card) decide(card, "approved"); break;
      case "r": if (card) decide(card, "rejected"); break;
      case "c": {
        var box = card && card.querySelector("textarea");
        if (box) box.focus();
        break;
      }
      case "x": {
        var pick = card && card.querySelector("[data-select]");
        if (pick) { pick.checked = !pick.checked; countSelected(); }
        break;
      }
      case "o": {
        var link = card && card.querySelector("[data-open]");
        if (link) link.click();
        break;
      }
      default: return;
    }
    event.preventDefault();
  });

  document.addEventListener("change", function (event) {
    if (event.target && event.target.matches && event.target.matches("[data-select]")) countSelected();
  });
})();
