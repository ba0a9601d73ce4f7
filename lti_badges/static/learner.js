// The learner's page: copy buttons for share links, and a reload while progress is checked.
// Everything works without this script; it only adds conveniences.
(function () {
  "use strict";
  document.querySelectorAll("button.copy[data-copy]").forEach(function (button) {
    if (!navigator.clipboard) { return; }
    button.hidden = false;
    button.addEventListener("click", function () {
      var field = document.getElementById(button.getAttribute("data-copy"));
      if (!field) { return; }
      navigator.clipboard.writeText(field.value).then(function () {
        var status = button.parentElement.nextElementSibling;
        if (status && status.classList.contains("copy-status")) {
          status.textContent = button.getAttribute("data-copied");
        }
      }, function () { field.select(); });
    });
  });
  // Progress still being read from the course: look again a few times, then stop.
  // (sessionStorage may be refused in a third-party iframe: then reload once, with a hash.)
  var key = "lti-badges-reload:" + location.pathname;
  var store = null;
  try { store = window.sessionStorage; store.getItem(key); } catch (e) { store = null; }
  if (document.getElementById("progress-pending")) {
    var tries = store ? Number(store.getItem(key) || "0") : (location.hash === "#checked" ? 5 : 0);
    if (tries < 5) {
      if (store) { store.setItem(key, String(tries + 1)); } else { location.hash = "checked"; }
      setTimeout(function () { location.reload(); }, 3000);
    }
  } else if (store) {
    store.removeItem(key);
  }
})();
