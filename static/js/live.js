// Live updates. `stepwiseLive.follow(path, changed)` holds a WebSocket to one of the /ws/
// endpoints, reconnecting with back-off, and calls `changed(quiet)` after each burst of messages
// (quiet: a catch-up on (re)connecting, which may have missed nothing). Messages only say
// "something changed": pages read the details over HTTP. The canvas's run overlay uses it too.
//
// Server-rendered pages opt in with markup: an element with data-live-socket follows that path
// and asks the element named by data-live-target to refresh (its hx-trigger listens for
// "live-update"). With data-live-keep-input, a refresh never wipes what the user is typing: a
// [data-live-stale] notice inside the element offers it instead; a ticked [data-live-keep] box
// counts as something typed.
(function () {
  "use strict";

  // `delay` (ms, default 150) gathers a burst; a page that redraws cheaply may ask for less.
  function follow(path, changed, delay) {
    var gather = typeof delay === "number" ? delay : 150;
    var url = new URL(path, window.location.href);
    url.protocol = window.location.protocol === "https:" ? "wss:" : "ws:";
    var backoff = 1000;
    var pending = 0;
    var socket = null;
    var stopped = false;

    function soon(quiet) {
      // A burst of messages becomes one call.
      window.clearTimeout(pending);
      pending = window.setTimeout(function () { changed(quiet); }, gather);
    }

    function open() {
      if (stopped) return;
      socket = new WebSocket(url);
      socket.onopen = function () {
        backoff = 1000;
        soon(true); // whatever happened before the socket opened
      };
      socket.onmessage = function () { soon(false); };
      socket.onclose = function () {
        if (stopped) return;
        window.setTimeout(open, backoff);
        backoff = Math.min(backoff * 2, 30000);
      };
    }

    open();
    return {
      connected: function () { return socket !== null && socket.readyState === WebSocket.OPEN; },
      stop: function () {
        stopped = true;
        window.clearTimeout(pending);
        if (socket) socket.close();
      },
    };
  }

  function busy(target) {
    var active = document.activeElement;
    if (active && target.contains(active) && active.matches("input, textarea, select")) return true;
    // A ticked box marked data-live-keep (a selection for a bulk action) counts as input too,
    // and so does an answer the user has not read yet ([data-live-hold]: a bulk action's results).
    if (target.querySelector("input[data-live-keep]:checked, [data-live-hold]")) return true;
    return Array.prototype.some.call(target.querySelectorAll("textarea, input[type=text]"), function (field) {
      return field.value.trim() !== "";
    });
  }

  function followMarkup(host) {
    var following = follow(host.dataset.liveSocket, function (quiet) {
      host.dataset.liveConnected = following.connected() ? "1" : "0";
      var target = document.querySelector(host.dataset.liveTarget);
      if (!target) return;
      if (host.hasAttribute("data-live-keep-input") && busy(target)) {
        var stale = host.querySelector("[data-live-stale]");
        if (stale && !quiet) stale.hidden = false;
        return;
      }
      target.dispatchEvent(new CustomEvent("live-update"));
    });
  }

  window.stepwiseLive = { follow: follow };

  function start() {
    document.querySelectorAll("[data-live-socket]").forEach(followMarkup);
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
