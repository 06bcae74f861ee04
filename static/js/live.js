// Live updates: an element with data-live-socket opens that WebSocket; every message asks the
// element named by data-live-target to refresh itself (its hx-trigger listens for
// "live-update"). Messages only say "something changed": the page reads the details over HTTP.
// With data-live-keep-input, a refresh never wipes what the user is typing: a notice offers it.
(function () {
  "use strict";

  function busy(target) {
    var active = document.activeElement;
    if (active && target.contains(active) && active.matches("input, textarea, select")) return true;
    return Array.prototype.some.call(target.querySelectorAll("textarea, input[type=text]"), function (field) {
      return field.value.trim() !== "";
    });
  }

  function follow(host) {
    var url = new URL(host.dataset.liveSocket, window.location.href);
    url.protocol = window.location.protocol === "https:" ? "wss:" : "ws:";
    var delay = 1000;
    var pending = 0;

    // `quiet`: a catch-up after (re)connecting, which may have missed nothing.
    function refresh(quiet) {
      var target = document.querySelector(host.dataset.liveTarget);
      if (!target) return;
      if (host.hasAttribute("data-live-keep-input") && busy(target)) {
        var stale = host.querySelector("[data-live-stale]");
        if (stale && !quiet) stale.hidden = false;
        return;
      }
      target.dispatchEvent(new CustomEvent("live-update"));
    }

    function changed(quiet) {
      // A burst of messages becomes one refresh.
      window.clearTimeout(pending);
      pending = window.setTimeout(function () { refresh(quiet === true); }, 150);
    }

    function open() {
      var socket = new WebSocket(url);
      socket.onopen = function () {
        delay = 1000;
        host.dataset.liveConnected = "1";
        changed(true); // whatever happened between the page's rendering and now
      };
      socket.onmessage = function () { changed(false); };
      socket.onclose = function () {
        host.dataset.liveConnected = "0";
        window.setTimeout(open, delay);
        delay = Math.min(delay * 2, 30000);
      };
    }

    open();
  }

  function start() {
    document.querySelectorAll("[data-live-socket]").forEach(follow);
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
