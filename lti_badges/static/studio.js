/* The badge studio's small scripts: sync progress, progress counts, criteria builder
 * niceties and a live criteria preview. Every page works without them. */
(function () {
  "use strict";
  document.documentElement.classList.add("js");
  // A form sent back with errors: move focus to their summary so it is read first.
  var summary = document.getElementById("error-summary");
  if (summary) { summary.focus(); }
  var meta = function (name) {
    var el = document.querySelector('meta[name="' + name + '"]');
    return el ? el.getAttribute("content") : "";
  };
  var csrf = meta("csrf-token");
  // window.ltiBadges.fetch (static/launch.js) sends the launch's credential.
  var headers = function (extra) { return window.ltiBadges.headers(extra); };

  // -- Sync now: POST, then poll the run's JSON until it is finished.
  function poll(url) {
    var bar = document.getElementById("sync-progress");
    var msg = document.getElementById("sync-message");
    var box = document.getElementById("sync-progress-box");
    var button = document.getElementById("sync-now");
    var last = document.getElementById("last-sync");
    box.hidden = false;
    if (button) { button.disabled = true; }
    function tick() {
      window.ltiBadges.fetch(url, { headers: headers() })
        .then(function (r) { return r.json(); })
        .then(function (run) {
          bar.value = run.percent || 0;
          bar.textContent = (run.percent || 0) + " %";
          msg.textContent = run.message || run.status;
          // The "Last sync" line follows the run (server-rendered, escaped by the template).
          if (last && run.last_sync_html) { last.innerHTML = run.last_sync_html; }
          if (run.finished) {
            if (button) { button.disabled = false; }
            loadProgress(true);
          } else {
            setTimeout(tick, 800);
          }
        })
        .catch(function () { setTimeout(tick, 2000); });
    }
    tick();
  }
  var syncForm = document.getElementById("sync-form");
  if (syncForm) {
    syncForm.addEventListener("submit", function (ev) {
      ev.preventDefault();
      window.ltiBadges.fetch(syncForm.action, { method: "POST", body: new FormData(syncForm),
                               headers: headers({ "X-CSRF-Token": csrf }) })
        .then(function (r) { return r.json(); })
        .then(function (data) { if (data.status_url) { poll(data.status_url); } });
    });
    var box = document.getElementById("sync-progress-box");
    if (box && box.dataset.run) {
      poll(syncForm.dataset.statusBase.replace(/\/0$/, "/" + box.dataset.run));
    }
  }

  // -- Progress counts on the index: fetched after the page shows.
  function loadProgress(refresh) {
    var table = document.getElementById("badges");
    if (!table) { return; }
    var pending = table.querySelector(".pending");
    if (!pending && !refresh) { return; }
    var url = table.dataset.progressUrl + (refresh ? "?refresh=1" : "");
    var note = document.getElementById("progress-note");
    window.ltiBadges.fetch(url, { headers: headers() })
      .then(function (r) { return r.json(); })
      .then(function (data) {
        Object.keys(data.badges || {}).forEach(function (id) {
          var row = document.getElementById("badge-" + id);
          if (!row) { return; }
          row.querySelector(".earned").textContent = data.badges[id].earned;
          row.querySelector(".in-progress").textContent = data.badges[id].in_progress;
          row.querySelector(".ready").textContent = data.badges[id].ready;
        });
        if (note && data.errors && data.errors.length) { note.textContent = data.errors.join(" "); }
      });
  }
  loadProgress(false);

  // -- The criteria builder: show the fields of each condition's kind; add rows.
  function showFor(fieldset) {
    var select = fieldset.querySelector(".cond-type");
    var kind = select ? select.value : "";
    fieldset.querySelectorAll("[class^='for-'], [class*=' for-']").forEach(function (el) {
      var show = kind && el.className.split(" ").indexOf("for-" + kind) >= 0;
      el.hidden = !show;
    });
    var dates = fieldset.querySelector(".dates");
    if (dates) { dates.hidden = !kind; }
  }
  var conditions = document.getElementById("conditions");
  if (conditions) {
    conditions.querySelectorAll(".condition").forEach(showFor);
    conditions.addEventListener("change", function (ev) {
      var fs = ev.target.closest(".condition");
      if (fs && ev.target.classList.contains("cond-type")) { showFor(fs); }
    });
  }
  function cloneLast(container, selector, prefix) {
    var all = container.querySelectorAll(selector);
    var last = all[all.length - 1];
    var index = all.length;
    var copy = last.cloneNode(true);
    var old = last.dataset.index;
    copy.dataset.index = index;
    copy.id = copy.id ? copy.id.replace(/\d+$/, index) : "";
    copy.querySelectorAll("[id],[name],[for]").forEach(function (el) {
      ["id", "name", "for"].forEach(function (attr) {
        var v = el.getAttribute(attr);
        if (v && v.indexOf(prefix + old + "-") === 0) {
          el.setAttribute(attr, prefix + index + "-" + v.slice((prefix + old + "-").length));
        }
      });
      if (el.tagName === "INPUT") { el.value = ""; }
      if (el.tagName === "SELECT") { el.selectedIndex = 0; }
      el.removeAttribute("aria-invalid");
    });
    copy.querySelectorAll(".field-error").forEach(function (el) { el.remove(); });
    var legend = copy.querySelector("legend");
    if (legend) { legend.textContent = legend.textContent.replace(/\d+/, index + 1); }
    last.after(copy);
    return copy;
  }
  var addCondition = document.getElementById("add-condition");
  if (addCondition && conditions) {
    addCondition.hidden = false;
    addCondition.addEventListener("click", function () {
      var copy = cloneLast(conditions, ".condition", "c");
      showFor(copy);
      copy.querySelector("select").focus();
    });
  }
  var alignments = document.getElementById("alignments");
  var addAlignment = document.getElementById("add-alignment");
  if (alignments && addAlignment) {
    addAlignment.hidden = false;
    addAlignment.addEventListener("click", function () {
      cloneLast(alignments, ".alignment", "a").querySelector("input").focus();
    });
  }

  // Issuer: the new-issuer fields only when "a new issuer" is chosen.
  var issuer = document.getElementById("issuer");
  var newIssuer = document.getElementById("new-issuer");
  if (issuer && newIssuer) {
    var sync = function () { newIssuer.hidden = issuer.value !== "new"; newIssuer.classList.remove("when-new"); };
    issuer.addEventListener("change", sync);
    sync();
  }

  // Image: preview a chosen file at once, and pick "upload".
  var file = document.getElementById("image");
  if (file) {
    file.addEventListener("change", function () {
      var img = document.getElementById("image-preview");
      var upload = document.getElementById("image-mode-upload");
      if (upload) { upload.checked = true; }
      if (!file.files || !file.files[0] || !window.FileReader) { return; }
      var reader = new FileReader();
      reader.onload = function () { img.src = reader.result; img.hidden = false; };
      reader.readAsDataURL(file.files[0]);
    });
  }

  // Criteria: typing JSON switches to JSON; builder changes refresh the JSON and preview.
  var form = document.getElementById("badge-form");
  var json = document.getElementById("rule_json");
  if (form && json) {
    json.addEventListener("input", function () {
      var radio = document.getElementById("rule-mode-json");
      if (radio) { radio.checked = true; }
    });
    var timer = null;
    var refresh = function () {
      var data = new FormData(form);
      data.delete("image");
      window.ltiBadges.fetch(form.dataset.previewUrl, { method: "POST", body: data,
                                       headers: headers({ "X-CSRF-Token": csrf }) })
        .then(function (r) { return r.json(); })
        .then(function (body) {
          var mode = form.querySelector("input[name=rule_mode]:checked");
          if (mode && mode.value === "builder" && !(body.errors || []).length) {
            json.value = body.rule_json || "";
          }
          if (body.html) { document.getElementById("preview").innerHTML = body.html; }
        })
        .catch(function () {});
    };
    var builder = document.getElementById("criteria-fieldset");
    builder.addEventListener("change", function (ev) {
      if (ev.target === json || ev.target.name === "criteria_text" || ev.target.name === "criteria_url") { return; }
      var builderMode = document.getElementById("rule-mode-builder");
      if (builderMode && !builderMode.disabled && ev.target.name !== "rule_mode") { builderMode.checked = true; }
      clearTimeout(timer);
      timer = setTimeout(refresh, 500);
    });
  }
})();
