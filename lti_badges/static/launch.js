/* The launch's page credential, kept in this browsing context and nowhere else.
 *
 * A launch leaves a short-lived credential in its page (never in an address). This script
 * keeps it in sessionStorage (this tab or iframe only, per course), sends it with what
 * the page asks of the tool (the X-Launch-Credential header; an "lt" field added to forms
 * as they are sent), and renews it while the page is in use. An address of the tool
 * opened without it (copied, bookmarked, in a new tab) is answered with a page that has
 * no data: this script loads the address again with the credential this context holds,
 * or says to open the tool from the course. Where sessionStorage is refused, the
 * credential lives in this page's memory and links and forms load in place. */
(function () {
  "use strict";
  var HEADER = "X-Launch-Credential";
  var PREFIX = "lti-badges:credential:";
  var memory = window.__ltiBadgesMemory || (window.__ltiBadgesMemory = {});

  var store = (function () {
    try {
      var s = window.sessionStorage;
      s.setItem(PREFIX + "probe", "1");
      s.removeItem(PREFIX + "probe");
      return s;
    } catch (e) { return null; }
  })();

  function courseOf(path) {
    var m = /^\/course\/(\d+)(\/|$)/.exec(path || "");
    return m ? m[1] : null;
  }
  function read(key) {
    var raw = store ? store.getItem(PREFIX + key) : memory[key];
    if (!raw) { return null; }
    try { return JSON.parse(raw); } catch (e) { return null; }
  }
  function write(key, value) {
    var raw = JSON.stringify(value);
    if (store) { store.setItem(PREFIX + key, raw); } else { memory[key] = raw; }
  }
  function put(courseId, credential, ttl) {
    var entry = { c: credential, at: Date.now(), ttl: ttl || 900, course: String(courseId || "") };
    if (courseId) { write(String(courseId), entry); }
    write("last", entry);
  }
  /* The credential for an address: its course's, or the newest for the tool's other pages. */
  function entryFor(path) {
    var course = courseOf(path);
    return (course && read(course)) || (course ? null : read("last"));
  }
  function credential(path) {
    var e = entryFor(path || location.pathname);
    return e ? e.c : null;
  }
  function keepNext(response, path) {
    var next = response.headers.get(HEADER + "-Next");
    var e = entryFor(path);
    if (next) { put(e ? e.course : courseOf(path), next, e ? e.ttl : null); }
  }
  function sameOrigin(url) {
    try { return new URL(url, location.href).origin === location.origin; } catch (e) { return false; }
  }

  /* fetch() with the credential, keeping the renewed one the answer brings. */
  function authFetch(url, init) {
    init = init || {};
    var path = new URL(url, location.href).pathname;
    var headers = new Headers(init.headers || {});
    var c = credential(path);
    if (c && sameOrigin(url)) { headers.set(HEADER, c); }
    init.headers = headers;
    init.credentials = "same-origin";
    return fetch(url, init).then(function (r) { keepNext(r, path); return r; });
  }
  /* JSON request headers; ltiBadges.fetch adds the credential itself. */
  function headers(extra) {
    var h = { "Accept": "application/json" };
    for (var k in extra || {}) { h[k] = extra[k]; }
    return h;
  }

  /* Show an answer of the tool as this document (same address, no credential in it). */
  function show(response, html, push) {
    var url = response.url || location.href;
    var hash = new URL(url, location.href).hash || location.hash;
    var target = url.split("#")[0] + hash;
    if (push) { history.pushState(null, "", target); } else { history.replaceState(null, "", target); }
    document.open();
    document.write(html);
    document.close();
    if (hash && hash.length > 1) {
      var el = document.getElementById(decodeURIComponent(hash.slice(1)));
      if (el) { el.scrollIntoView(); }
    }
  }
  function load(url, init, push) {
    init = init || {};
    init.headers = new Headers(init.headers || {});
    init.headers.set("Accept", "text/html");
    return authFetch(url, init).then(function (r) {
      var type = r.headers.get("Content-Type") || "";
      if (type.indexOf("text/html") === -1) { return saveAs(r); }
      return r.text().then(function (html) { show(r, html, push); });
    });
  }

  /* A file behind the credential (CSV export, credential JSON): fetched, then saved. */
  function saveAs(response) {
    var disposition = response.headers.get("Content-Disposition") || "";
    var m = /filename\*?=(?:UTF-8'')?"?([^";]+)"?/i.exec(disposition);
    var name = m ? decodeURIComponent(m[1]) : "download";
    return response.blob().then(function (blob) {
      var a = document.createElement("a");
      a.href = URL.createObjectURL(blob);
      a.download = name;
      document.body.appendChild(a);
      a.click();
      setTimeout(function () { URL.revokeObjectURL(a.href); a.remove(); }, 1000);
    });
  }

  function showOpenFromCourse() {
    var checking = document.getElementById("checking");
    var box = document.getElementById("open-from-course");
    if (checking) { checking.hidden = true; }
    if (box) { box.hidden = false; }
  }

  window.ltiBadges = { credential: credential, headers: headers, fetch: authFetch, load: load };

  // 1. The page a launch answers with: keep its credential, then go to the tool's page.
  var launching = document.getElementById("launch-credential");
  if (launching) {
    var data = JSON.parse(launching.textContent);
    put(data.course_id, data.credential, data.ttl);
    launching.remove();
    if (store) { location.replace(data.target); } else { load(data.target); }
    return;
  }

  // 2. An address opened without its credential: load it with the one held here, if any.
  var page = document.querySelector('meta[name="lti-badges-page"]');
  if (page && page.content === "continue") {
    if (!credential()) { showOpenFromCourse(); return; }
    load(location.href).catch(showOpenFromCourse);
    return;
  }

  // 3. A page of a launch: forms and downloads carry the credential; it renews while used.
  if (!document.querySelector('meta[name="lti-badges-session"]')) { return; }

  document.addEventListener("submit", function (ev) {
    var form = ev.target;
    if (!(form instanceof HTMLFormElement) || !sameOrigin(form.action)) { return; }
    var c = credential(new URL(form.action, location.href).pathname);
    if (!c) { return; }
    if ((form.method || "get").toLowerCase() === "post") {
      var field = form.querySelector('input[name="lt"]');
      if (!field) {
        field = document.createElement("input");
        field.type = "hidden";
        field.name = "lt";
        form.appendChild(field);
      }
      field.value = c;
    }
    if (!store && !ev.defaultPrevented && !form.target) {
      // No sessionStorage: the next document would not know the credential; load in place.
      ev.preventDefault();
      var post = (form.method || "get").toLowerCase() === "post";
      var url = form.action;
      var init = { method: post ? "POST" : "GET" };
      if (post) { init.body = new FormData(form); } else {
        url = url.split("?")[0] + "?" + new URLSearchParams(new FormData(form)).toString();
      }
      load(url, init, true);
    }
  });

  document.addEventListener("click", function (ev) {
    var a = ev.target instanceof Element ? ev.target.closest("a[href]") : null;
    if (!a || ev.defaultPrevented || ev.button !== 0 || ev.metaKey || ev.ctrlKey || ev.shiftKey) {
      return;
    }
    if (!sameOrigin(a.href)) { return; }
    if (a.hasAttribute("data-auth-download")) {
      ev.preventDefault();
      authFetch(a.href, {}).then(saveAs);
      return;
    }
    if (!store && !a.target && !a.hasAttribute("download") && courseOf(new URL(a.href).pathname)) {
      ev.preventDefault();
      load(a.href, {}, true);
    }
  });
  if (!store) {
    window.addEventListener("popstate", function () { load(location.href); });
  }

  // Renewal: while someone uses the page, get a fresh credential before this one ends.
  // (Once per window: a document loaded in place runs this script again.)
  window.__ltiBadgesLastUse = Date.now();
  ["click", "keydown", "input", "scroll", "pointerdown"].forEach(function (type) {
    document.addEventListener(type, function () { window.__ltiBadgesLastUse = Date.now(); },
                              { passive: true, capture: true });
  });
  function renewIfDue() {
    var e = entryFor(location.pathname);
    if (!e) { return; }
    var ttl = (e.ttl || 900) * 1000;
    var age = Date.now() - e.at;
    if (age > ttl / 3 && Date.now() - window.__ltiBadgesLastUse < ttl && age < ttl) {
      authFetch("/lti/session/renew", { method: "POST", headers: { "Accept": "application/json" } })
        .then(function (r) { return r.ok ? r.json() : null; })
        .then(function (d) { if (d && d.credential) { put(e.course, d.credential, d.expires_in); } })
        .catch(function () {});
    }
  }
  window.ltiBadges.renewIfDue = renewIfDue;
  if (!window.__ltiBadgesTimer) {
    window.__ltiBadgesTimer = setInterval(function () { window.ltiBadges.renewIfDue(); }, 30000);
  }
  document.addEventListener("visibilitychange", function () {
    if (document.visibilityState === "visible") { renewIfDue(); }
  });
})();
