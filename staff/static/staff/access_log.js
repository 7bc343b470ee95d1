// Live refresh of the access log: every 3 s ask for the rows newer than the newest shown
// and put them on top. Without JavaScript the page is the same, minus the refresh.
(function () {
  "use strict";
  var table = document.querySelector("table[data-live-url]");
  if (!table || new URLSearchParams(location.search).has("before")) { return; }
  var body = table.tBodies[0];
  var badge = document.querySelector(".live");
  if (badge) { badge.hidden = false; }
  function newest() {
    var first = body.querySelector("tr[data-at]");
    return first ? first.getAttribute("data-at") : "";
  }
  function refresh() {
    var url = table.getAttribute("data-live-url");
    var after = newest();
    if (after) { url += "&after=" + encodeURIComponent(after); }
    fetch(url, {credentials: "same-origin", headers: {"X-Requested-With": "fetch"}})
      .then(function (answer) { return answer.ok ? answer.text() : ""; })
      .then(function (html) {
        if (!html.trim()) { return; }
        var holder = document.createElement("tbody");
        holder.innerHTML = html;
        var rows = Array.prototype.slice.call(holder.querySelectorAll("tr[data-key]"));
        rows.reverse().forEach(function (row) {
          if (!body.querySelector('tr[data-key="' + row.getAttribute("data-key") + '"]')) {
            row.classList.add("fresh");
            body.insertBefore(row, body.firstChild);
          }
        });
        var empty = document.querySelector("p.empty");
        if (empty && rows.length) { empty.remove(); }
      })
      .catch(function () { /* the next tick tries again */ });
  }
  setInterval(refresh, 3000);
})();
