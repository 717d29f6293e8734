/* The planner panel's "Add a site" section (reachplan map --what-if), on window.reachplan:
 * - add: a click on the map (once "Click the map to add a site" is pressed) adds a site there
 *   with api.add, or shows why the rule cannot (api.add's message: under travel time the
 *   page has road minutes for its own sites and candidates only);
 * - suggest: "Suggest the next site" shows api.suggest()'s explanation (plan's words) with a
 *   button that opens the site; the button is there when the page has suggest().
 * Texts go in through the panel's el() / visible(): names are never read as HTML. */
(window.reachplanPlannerParts = window.reachplanPlannerParts || []).push(function (api, map) {
  "use strict";
  var I = api._internal, P = I.panel, el = P.el, pct = P.pct, visible = I.visible;
  var actBody = P.section("Add a site", false, "cp-pl-add");
  var addBtn = el("button", "cp-pl-button", "Click the map to add a site", actBody);
  addBtn.type = "button";
  addBtn.setAttribute("aria-pressed", "false");
  var addMsg = el("div", "cp-pl-msg", null, actBody);
  addMsg.setAttribute("role", "status");
  var adding = false;
  function setAdding(on) {
    adding = on;
    addBtn.setAttribute("aria-pressed", on ? "true" : "false");
    addBtn.textContent = on ? "Adding: click the map (click here to stop)" :
      "Click the map to add a site";
    L.DomUtil[on ? "addClass" : "removeClass"](map.getContainer(), "cp-pl-adding");
  }
  addBtn.addEventListener("click", function () { setAdding(!adding); });
  map.on("click", function (e) {
    if (!adding) return;
    var ll = e.latlng.wrap();
    try {
      var id = api.add(Math.round(ll.lat * 1e5) / 1e5, Math.round(ll.lng * 1e5) / 1e5);
      var sm = api.summary().summary;
      addMsg.className = "cp-pl-msg";
      addMsg.textContent = visible("Added " + api.sites()[id].name + ": " + sm.covered + " of " +
        sm.districts + " districts covered (" + pct(sm.percent) + ").");
    } catch (err) {  // e.g. a travel-time rule: no road minutes for a place clicked
      addMsg.className = "cp-pl-msg cp-pl-error";
      addMsg.textContent = visible(err && err.message || err);
    }
  });
  var sugBtn = el("button", "cp-pl-button", "Suggest the next site", actBody);
  sugBtn.type = "button";
  sugBtn.hidden = typeof api.suggest !== "function";  // (a part before this one adds it)
  var sugMsg = el("div", "cp-pl-msg cp-pl-suggestion", null, actBody);
  sugMsg.setAttribute("role", "status");
  function explain(r) {  // suggest(): null, or {id, name, text, ...} (the text: plan's words)
    sugMsg.textContent = "";
    if (!r) {
      sugMsg.textContent = "No closed site would cover a district more.";
      return;
    }
    el("div", null, r.text || r.name, sugMsg);
    var open = el("button", "cp-pl-button", "Open it", sugMsg);
    open.type = "button";
    open.addEventListener("click", function () {
      api.toggle(r.id, true);
      var site = api.sites()[r.id];
      map.panTo([site.lat, site.lon]);
    });
  }
  sugBtn.addEventListener("click", function () {
    sugMsg.textContent = "Looking…";
    Promise.resolve().then(function () { return api.suggest(); }).then(explain, function (e) {
      sugMsg.textContent = visible("No suggestion: " + (e && e.message || e));
    });
  });

});
