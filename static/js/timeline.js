// The run page's Gantt timeline and step panel. Plain JS with no dependency, like live.js:
// the page is server-rendered and this is its one interactive island, so it needs no bundle.
//
// Rows come from GET /api/runs/<id>/timeline (times in ms after t0). Only the rows in view
// are in the DOM (virtualised), so a run of thousands of steps scrolls smoothly. A loop's items
// and a big parallel group's branches come folded into one row (counts by status, a span);
// "show items" reads them a page at a time from GET /api/runs/<id>/timeline/items, optionally
// only the failed ones. The first answer comes with the page (#timeline-first). A child run's
// rows load when its row is expanded. The run's socket (static/js/live.js) says when to read
// again: the chart and every open page of items. Clicking a row, or a step on the map ([data-step-id]), opens the step panel, filled
// from GET /api/runs/<id>/steps/<step id>.
(function () {
  "use strict";

  // Data shown to someone who may not read sensitive input has "***" where it was (the API's
  // mask, flagged by the answer's "masked"): a page says so in words.
  var MASK = "***";
  var PAGE_MASK = "\u2022\u2022\u2022\u2022 (sensitive)";

  function unmaskedWords(text, masked) {
    return masked && text ? String(text).split(MASK).join(PAGE_MASK) : text;
  }

  var ROW_HEIGHT = 30;
  var COMPACT_ROW_HEIGHT = 18;
  var OVERSCAN = 10;
  var AUTO_COMPACT_ROWS = 300;
  var ITEMS_PAGE = 50;
  var KIND_WORDS = { queued: "queued", running: "running", backoff: "retry back-off", waiting: "waiting" };

  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined && text !== null) node.textContent = text;
    return node;
  }

  function duration(ms) {
    if (ms < 1000) return Math.max(0, Math.round(ms)) + " ms";
    var s = ms / 1000;
    if (s < 60) return s.toFixed(1) + " s";
    var m = Math.floor(s / 60);
    if (m < 60) return m + " min " + String(Math.floor(s % 60)).padStart(2, "0") + " s";
    var h = Math.floor(m / 60);
    if (h < 24) return h + " h " + String(m % 60).padStart(2, "0") + " min";
    return Math.floor(h / 24) + " d " + (h % 24) + " h";
  }

  function getJson(url) {
    return fetch(url, { headers: { Accept: "application/json" }, credentials: "same-origin" }).then(function (response) {
      if (!response.ok) throw new Error(response.status + " " + response.statusText);
      return response.json();
    });
  }

  // --- the chart --------------------------------------------------------------------------
  function Timeline(host) {
    this.host = host;
    this.runId = host.dataset.runId;
    this.scroller = host.querySelector("[data-timeline-scroll]");
    this.spacer = host.querySelector("[data-timeline-rows]");
    this.axis = host.querySelector("[data-timeline-axis]");
    this.summary = host.querySelector("[data-timeline-summary]");
    this.internalBox = host.querySelector("[data-timeline-internal]");
    this.compactBox = host.querySelector("[data-timeline-compact]");
    this.data = null;
    this.children = {}; // run id → its timeline, once expanded
    this.expanded = {};
    this.groups = {}; // "<run id>|<group>" → {runId, group, offset, failedOnly, page}, while open
    this.flat = [];
    this.reading = false;
    this.again = false;
    this.compactChosen = false;
    var self = this;
    this.scroller.addEventListener("scroll", function () { self.paint(); }, { passive: true });
    this.internalBox.addEventListener("change", function () { self.read(); });
    this.compactBox.addEventListener("change", function () {
      self.compactChosen = true;
      self.layout();
    });
    this.spacer.addEventListener("click", function (event) { self.clicked(event); });
    this.spacer.addEventListener("change", function (event) {
      var box = event.target.closest("[data-failed-only]");
      var state = box && self.groups[box.dataset.failedOnly];
      if (!state) return;
      state.failedOnly = box.checked;
      state.offset = 0;
      self.readGroup(box.dataset.failedOnly);
    });
    window.addEventListener("resize", function () { self.paint(); });
  }

  Timeline.prototype.url = function (runId) {
    return "/api/runs/" + runId + "/timeline" + (this.internalBox.checked ? "?internal=true" : "");
  };

  Timeline.prototype.itemsUrl = function (state) {
    return "/api/runs/" + state.runId + "/timeline/items?group=" + encodeURIComponent(state.group) +
      "&offset=" + state.offset + "&limit=" + ITEMS_PAGE + (state.failedOnly ? "&status=failed" : "") +
      (this.internalBox.checked ? "&internal=true" : "");
  };

  // The answer drawn into the page, when it still fits what the boxes ask for.
  Timeline.prototype.takeFirst = function () {
    var script = document.getElementById("timeline-first");
    if (!script || this.internalBox.checked) return false;
    try {
      this.data = JSON.parse(script.textContent);
    } catch (error) {
      return false;
    }
    this.layout();
    this.refreshMap();
    return true;
  };

  // One read at a time; a change during a read asks for one more.
  Timeline.prototype.read = function () {
    var self = this;
    if (self.reading) {
      self.again = true;
      return;
    }
    self.reading = true;
    var expandedIds = Object.keys(self.expanded).filter(function (id) { return self.expanded[id]; });
    var openGroups = Object.keys(self.groups);
    var reads = [getJson(self.url(self.runId))]
      .concat(expandedIds.map(function (id) { return getJson(self.url(id)); }))
      .concat(openGroups.map(function (key) { return getJson(self.itemsUrl(self.groups[key])).catch(function () { return null; }); }));
    Promise.all(reads)
      .then(function (results) {
        self.data = results[0];
        expandedIds.forEach(function (id, index) { self.children[id] = results[index + 1]; });
        openGroups.forEach(function (key, index) {
          var page = results[1 + expandedIds.length + index];
          if (!self.groups[key]) return;
          if (page) self.groups[key].page = page;
          else delete self.groups[key]; // the group is gone (a retry set its rows aside)
        });
        self.layout();
        self.refreshMap();
      })
      .catch(function () { /* the next message or tick reads again */ })
      .then(function () {
        self.reading = false;
        if (self.again) {
          self.again = false;
          self.read();
        }
      });
  };

  // One folded group's page of items, read on its own (opening it, paging, filtering).
  Timeline.prototype.readGroup = function (key) {
    var self = this;
    var state = self.groups[key];
    if (!state) return;
    state.loading = true;
    self.layout();
    getJson(self.itemsUrl(state))
      .then(function (page) {
        if (self.groups[key] !== state) return;
        state.page = page;
      })
      .catch(function (error) { state.failure = error.message; })
      .then(function () {
        state.loading = false;
        self.layout();
      });
  };

  // The map beside the chart (an htmx fragment) is drawn again when something it shows moved:
  // a row's status, or the number of rows. One socket serves both.
  Timeline.prototype.refreshMap = function () {
    var map = document.getElementById("run-map");
    var signature = this.data.rows.map(function (row) {
      return row.status + (row.group ? JSON.stringify(row.counts) : row.attempts.length);
    }).join(",");
    if (this.mapSignature !== undefined && this.mapSignature !== signature && map) {
      map.dispatchEvent(new CustomEvent("live-update"));
    }
    this.mapSignature = signature;
  };

  // Rows of the run, with expanded children's rows nested under their row and an open
  // group's pager, then its page of items, under the group.
  Timeline.prototype.flatten = function () {
    var self = this;
    var out = [];
    var placed = {}; // a child run unfolds under the first row naming it (start and result both do)
    function add(timeline, runId, depth, shift) {
      var masked = !!timeline.masked;
      timeline.rows.forEach(function (row) {
        if (row.group) {
          var key = runId + "|" + row.group;
          var state = self.groups[key];
          out.push({ row: row, runId: runId, depth: depth, shift: shift, groupKey: key, masked: masked });
          if (!state) return;
          out.push({ pager: state, row: row, runId: runId, depth: depth + 1, shift: shift });
          if (state.page) addRows({ rows: state.page.rows, masked: !!state.page.masked }, runId, depth + 1, shift);
          return;
        }
        addRow(row, runId, depth, shift, masked);
      });
    }
    function addRows(timeline, runId, depth, shift) {
      timeline.rows.forEach(function (row) { addRow(row, runId, depth, shift, timeline.masked); });
    }
    function addRow(row, runId, depth, shift, masked) {
      var owns = !!row.child && !placed[row.child];
      if (owns) placed[row.child] = true;
      out.push({ row: row, runId: runId, depth: depth, shift: shift, ownsChild: owns, masked: masked });
      if (owns && self.expanded[row.child] && self.children[row.child] && depth < 5) {
        var child = self.children[row.child];
        add(child, String(row.child), depth + 1, child.t0 - self.data.t0);
      }
    }
    add(this.data, this.runId, 0, 0);
    return out;
  };

  Timeline.prototype.layout = function () {
    if (!this.data) return;
    var data = this.data;
    this.flat = this.flatten();
    if (!this.compactChosen) this.compactBox.checked = this.flat.length > AUTO_COMPACT_ROWS;
    this.compact = this.compactBox.checked;
    this.host.classList.toggle("timeline-compact", this.compact);
    this.rowHeight = this.compact ? COMPACT_ROW_HEIGHT : ROW_HEIGHT;
    var span = data.span;
    var self = this;
    this.flat.forEach(function (item) {
      if (item.row.group) span = Math.max(span, item.row.end + item.shift);
      item.row.attempts.forEach(function (attempt) {
        attempt.segments.forEach(function (segment) { span = Math.max(span, segment[2] + item.shift); });
      });
    });
    this.span = Math.max(span, 1);
    this.spacer.style.height = this.flat.length * this.rowHeight + "px";
    // A short run gets a short chart; a long one scrolls inside a window of at most 28 rem.
    this.scroller.style.height = Math.min(Math.max(this.flat.length, 2) * this.rowHeight + 2, 448) + "px";
    var hidden = data.hidden_internal ? " · " + data.hidden_internal + " internal hidden" : "";
    var cut = data.truncated ? " · " + data.truncated + " more not shown" : "";
    var rowCount = 0;
    var folded = 0;
    this.flat.forEach(function (item) {
      if (item.pager) return;
      rowCount += 1;
      if (item.row.group && item.depth === 0) folded += item.row.items;
    });
    var groups = folded ? " · " + folded + " items folded into " + data.groups + " row" + (data.groups === 1 ? "" : "s") : "";
    this.summary.textContent = rowCount + " rows over " + duration(this.span) + groups + hidden + cut;
    var verdict = document.querySelector("[data-verdict]");
    if (verdict && data.verdict) {
      verdict.textContent = unmaskedWords(data.verdict, data.masked);
      // Coloured by the run's status, as the page draws it: a run that ends turns it red or green.
      if (data.status) {
        Array.prototype.slice.call(verdict.classList).forEach(function (name) {
          if (name.indexOf("verdict-") === 0) verdict.classList.remove(name);
        });
        verdict.classList.add("verdict-" + data.status);
      }
    }
    this.drawAxis();
    this.paint(true);
  };

  Timeline.prototype.drawAxis = function () {
    this.axis.replaceChildren();
    for (var i = 0; i <= 4; i++) {
      var tick = el("span", "tl-tick", duration((this.span * i) / 4));
      tick.style.left = i * 25 + "%";
      this.axis.appendChild(tick);
    }
  };

  // Only the rows in view (and a few around them) are in the DOM.
  Timeline.prototype.paint = function (force) {
    if (!this.data) return;
    var top = this.scroller.scrollTop;
    var first = Math.max(0, Math.floor(top / this.rowHeight) - OVERSCAN);
    var last = Math.min(this.flat.length, Math.ceil((top + this.scroller.clientHeight) / this.rowHeight) + OVERSCAN);
    if (!force && first === this.first && last === this.last) return;
    this.first = first;
    this.last = last;
    // Paging redraws the rows: the control that had focus keeps it.
    var focused = document.activeElement;
    var focusKey = focused && this.spacer.contains(focused) ? focusKeyOf(focused) : null;
    var fragment = document.createDocumentFragment();
    for (var i = first; i < last; i++) {
      var item = this.flat[i];
      fragment.appendChild(item.pager ? this.drawPager(item, i) : item.row.group ? this.drawGroup(item, i) : this.drawRow(item, i));
    }
    this.spacer.replaceChildren(fragment);
    if (focusKey) {
      var again = this.spacer.querySelector(focusKey);
      if (again) again.focus();
    }
  };

  function focusKeyOf(node) {
    var names = ["groupToggle", "page", "failedOnly", "child"];
    for (var i = 0; i < names.length; i++) {
      var value = node.dataset[names[i]];
      if (value === undefined) continue;
      var attribute = "data-" + names[i].replace(/[A-Z]/g, function (c) { return "-" + c.toLowerCase(); });
      var extra = node.dataset.groupKey !== undefined ? '[data-group-key="' + CSS.escape(node.dataset.groupKey) + '"]' : "";
      return "[" + attribute + '="' + CSS.escape(value) + '"]' + extra;
    }
    return null;
  }

  Timeline.prototype.drawRow = function (item, index) {
    var row = item.row;
    var line = el("div", "tl-row tl-" + row.status + (row.superseded ? " tl-superseded" : "") + (row.internal ? " tl-internal" : ""));
    line.style.top = index * this.rowHeight + "px";
    line.style.height = this.rowHeight + "px";
    line.dataset.testid = "timeline-row";
    line.dataset.status = row.status;
    line.dataset.name = row.name;
    var label = el("div", "tl-label");
    label.style.paddingLeft = 0.25 + item.depth * 1.1 + (row.branch ? 0.8 : 0) + "rem";
    if (item.ownsChild) {
      var open = !!this.expanded[row.child];
      var toggle = el("button", "tl-toggle", open ? "▾" : "▸");
      toggle.type = "button";
      toggle.dataset.child = row.child;
      toggle.setAttribute("aria-expanded", open ? "true" : "false");
      toggle.setAttribute("aria-label", (open ? "Collapse" : "Expand") + " child run #" + row.child);
      label.appendChild(toggle);
    }
    var last = row.attempts[row.attempts.length - 1];
    var shownName = unmaskedWords(row.name, item.masked);
    var name = el("button", "tl-name", shownName);
    name.type = "button";
    name.dataset.stepId = last.id;
    name.dataset.runId = item.runId;
    name.title = shownName + " · " + row.status;
    label.appendChild(name);
    if (!this.compact) {
      if (row.branch) label.appendChild(el("span", "tag", "branch " + row.branch));
      if (row.attempts.length > 1) label.appendChild(el("span", "tag tag-warn", "×" + row.attempts.length));
      if (row.kind !== "step") label.appendChild(el("span", "tag", row.kind));
    }
    line.appendChild(label);
    var track = el("div", "tl-track");
    var words = [];
    var span = this.span;
    var shift = item.shift;
    row.attempts.forEach(function (attempt) {
      attempt.segments.forEach(function (segment) {
        var kind = segment[0];
        var start = segment[1] + shift;
        var end = segment[2] + shift;
        var bar = el("span", "tl-seg tl-seg-" + kind + (segment[4] ? " tl-open" : ""));
        bar.style.left = (start / span) * 100 + "%";
        bar.style.width = Math.max(((end - start) / span) * 100, 0.3) + "%";
        var text = "attempt " + attempt.n + ": " + KIND_WORDS[kind] + " " + duration(end - start) + (segment[3] ? " — " + segment[3] : "");
        bar.title = text;
        bar.dataset.kind = kind;
        words.push(text);
        track.appendChild(bar);
      });
    });
    if (last.error && !this.compact) track.appendChild(el("span", "tl-error", last.error));
    track.setAttribute("role", "img");
    track.setAttribute("aria-label", words.join("; ") || "not started");
    line.appendChild(track);
    return line;
  };

  Timeline.prototype.line = function (className, index, depth) {
    var line = el("div", "tl-row " + className);
    line.style.top = index * this.rowHeight + "px";
    line.style.height = this.rowHeight + "px";
    var label = el("div", "tl-label");
    label.style.paddingLeft = 0.25 + depth * 1.1 + "rem";
    line.appendChild(label);
    return { line: line, label: label };
  };

  function countWords(counts) {
    return Object.keys(counts).sort().map(function (status) { return counts[status] + " " + status; }).join(" · ");
  }

  // A folded loop (or parallel group): its counts by status and one bar from its first item's
  // start to its last one's end.
  Timeline.prototype.drawGroup = function (item, index) {
    var row = item.row;
    var parts = this.line("tl-group tl-" + row.status + (row.superseded ? " tl-superseded" : ""), index, item.depth);
    var line = parts.line;
    line.dataset.testid = "timeline-row";
    line.dataset.status = row.status;
    line.dataset.name = row.name;
    line.dataset.group = row.group;
    var open = !!this.groups[item.groupKey];
    var shownName = unmaskedWords(row.name, item.masked);
    var toggle = el("button", "tl-toggle", open ? "▾" : "▸");
    toggle.type = "button";
    toggle.dataset.groupToggle = item.groupKey;
    toggle.setAttribute("aria-expanded", open ? "true" : "false");
    toggle.setAttribute("aria-label", (open ? "Hide items of " : "Show items of ") + shownName);
    parts.label.appendChild(toggle);
    parts.label.appendChild(el("span", "tl-group-name", shownName));
    parts.label.appendChild(el("span", "tag", row.items + (row.group.indexOf("parallel:") === 0 ? " branches" : " items")));
    if (row.retried && !this.compact) parts.label.appendChild(el("span", "tag tag-warn", row.retried + " retried"));
    var track = el("div", "tl-track");
    var bar = el("span", "tl-seg tl-seg-running tl-seg-group" + (row.open ? " tl-open" : ""));
    var start = row.start + item.shift;
    var end = row.end + item.shift;
    bar.style.left = (start / this.span) * 100 + "%";
    bar.style.width = Math.max(((end - start) / this.span) * 100, 0.3) + "%";
    bar.dataset.kind = "group";
    var words = row.items + " items: " + countWords(row.counts) + ", " + duration(end - start);
    bar.title = words;
    track.appendChild(bar);
    var counts = el("span", "tl-counts", countWords(row.counts));
    counts.dataset.testid = "group-counts";
    track.appendChild(counts);
    track.setAttribute("role", "img");
    track.setAttribute("aria-label", words);
    line.appendChild(track);
    return line;
  };

  // Under an open group: which items are shown, the pages around them, a filter for failures.
  Timeline.prototype.drawPager = function (item, index) {
    var state = item.pager;
    var parts = this.line("tl-pager", index, item.depth);
    var line = parts.line;
    line.dataset.testid = "timeline-pager";
    var page = state.page;
    var text;
    if (state.failure && !page) text = "Cannot read the items: " + state.failure;
    else if (!page) text = "Loading items…";
    else if (!page.total) text = state.failedOnly ? "No failed items" : "No items";
    else text = "Items " + (page.offset + 1) + "–" + (page.offset + page.rows.length) + " of " + page.total + (state.failedOnly ? " failed" : "");
    var where = el("span", "tl-pager-text", text);
    where.setAttribute("aria-live", "polite");
    parts.label.appendChild(where);
    var tools = el("div", "tl-pager-tools");
    var previous = el("button", "button tl-page", "Previous " + ITEMS_PAGE);
    previous.type = "button";
    previous.dataset.page = "-1";
    previous.dataset.groupKey = item.runId + "|" + state.group;
    previous.disabled = state.loading || state.offset === 0;
    var next = el("button", "button tl-page", "Next " + ITEMS_PAGE);
    next.type = "button";
    next.dataset.page = "1";
    next.dataset.groupKey = previous.dataset.groupKey;
    next.disabled = state.loading || !page || state.offset + ITEMS_PAGE >= page.total;
    var filter = el("label", "tl-pager-filter");
    var box = el("input");
    box.type = "checkbox";
    box.checked = state.failedOnly;
    box.dataset.failedOnly = previous.dataset.groupKey;
    filter.appendChild(box);
    filter.appendChild(document.createTextNode(" only failed (" + (item.row.counts.failed || 0) + ")"));
    tools.appendChild(previous);
    tools.appendChild(next);
    tools.appendChild(filter);
    line.appendChild(tools);
    return line;
  };

  Timeline.prototype.clicked = function (event) {
    var groupToggle = event.target.closest("[data-group-toggle]");
    if (groupToggle) {
      var key = groupToggle.dataset.groupToggle;
      if (this.groups[key]) {
        delete this.groups[key];
        this.layout();
      } else {
        var cut = key.indexOf("|");
        this.groups[key] = { runId: key.slice(0, cut), group: key.slice(cut + 1), offset: 0, failedOnly: false, page: null };
        this.readGroup(key);
      }
      return;
    }
    var pageButton = event.target.closest("[data-page]");
    if (pageButton) {
      var paged = this.groups[pageButton.dataset.groupKey];
      if (!paged) return;
      paged.offset = Math.max(0, paged.offset + Number(pageButton.dataset.page) * ITEMS_PAGE);
      this.readGroup(pageButton.dataset.groupKey);
      return;
    }
    var toggle = event.target.closest("[data-child]");
    if (toggle) {
      var id = toggle.dataset.child;
      this.expanded[id] = !this.expanded[id];
      if (this.expanded[id] && !this.children[id]) this.read();
      else this.layout();
      return;
    }
    var name = event.target.closest("[data-step-id]");
    if (name) openStep(name.dataset.runId || this.runId, name.dataset.stepId, name);
  };

  // --- the step panel -----------------------------------------------------------------------
  var panel = null;
  var returnFocus = null;


  function pre(value, masked) {
    var block = el("pre", "code run-json");
    var text = JSON.stringify(value, null, 2);
    block.textContent = unmaskedWords(text, masked);
    return block;
  }

  // An input the journal kept cut ({cut, note, start}) says so before its start.
  function inputBlock(kept, value, masked) {
    if (!kept) return el("p", "hint", "The journal does not keep this step's input.");
    if (!value || value.cut !== true) return pre(value, masked);
    var block = el("div", "panel-cut");
    block.appendChild(el("p", "hint input-cut-note", "Cut: " + value.note + "."));
    var start = el("pre", "code run-json");
    start.textContent = unmaskedWords(value.start, masked) + "…";
    block.appendChild(start);
    return block;
  }

  function section(title) {
    var part = el("section", "panel-part");
    part.appendChild(el("h3", "", title));
    return part;
  }

  function fillPanel(step) {
    var body = panel.querySelector("[data-panel-body]");
    panel.querySelector("[data-panel-title]").textContent = unmaskedWords(step.name, step.masked);
    body.replaceChildren();
    var facts = el("p", "panel-facts");
    facts.appendChild(el("span", "run-status run-" + step.status, step.status));
    facts.appendChild(document.createTextNode(" " + step.kind + (step.branch ? " · branch " + step.branch : "") + " · " + step.attempts.length + " attempt" + (step.attempts.length === 1 ? "" : "s")));
    if (step.waiting_for) facts.appendChild(document.createTextNode(" · waits for " + step.waiting_for));
    body.appendChild(facts);
    if (step.child_run) {
      var link = el("a", "", "Open child run #" + step.child_run);
      link.href = "/runs/" + step.child_run + "/";
      body.appendChild(link);
    }
    if (step.error) {
      var error = section("Error");
      error.classList.add("panel-error");
      error.appendChild(el("p", "error-message", step.error.message || "(no message)"));
      if (step.error.type) error.appendChild(el("p", "error-type", step.error.type));
      if (step.error.traceback) error.appendChild(el("pre", "code traceback", step.error.traceback));
      body.appendChild(error);
    }
    var input = section("Input");
    input.dataset.testid = "step-input";
    input.appendChild(inputBlock(step.input_kept, step.input, step.masked));
    body.appendChild(input);
    var output = section("Output");
    output.dataset.testid = "step-output";
    output.appendChild(step.output === null ? el("p", "hint", "No output.") : pre(step.output, step.masked));
    body.appendChild(output);
    var attempts = section("Attempts");
    var list = el("ol", "panel-attempts");
    step.attempts.forEach(function (attempt) {
      var item = el("li");
      var when = new Date(attempt.started_at).toLocaleTimeString();
      item.appendChild(el("span", "run-status run-" + attempt.status, attempt.status));
      item.appendChild(document.createTextNode(" started " + when + (attempt.duration_ms !== null ? ", took " + duration(attempt.duration_ms) : "")));
      if (attempt.retry_at) item.appendChild(document.createTextNode(", next attempt at " + new Date(attempt.retry_at).toLocaleTimeString()));
      if (attempt.error) item.appendChild(el("div", "error-message", attempt.error.message + (attempt.error.type ? " (" + attempt.error.type + ")" : "")));
      if (step.attempts.length > 1 && attempt.input_kept) {
        // Each attempt rendered its input anew: an earlier one may have seen other values.
        var own = el("details", "attempt-input");
        own.appendChild(el("summary", "", "Input of attempt " + attempt.attempt));
        own.appendChild(inputBlock(true, attempt.input, step.masked));
        item.appendChild(own);
      }
      if (attempt.logs.length) {
        var logs = el("pre", "code panel-logs");
        logs.textContent = attempt.logs.map(function (line) { return typeof line === "string" ? line : JSON.stringify(line); }).join("\n");
        item.appendChild(logs);
      }
      list.appendChild(item);
    });
    attempts.appendChild(list);
    body.appendChild(attempts);
    var logCount = step.attempts.reduce(function (n, attempt) { return n + attempt.logs.length; }, 0);
    if (!logCount) body.appendChild(el("p", "hint", "No log lines recorded for this step."));
  }

  function openStep(runId, stepId, from) {
    panel = panel || document.querySelector("[data-step-panel]");
    if (!panel) return;
    returnFocus = from || document.activeElement;
    panel.hidden = false;
    panel.querySelector("[data-panel-title]").textContent = "Loading…";
    panel.querySelector("[data-panel-body]").replaceChildren();
    panel.querySelector("[data-panel-title]").focus();
    getJson("/api/runs/" + runId + "/steps/" + stepId)
      .then(fillPanel)
      .catch(function (error) {
        panel.querySelector("[data-panel-title]").textContent = "Cannot read this step: " + error.message;
      });
  }

  function closePanel() {
    if (!panel || panel.hidden) return;
    panel.hidden = true;
    if (returnFocus && document.body.contains(returnFocus)) returnFocus.focus();
  }

  function start() {
    var host = document.querySelector("[data-timeline]");
    if (!host) return;
    var chart = new Timeline(host);
    if (!chart.takeFirst()) chart.read();
    if (window.stepwiseLive) window.stepwiseLive.follow(host.dataset.socket, function () { chart.read(); }, 10);
    // Steps on the map (re-rendered by htmx) open the same panel.
    document.addEventListener("click", function (event) {
      var target = event.target.closest("[data-map-step]");
      if (target) openStep(host.dataset.runId, target.dataset.mapStep, target);
      if (event.target.closest("[data-panel-close]")) closePanel();
    });
    document.addEventListener("keydown", function (event) {
      if (event.key === "Escape") closePanel();
      var target = event.target.closest && event.target.closest("[data-map-step]");
      if (target && (event.key === "Enter" || event.key === " ")) {
        event.preventDefault();
        openStep(host.dataset.runId, target.dataset.mapStep, target);
      }
    });
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
