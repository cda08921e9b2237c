// jiraguard admin UI: the little behaviour the pages need, no framework, no build step.
// Served from /admin/static (the Content-Security-Policy allows no inline script).
(function () {
  "use strict";
  // Audit log: reload the table every 5 s while "auto-refresh" is ticked.
  var box = document.getElementById("auto-refresh");
  var target = document.getElementById("events");
  if (box && target) {
    var timer = null;
    var refresh = function () {
      fetch(box.dataset.rows, { credentials: "same-origin", headers: { Accept: "text/html" } })
        .then(function (r) { return r.ok ? r.text() : Promise.reject(r.status); })
        .then(function (html) { target.innerHTML = html; })
        .catch(function () { /* keep the last table; the next tick tries again */ });
    };
    box.addEventListener("change", function () {
      if (timer) { clearInterval(timer); timer = null; }
      if (box.checked) { refresh(); timer = setInterval(refresh, 5000); }
    });
  }
})();
