// Keyboard triage in the inbox: j/k move between tasks, a/r approve or reject the current one
// (with whatever its comment box holds), c goes to its comment box, x selects it for the bulk
// bar, o opens its page. Keys typed into a field are the field's, never a shortcut. The answer
// to a decision outlives the live refresh that follows it.
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

  // Every decision is announced on the inbox's socket, so a live refresh of the list (a GET,
  // live.js) follows each answer within a moment. It knows nothing of that answer: without
  // this, the notice saying what just happened, and a bulk decision's outcome per task, would
  // vanish before anyone could read them. They stay until the next answer replaces them.
  document.addEventListener("htmx:before:swap", function (event) {
    var ctx = event.detail && event.detail.ctx;
    var list = document.getElementById("inbox-tasks");
    // By id, not identity: a refresh asked for before the answer's swap comes from the list
    // that swap replaced.
    var source = ctx && ctx.sourceElement;
    if (!list || !source || source.id !== "inbox-tasks" || ctx.request.method !== "GET") return;
    var kept = list.querySelectorAll(":scope > .inbox-notice, :scope > .bulk-results");
    (event.detail.tasks || []).forEach(function (task) {
      var fresh = task.type === "main" && task.fragment && task.fragment.querySelector("#inbox-tasks");
      if (!fresh || fresh.querySelector(":scope > .inbox-notice, :scope > .bulk-results")) return;
      for (var i = kept.length - 1; i >= 0; i--) fresh.insertBefore(kept[i].cloneNode(true), fresh.firstChild);
    });
  });
})();
