// ordo's web UI: times in the browser's time zone, and the live parts of a page refreshed
// while something runs. No build step, nothing fetched from elsewhere.
(function () {
  "use strict";
  var EVERY_MS = 2000;

  function localTimes(root) {
    root.querySelectorAll("time[datetime]").forEach(function (el) {
      var moment = new Date(el.getAttribute("datetime"));
      if (isNaN(moment.getTime())) { return; }
      el.title = el.getAttribute("datetime");
      el.textContent = moment.toLocaleString(undefined, {
        year: "numeric", month: "short", day: "numeric",
        hour: "2-digit", minute: "2-digit", second: "2-digit", timeZoneName: "short"
      });
    });
  }

  function toEnd(root) {
    root.querySelectorAll("pre[data-tail]").forEach(function (el) { el.scrollTop = el.scrollHeight; });
  }

  // While something on the part runs it is asked again every 2 s; a part with data-idle
  // (the runs list, where a new run may appear) is asked at that slower pace otherwise.
  function poll(el) {
    var active = el.getAttribute("data-active") === "true";
    var idle = parseInt(el.getAttribute("data-idle") || "0", 10);
    if (!active && !idle) { return; }
    window.setTimeout(function () {
      fetch(el.getAttribute("data-poll"), { credentials: "same-origin", headers: { "Accept": "text/html" } })
        .then(function (answer) {
          if (answer.status === 401) { window.location.reload(); return null; }
          return answer.ok ? answer.text() : null;
        })
        .then(function (html) {
          if (html === null || html === undefined) { poll(el); return; }
          var holder = document.createElement("div");
          holder.innerHTML = html;
          var fresh = holder.firstElementChild;
          if (!fresh) { poll(el); return; }
          el.querySelectorAll("details[id][open]").forEach(function (open) {
            var same = fresh.querySelector("details#" + open.id);
            if (same) { same.open = true; }  // what the reader opened stays open
          });
          el.replaceWith(fresh);
          localTimes(fresh);
          toEnd(fresh);
          poll(fresh);
        })
        .catch(function () { poll(el); });
    }, active ? EVERY_MS : idle);
  }

  document.addEventListener("DOMContentLoaded", function () {
    localTimes(document);
    toEnd(document);
    document.querySelectorAll("[data-poll]").forEach(poll);
  });
})();
