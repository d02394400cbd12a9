// hookd dashboard: small enhancements; every page works without them.
(function () {
  "use strict";

  // Times in the viewer's own time zone.
  function localTimes(root) {
    var fmt = new Intl.DateTimeFormat(undefined, {
      month: "short", day: "numeric", hour: "2-digit", minute: "2-digit", second: "2-digit"
    });
    root.querySelectorAll("time[datetime]").forEach(function (t) {
      var d = new Date(t.getAttribute("datetime"));
      if (!isNaN(d)) {
        t.title = d.toString();
        t.textContent = fmt.format(d);
      }
    });
  }

  // Copy buttons: data-copy names the element whose text is copied.
  document.addEventListener("click", function (e) {
    var b = e.target.closest("[data-copy]");
    if (b) {
      var el = document.querySelector(b.getAttribute("data-copy"));
      if (!el) return;
      var text = el.textContent.trim();
      var done = function () {
        var was = b.textContent;
        b.textContent = "Copied";
        b.classList.add("done");
        setTimeout(function () { b.textContent = was; b.classList.remove("done"); }, 1500);
      };
      if (navigator.clipboard && window.isSecureContext) {
        navigator.clipboard.writeText(text).then(done, function () { select(el); });
      } else {
        select(el);
      }
      return;
    }
    var back = e.target.closest("[data-back]");
    if (back && history.length > 1) {
      e.preventDefault();
      history.back();
    }
  });

  function select(el) {
    var r = document.createRange();
    r.selectNodeContents(el);
    var s = window.getSelection();
    s.removeAllRanges();
    s.addRange(r);
  }

  // A datetime-local field is sent with the viewer's offset.
  document.addEventListener("submit", function (e) {
    var f = e.target;
    if (!f.hasAttribute("data-localtime")) return;
    f.querySelectorAll("input[type=datetime-local]").forEach(function (i) {
      if (!i.value) return;
      var d = new Date(i.value);
      if (isNaN(d)) return;
      var h = document.createElement("input");
      h.type = "hidden";
      h.name = i.name;
      h.value = d.toISOString().replace(/\.\d{3}Z$/, "Z");
      i.removeAttribute("name");
      f.appendChild(h);
    });
  });

  // The first page of a delivery list refreshes while it is open.
  function live(box) {
    var url = box.getAttribute("data-live");
    var busy = false;
    setInterval(function () {
      if (busy || document.hidden) return;
      busy = true;
      fetch(url, { credentials: "same-origin", headers: { "Accept": "text/html" } })
        .then(function (r) { return r.ok ? r.text() : null; })
        .then(function (html) {
          if (html !== null) {
            box.innerHTML = html;
            localTimes(box);
          }
        })
        .catch(function () {})
        .finally(function () { busy = false; });
    }, 2000);
  }

  document.addEventListener("DOMContentLoaded", function () {
    localTimes(document);
    document.querySelectorAll("[data-live]").forEach(live);
  });
})();
