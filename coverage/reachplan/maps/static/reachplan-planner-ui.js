/* The planner's panel (reachplan map --what-if), built on window.reachplan only: what a
 * script can do through the API, a click in the panel or on the map does through the same
 * calls (toggle, add, summary, gaps, suggest).
 *
 * - markers: every site, open or closed; a click switches it (existing, added and open
 *   candidate sites in the map's "Sites" cluster, closed candidates in "Candidate sites",
 *   drawn when that layer is first shown);
 * - figures: % districts, % weight, % demand points, by group and by site type, and the lines
 *   other parts push to _internal.figures (capacity), recomputed after every change;
 * - gaps: the ranked gap list (a click zooms to the district);
 * - sites: the list, filtered by kind, type, group (of the district a site lies in) and name;
 *   a click on a row switches the site;
 * (add and suggest: reachplan-planner-actions.js.)
 * The legend's class counts, the layer names, the district tooltips and the dashed gap
 * outlines follow every change (the map's summary panel, of the first state, is removed).
 *
 * Every value from an input file goes in as text (textContent), never as HTML, with the
 * characters reachplan.text makes visible shown as escapes (_internal.visible).
 *
 * _internal.panel (for the scenarios and other parts): section(title, open) -> its body
 * element; onRefresh(fn): fn(summary) after every change; download(name, text, type);
 * hold(fn): run fn's changes and redraw the panel once, after them. */
