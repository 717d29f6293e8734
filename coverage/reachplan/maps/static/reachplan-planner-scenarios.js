/* Named scenarios of the planner (reachplan map --what-if), on window.reachplan:
 *
 *   scenario(name)   keep the sites open now as the scenario `name` (replacing one of that
 *                    name); returns {name, open, summary, csv}: the ids of the open sites,
 *                    summary() and exportCsv() as they are now
 *   scenarios()      every kept scenario, in the order kept; the page keeps the sites open
 *                    when it loaded as "as loaded" (a plan's page: "without the plan", the
 *                    existing sites alone, and "the plan")
 *   restore(name)    open exactly the scenario's sites again (the others closed); its summary
 *
 * The panel's "Scenarios" section keeps, compares (one column per scenario, and "now") and
 * exports them: a CSV of the open sites (exportCsv(): reachplan coverage/compare/plan read it
 * back) and a JSON summary in the shape of `reachplan coverage --format json` (summary, rule,
 * cost, groups, types, demand), both downloaded from the page itself (a Blob: no network). */
(window.reachplanPlannerParts = window.reachplanPlannerParts || []).push(function (api) {
  "use strict";
  var I = api._internal, P = I.panel, el = P.el, pct = P.pct;
  var kept = [];

  function copy(x) { return JSON.parse(JSON.stringify(x)); }
  function openNow() {
    return api.sites().filter(function (s) { return s.open; }).map(function (s) {
      return s.id;
    });
  }
  function find(name) {
    for (var k = 0; k < kept.length; k++) if (kept[k].name === name) return k;
    return -1;
  }
  api.scenario = function (name) {
    if (typeof name !== "string" || !name.trim()) {
      throw new Error("scenario: give it a name (a non-empty string)");
    }
    var sc = {name: name, open: openNow(), summary: api.summary(), csv: api.exportCsv()};
    var k = find(name);
    if (k >= 0) kept[k] = sc; else kept.push(sc);
    if (typeof api.capacity === "function") {  // the allocation of these sites, when it ends
      api.capacity().then(attach, function () {});
    }
    draw();
    return copy(sc);
  };
  api.scenarios = function () { return copy(kept); };
  api.restore = function (name) {
    var k = find(name);
    if (k < 0) throw new Error("restore: no scenario named " + JSON.stringify(name));
    var want = {};
    kept[k].open.forEach(function (id) { want[id] = true; });
    P.hold(function () {
      api.sites().forEach(function (s) {
        if (s.open !== !!want[s.id]) api.toggle(s.id, !!want[s.id]);
      });
    });
    return api.summary();
  };

  // ---- the section
  var body = P.section("Scenarios", false, "cp-pl-scenarios");
  var form = el("div", "cp-pl-filters", null, body);
  var nameBox = el("input", null, null, form);
  nameBox.type = "text";
  nameBox.placeholder = "scenario name";
  nameBox.setAttribute("aria-label", "scenario name");
  var keepBtn = el("button", "cp-pl-button", "Keep", form);
  keepBtn.type = "button";
  keepBtn.title = "Keep the sites open now as a named scenario";
  var msg = el("div", "cp-pl-msg", null, body);
  msg.setAttribute("role", "status");
  var holder = el("div", "cp-pl-compare", null, body);
  keepBtn.addEventListener("click", function () {
    var name = nameBox.value.trim() || "scenario " + kept.length;
    api.scenario(name);
    nameBox.value = "";
    msg.textContent = I.visible("Kept " + name + ".");
  });

  function slug(name) {
    var s = name.replace(/[^A-Za-z0-9_-]+/g, "-").replace(/^-+|-+$/g, "").slice(0, 60);
    return "what-if-" + (s || "scenario");
  }
  // an allocation's figures go to every kept scenario of the very same open sites (a change
  // made before the allocation ended gives figures of another scenario: not this one's)
  function attach(c) {
    if (!c) return;
    var key = c.centres.map(function (x) { return x.id; }).sort(function (a, b) {
      return a - b;
    }).join(",");
    var hit = false;
    kept.forEach(function (sc) {
      if (!sc.capacity && sc.open.join(",") === key) { sc.capacity = served(c); hit = true; }
    });
    if (hit) draw();
  }
  function served(c) {  // the capacity figures compared (the CLI's keys)
    return {demand: c.demand, served: c.served, served_pct: c.served_pct,
            unserved_in_reach: c.unserved_in_reach, out_of_reach: c.out_of_reach};
  }
  var nowCap = null, stale = true, drawnKey = null;  // stale: a change since the allocation was asked for
  function figures(sm, open, cap) {
    var s0 = sm.summary, rows = [["districts covered", s0.covered + " of " + s0.districts],
                                 ["% districts", pct(s0.percent)]];
    if (s0.weight_percent !== null) rows.push(["% weight", pct(s0.weight_percent)]);
    if (sm.demand) rows.push(["% demand points", pct(sm.demand.percent)]);
    rows.push(["open sites", open.length.toLocaleString("en")]);
    if (cap) {
      rows.push(["% served (capacity)", pct(cap.served_pct)],
                ["in reach, over capacity", String(cap.unserved_in_reach)],
                ["out of reach", String(cap.out_of_reach)]);
    }
    sm.groups.forEach(function (g) {
      rows.push(["% " + (g.group === null ? "(no group)" : g.group), pct(g.percent)]);
    });
    sm.types.forEach(function (t) { rows.push(["% by " + t.type, pct(t.percent)]); });
    return rows;
  }
  function button(parent, text, fn) {
    var b = el("button", "cp-pl-small", text, parent);
    b.type = "button";
    b.addEventListener("click", fn);
    return b;
  }
  function draw(now) {
    if (!body.parentNode.open) return;  // drawn when the section is open
    now = now || api.summary();
    if (typeof api.capacity === "function" && stale) {
      stale = false;  // the allocation after this change: the table again once it is known
      api.capacity().then(function (c) {
        nowCap = c && served(c);
        attach(c);
        draw();
      }, function () {});
    }
    var cols = kept.map(function (sc) {
      return {name: sc.name, rows: figures(sc.summary, sc.open, sc.capacity), sc: sc};
    });
    cols.push({name: "now", rows: figures(now, openNow(), nowCap), sc: null});
    var key = JSON.stringify(cols.map(function (c) { return [c.name, c.rows]; }));
    if (key === drawnKey) return;  // nothing in the table changed
    drawnKey = key;
    holder.textContent = "";
    var labels = [], values = {};
    cols.forEach(function (c, k) {
      c.rows.forEach(function (r) {
        if (!(r[0] in values)) { labels.push(r[0]); values[r[0]] = []; }
        values[r[0]][k] = r[1];
      });
    });
    var t = el("table", "cp-pl-table", null, holder), head = el("tr", null, null, t);
    el("th", null, "", head);
    cols.forEach(function (c) {
      var th = el("th", null, null, head);
      el("div", "cp-pl-name", c.name, th);
      if (!c.sc) return;
      var sc = c.sc;
      button(th, "restore", function () {
        api.restore(sc.name);
        msg.textContent = I.visible("Restored " + sc.name + ".");
      }).title = "Open exactly this scenario's sites";
      button(th, "CSV", function () {
        P.download(slug(sc.name) + ".csv", sc.csv, "text/csv");
      }).title = "The open sites: reachplan coverage/compare/plan read it";
      button(th, "JSON", function () {
        P.download(slug(sc.name) + "-summary.json", JSON.stringify(sc.summary, null, 2) +
                   "\n", "application/json");
      }).title = "The summary, as reachplan coverage --format json writes it";
    });
    labels.forEach(function (label) {
      var tr = el("tr", null, null, t);
      el("th", null, label, tr);
      cols.forEach(function (c, k) {
        var v = values[label][k];
        el("td", null, v === undefined ? "–" : v, tr);
      });
    });
  }
  P.onRefresh(function (sm) { stale = true; draw(sm); });
  // a plan's page (reachplan plan --html) opens the plan's candidates: the sites without them
  // are kept too, so the table shows what the plan buys
  var planned = api.sites().filter(function (x) { return x.candidate && x.open; });
  if (planned.length) {
    P.hold(function () {
      planned.forEach(function (x) { api.toggle(x.id, false); });
      api.scenario("without the plan");
      planned.forEach(function (x) { api.toggle(x.id, true); });
    });
  }
  api.scenario(planned.length ? "the plan" : "as loaded");
});