(window.reachplanPlannerParts = window.reachplanPlannerParts || []).push(function (api, map) {
  "use strict";
  var I = api._internal, data = I.data, S0 = data.sites.n;
  var maps = window.reachplanMaps && window.reachplanMaps[I.mapsKey];
  var ids = data.districts.id, D = ids.length, groups = data.districts.groups;
  var LIST_ROWS = 100;  // rows of a list drawn at once (India has 21,000 sites)

  // reachplan.text's unsafe characters (C0, DEL, C1, bidi controls, line and paragraph
  // separators, lone surrogates, U+FFFE/FFFF) made visible in Python's spelling, as the HTML
  // sink (for_html) writes them: a name shows as what it is, not reordered or split
  // eslint-disable-next-line no-control-regex -- the control characters are what it finds
  var UNSAFE = /[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069\u2028\u2029\ud800-\udfff\ufffe\uffff]/gu;
  var NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"};
  function visible(text) {
    return String(text).replace(UNSAFE, function (c) {
      var code = c.charCodeAt(0), hex = code.toString(16);
      return NAMED[c] || (code < 0x100 ? "\\x" + ("0" + hex).slice(-2) :
                          "\\u" + ("000" + hex).slice(-4));
    });
  }
  function el(tag, cls, text, parent) {  // every text of the panel goes in through here
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined && text !== null) e.textContent = visible(text);
    if (parent) parent.appendChild(e);
    return e;
  }
  function count(n) { return n.toLocaleString("en"); }
  function pct(x) { return x === null || x === undefined ? "–" : x.toFixed(2) + "%"; }
  function groupName(g) { return g === null || g === undefined ? "(no group)" : g; }

  // ---- markers
  // the districts' own canvas: a second canvas on top would take every mouse event, and the
  // districts under it would lose their tooltips
  var drawn = maps && maps.districts.filter(Boolean)[0];
  var canvas = drawn ? drawn.options.renderer : L.canvas({padding: 0.5}), markers = [];
  // the sites and open candidates in the map's own centre cluster, the closed candidates in
  // the page's candidate layer (both in the map's layer control), drawn when it is first shown
  var existing = maps && maps.layers && maps.layers.centres ? maps.layers.centres :
    L.layerGroup().addTo(map);
  var candidates = I.layers.candidates || L.layerGroup();
  function siteOf(s) {
    return s < S0 ? {name: data.sites.name[s], lat: data.sites.lat[s], lon: data.sites.lon[s]}
      : I.added[s - S0];
  }
  function isCandidate(s) { return s < S0 && data.sites.candidate[s] === 1; }
  function style(s) {
    var on = I.isOpen(s), kind = s >= S0 ? "#e66101" : isCandidate(s) ? "#6a3d9a" : "#2166ac";
    return {radius: on ? 6 : 4, weight: 1, color: on ? "#fff" : "#555",
            fillColor: on ? kind : "#bbb", fillOpacity: on ? 0.95 : 0.6, renderer: canvas};
  }
  function marker(s) {
    var site = siteOf(s), m = L.circleMarker([site.lat, site.lon], style(s));
    m.on("click", function () { api.toggle(s); });
    m.bindTooltip(function () {  // a text node: the name is never read as HTML
      var t = el("span", null, siteOf(s).name);
      el("span", "cp-pl-hint", I.isOpen(s) ? " (open: click to close)" :
         " (closed: click to open)", t);
      return t;
    });
    markers[s] = m;
    return m;
  }
  var first = [];
  for (var s = 0; s < S0; s++) {
    if (!isCandidate(s) || data.sites.open[s]) first.push(marker(s));  // a plan's are open
  }
  if (existing.addLayers) existing.addLayers(first);
  else first.forEach(function (m) { existing.addLayer(m); });
  function fill() {  // the closed candidates (the open ones are with the sites)
    candidates.filled = true;
    for (var c = 0; c < S0; c++) {
      if (isCandidate(c) && !I.isOpen(c)) candidates.addLayer(markers[c] || marker(c));
    }
  }
  if (map.hasLayer(candidates)) fill(); else candidates.once("add", fill);

  // ---- the panel: one <details> per section
  var panel = L.control({position: "topright"}), root, refreshers = [];
  panel.onAdd = function () {
    root = L.DomUtil.create("details", "cp-panel cp-planner");
    root.open = true;
    el("summary", null, "What if", root);
    L.DomEvent.disableClickPropagation(root);
    L.DomEvent.disableScrollPropagation(root);
    return root;
  };
  panel.addTo(map);
  // the map's own summary panel is of the page's first state: the figures replace it
  Array.prototype.forEach.call(map.getContainer().querySelectorAll(".cp-summary"),
                               function (e) { e.parentNode.removeChild(e); });
  // the panel ends above the legend (bottom right), whatever the window's height
  function fit() {
    var legend = document.querySelector(".cp-legend"), box = map.getContainer();
    var bottom = legend ? legend.getBoundingClientRect().top :
      box.getBoundingClientRect().bottom;
    root.style.maxHeight = Math.max(120, bottom - root.getBoundingClientRect().top - 12) + "px";
  }
  map.on("resize", fit);
  setTimeout(fit, 0);
  document.addEventListener("toggle", fit, true);  // a <details> of the legend opened or closed
  function section(title, open, cls) {
    var d = el("details", "cp-pl-section" + (cls ? " " + cls : ""), null, root);
    d.open = !!open;
    el("summary", null, title, d);
    var body = el("div", "cp-pl-body", null, d);
    d.addEventListener("toggle", function () { if (d.open) refresh(); });
    return body;
  }
  function download(name, text, type) {
    var a = el("a", null, null, document.body);
    a.href = URL.createObjectURL(new Blob([text], {type: type}));
    a.download = name;
    a.click();
    setTimeout(function () { URL.revokeObjectURL(a.href); a.remove(); }, 0);
  }

  // figures
  var figBody = section("Figures", true, "cp-pl-figures");
  figBody.classList.add("cp-figures");  // (the figures' box, as scripts and tests know it)
  figBody.setAttribute("aria-live", "polite");
  function table(parent, head, rows) {
    var t = el("table", "cp-pl-table", null, parent), tr = el("tr", null, null, t);
    head.forEach(function (h) { el("th", null, h, tr); });
    rows.forEach(function (r) {
      var row = el("tr", null, null, t);
      r.forEach(function (v) { el("td", null, v, row); });
    });
    return t;
  }
  var subOpen = {};  // the by-group and by-type tables stay open or closed across changes
  function sub(key, title, open) {
    var d = el("details", "cp-pl-sub", null, figBody);
    d.open = key in subOpen ? subOpen[key] : open;
    el("summary", null, title, d);
    d.addEventListener("toggle", function () { subOpen[key] = d.open; });
    return d;
  }
  function drawFigures(sm) {
    var s0 = sm.summary, hasW = s0.weight_percent !== null;
    figBody.textContent = "";
    var lines = [["districts", "Districts covered: " + count(s0.covered) + " of " +
                  count(s0.districts) + " (" + pct(s0.percent) + ")"]];
    if (hasW) {
      lines.push(["weight", "Weight covered: " + pct(s0.weight_percent) + " (" +
                  Math.round(s0.weight_covered).toLocaleString("en") + " of " +
                  Math.round(s0.weight_total).toLocaleString("en") + ")"]);
    }
    if (sm.demand) {
      lines.push(["points", "Demand points covered: " + count(sm.demand.covered) + " of " +
                  count(sm.demand.points) + " (" + pct(sm.demand.percent) + ")"]);
      if (sm.demand.weight_percent !== null) {
        lines.push(["point-weight", "Demand weight covered: " + pct(sm.demand.weight_percent)]);
      }
    }
    lines.forEach(function (l) { el("div", "cp-pl-fig", l[1], figBody).dataset.fig = l[0]; });
    I.figures.forEach(function (fn) {  // lines of other parts (capacity): text, or their HTML
      var f = fn(sm);
      if (!f) return;
      var line = el("div", "cp-pl-fig", f.label + ": ", figBody);
      if (f.text !== undefined) el("span", null, f.text, line);
      else el("span", null, null, line).innerHTML = f.html;
    });
    if (typeof api.capacity === "function") drawCapacity();
    function rows(list, key) {
      return list.map(function (r) {
        var row = [key === "group" ? groupName(r.group) : r.type];
        if (key === "type") row.push(r.centers);
        row.push(r.covered + " of " + r.districts, pct(r.percent));
        if (hasW) row.push(pct(r.weight_percent));
        return row;
      });
    }
    if (sm.groups.length) {
      table(sub("group", "By group (" + sm.groups.length + ")", sm.groups.length <= 12),
            ["group", "covered", "%"].concat(hasW ? ["% weight"] : []),
            rows(sm.groups, "group")).dataset.by = "group";
    }
    if (sm.types.length) {
      table(sub("type", "By site type (" + sm.types.length + ")", true),
            ["type", "open", "covered", "%"].concat(hasW ? ["% weight"] : []),
            rows(sm.types, "type")).dataset.by = "type";
    }
  }

  // capacity (when the page has it): each open site's utilisation, the fullest first
  var capBox = null;
  function drawCapacity() {
    capBox = sub("capacity", "Utilisation of open sites", false);
    var mine = capBox;
    api.capacity().then(function (c) {
      if (!c || mine !== capBox) return;  // a newer change redraws it
      var list = c.centres.slice().sort(function (a, b) {
        return (b.utilisation_pct || 0) - (a.utilisation_pct || 0) || a.id - b.id;
      });
      mine.querySelector("summary").textContent = "Utilisation of open sites (" +
        c.centres_full + " full)";
      table(mine, ["site", "load", "capacity", "%"], list.slice(0, LIST_ROWS).map(function (x) {
        return [x.name, x.load, x.capacity, x.utilisation_pct === null ? "–" :
                x.utilisation_pct.toFixed(1) + "%"];
      })).dataset.by = "utilisation";
    }, function () { /* the figures line says why (api.error) */ });
  }

  // gaps
  var gapBody = section("Gaps", false, "cp-pl-gaps"), gapSection = gapBody.parentNode;
  var index = {};
  ids.forEach(function (id, d) { index[id] = d; });
  function zoomTo(id) {
    var d = index[id], layer = maps && maps.districts[d];
    if (!layer) return;
    map.fitBounds(layer.getBounds(), {maxZoom: 9, animate: false});
    layer.openTooltip(layer.getBounds().getCenter());
  }
  var gapsDrawn = null;  // the list the rows were drawn for
  function drawGaps() {
    var gaps = api.gaps();
    gapSection.querySelector("summary").textContent = "Gaps (" + gaps.length + ")";
    if (!gapSection.open) return;
    var key = JSON.stringify(gaps.slice(0, LIST_ROWS)) + gaps.length;
    if (key === gapsDrawn) return;
    gapsDrawn = key;
    gapBody.textContent = "";
    if (!gaps.length) { el("div", "cp-pl-note", "No gap: every district is covered.", gapBody); }
    var list = el("ol", "cp-pl-list", null, gapBody);
    gaps.slice(0, LIST_ROWS).forEach(function (g) {
      var li = el("li", "cp-pl-gap", null, list);
      li.tabIndex = 0;
      li.dataset.id = g.id;
      el("span", "cp-pl-name", (g.name || g.id) + (g.group ? " — " + g.group : ""), li);
      el("span", "cp-pl-hint", (g.weight !== null ? " · weight " +
                                  g.weight.toLocaleString("en") : "") +
         (g.nearest_km !== null ? " · nearest " + g.nearest_km + " km" : ""), li);
      li.addEventListener("click", function () { zoomTo(g.id); });
      li.addEventListener("keydown", function (e) { if (e.key === "Enter") zoomTo(g.id); });
    });
    if (gaps.length > LIST_ROWS) {
      el("div", "cp-pl-note", (gaps.length - LIST_ROWS) + " more (the gaps CSV lists all)",
         gapBody);
    }
  }

  // sites
  var siteBody = section("Sites", false, "cp-pl-sites"), siteSection = siteBody.parentNode;
  var filters = el("div", "cp-pl-filters", null, siteBody);
  function select(label, options) {
    var s = el("select", null, null, filters);
    s.setAttribute("aria-label", label);
    options.forEach(function (o) { el("option", null, o[1], s).value = o[0]; });
    s.addEventListener("change", drawSites);
    return s;
  }
  var kindSel = select("kind of site", [["all", "all sites"], ["existing", "existing"],
                                        ["candidate", "candidates"], ["added", "added"],
                                        ["open", "open"], ["closed", "closed"]]);
  var typeSel = data.sites.types.length ? select("site type", [["", "every type"]].concat(
    data.sites.types.map(function (t) { return [t, t]; }))) : null;
  var groupSel = groups.length ? select("group", [["", "every group"]].concat(
    groups.map(function (g, k) { return [String(k), groupName(g)]; }))) : null;
  var search = el("input", null, null, filters);
  search.type = "search";
  search.placeholder = "name…";
  search.setAttribute("aria-label", "site name");
  search.addEventListener("input", drawSites);
  var siteList = el("ul", "cp-pl-list", null, siteBody);
  var siteNote = el("div", "cp-pl-note", null, siteBody);
  var siteGroup = [];  // per site: the group of the district it lies in (-1 none), lazily
  function groupOfSite(s) {
    if (siteGroup[s] === undefined) {
      var pr = I.pairs(s), g = -1;
      for (var i = 0; i < pr.district.length && g < 0; i++) {
        if (pr.flags[i] & 2) g = data.districts.group[pr.district[i]];
      }
      siteGroup[s] = g;
    }
    return siteGroup[s];
  }
  function keep(site) {
    var k = kindSel.value;
    if (k === "existing" && (site.candidate || site.added)) return false;
    if (k === "candidate" && !site.candidate) return false;
    if (k === "added" && !site.added) return false;
    if ((k === "open" && !site.open) || (k === "closed" && site.open)) return false;
    if (typeSel && typeSel.value && site.type !== typeSel.value) return false;
    if (groupSel && groupSel.value && String(groupOfSite(site.id)) !== groupSel.value) {
      return false;
    }
    var q = search.value.trim().toLowerCase();
    return !q || String(site.name).toLowerCase().indexOf(q) >= 0;
  }
  var listed = null;  // the filter and site count the rows were drawn for
  function drawSites() {
    if (!siteSection.open) return;
    var key = [kindSel.value, typeSel && typeSel.value, groupSel && groupSel.value,
               search.value, I.nSites()].join("\u0000");
    if (key === listed && kindSel.value !== "open" && kindSel.value !== "closed") {
      // the same rows: only their boxes change (no redraw of a hundred rows per change)
      Array.prototype.forEach.call(siteList.children, function (li) {
        var on = I.isOpen(+li.dataset.id);
        li.firstChild.checked = on;
        L.DomUtil[on ? "addClass" : "removeClass"](li, "cp-pl-open");
      });
      return;
    }
    listed = key;
    siteList.textContent = "";
    var shown = 0, matched = 0;
    api.sites().forEach(function (site) {
      if (!keep(site)) return;
      matched += 1;
      if (shown >= LIST_ROWS) return;
      shown += 1;
      var li = el("li", "cp-pl-site" + (site.open ? " cp-pl-open" : ""), null, siteList);
      li.dataset.id = String(site.id);
      var box = el("input", null, null, li);
      box.type = "checkbox";
      box.checked = site.open;
      box.setAttribute("aria-label", visible("open " + site.name));
      el("span", "cp-pl-name", site.name, li);
      el("span", "cp-pl-hint", " " + [site.type, site.candidate ? "candidate" : null,
                                      site.added ? "added" : null].filter(Boolean).join(", "),
         li);
      li.addEventListener("click", function (e) {
        api.toggle(site.id, e.target === box ? box.checked : !I.isOpen(site.id));
      });
    });
    siteNote.textContent = matched > shown ? (matched - shown) +
      " more match: narrow the filter" : matched ? "" : "No site matches the filter.";
  }

  // ---- the rest of the page follows the scenario: legend counts, layer names
  function retext(container, re, fn) {  // text nodes only: no value is ever parsed as HTML
    if (!container) return;
    var walker = document.createTreeWalker(container, NodeFilter.SHOW_TEXT), node;
    while ((node = walker.nextNode())) {
      var m = re.exec(node.nodeValue);
      if (m) node.nodeValue = fn(m);
    }
  }
  // the layer control's names: how many sites and candidates are open
  function followPage() {
    var open = {sites: 0, candidates: 0}, n = {sites: 0, candidates: 0};
    for (var s = 0; s < I.nSites(); s++) {  // (not api.sites(): 21,000 objects a change)
      var k = isCandidate(s) ? "candidates" : "sites";
      n[k] += 1;
      if (I.isOpen(s)) open[k] += 1;
    }
    retext(document.querySelector(".leaflet-control-layers"),
           /^(\s*)(Sites|Candidate sites)\b.*$/, function (m) {
             var k = m[2] === "Sites" ? "sites" : "candidates";
             return m[1] + m[2] + " (" + count(open[k]) + " of " + count(n[k]) + " open)";
           });
  }
  var shown = new Uint8Array(D).fill(2), inside = new Int32Array(D);
  function recolour() {  // the map's own colours, gap outlines and legend counts
    if (!maps || !maps.setCovered) return;
    for (var d = 0; d < D; d++) {
      if (shown[d] !== I.covered[d] || inside[d] !== I.inside[d]) {
        shown[d] = I.covered[d];
        inside[d] = I.inside[d];
        maps.setCovered(d, I.covered[d], I.inside[d]);
      }
    }
  }
  // a district's tooltip from the scenario now (the map's own was made for the page's start)
  var K = data.min_centers;
  var reachWords = data.presence ? "inside or on its boundary" : data.cost.text;
  function districtTip(d) {
    var g = data.districts.group[d], t = el("div");
    el("b", null, data.districts.name[d] || ids[d], t);
    if (g >= 0) el("span", null, " (" + groupName(groups[g]) + ")", t);
    el("div", null, "id " + ids[d] + " · " + I.inside[d] + " open site" +
       (I.inside[d] === 1 ? "" : "s") + " inside", t);
    el("div", null, (I.covered[d] ? "covered" : "gap") + " · " + I.count[d] + " open site" +
       (I.count[d] === 1 ? "" : "s") + " " + reachWords + (K > 1 ? " (" + K + " needed)" :
                                                             ""), t);
    return t;
  }
  if (maps) {
    maps.districts.forEach(function (layer, d) {
      if (layer) layer.setTooltipContent(function () { return districtTip(d); });
    });
  }
  function refresh() {
    var sm = api.summary();
    drawFigures(sm);
    drawGaps();
    drawSites();
    followPage();
    recolour();
    refreshers.forEach(function (fn) { fn(sm); });
  }
  I.refresh = refresh;
  // many changes as one (a scenario restored): the panel is redrawn once, at the end
  var holding = 0;
  function hold(fn) {
    holding += 1;
    try { return fn(); } finally { holding -= 1; if (!holding) refresh(); }
  }
  I.visible = visible;
  I.panel = {section: section, onRefresh: function (fn) { refreshers.push(fn); },
             download: download, el: el, table: table, pct: pct, hold: hold};
  api.on(function (change) {
    if (change.added !== undefined && !markers[change.added]) {
      existing.addLayer(marker(change.added));
    }
    var s = change.site;
    if (s !== undefined && isCandidate(s)) {  // an open candidate shows with the sites
      if (!markers[s]) marker(s);
      var m = markers[s], home = I.isOpen(s) ? existing : candidates;
      var away = home === existing ? candidates : existing;
      if (away.hasLayer(m)) away.removeLayer(m);
      if (!home.hasLayer(m) && (home === existing || candidates.filled)) home.addLayer(m);
    }
    if (s !== undefined && markers[s]) markers[s].setStyle(style(s));
    if (!holding) refresh();
  });
  setTimeout(refresh, 0);  // after every part (suggest, capacity, scenarios) is in
  refresh();
});
