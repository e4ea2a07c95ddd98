// A small formatting toolbar for rich-text fields: it wraps the selected text of the
// textarea it controls in HTML tags (the server sanitizes whatever is sent). Without
// JavaScript the toolbar stays hidden and the textarea accepts the same HTML by hand.
(function () {
  "use strict";
  document.querySelectorAll(".rt-toolbar[aria-controls]").forEach(function (bar) {
    var ta = document.getElementById(bar.getAttribute("aria-controls"));
    if (!ta) return;
    bar.hidden = false;
    function replace(before, after) {
      var s = ta.selectionStart, e = ta.selectionEnd, v = ta.value;
      ta.value = v.slice(0, s) + before + v.slice(s, e) + after + v.slice(e);
      ta.focus();
      ta.setSelectionRange(s + before.length, e + before.length);
    }
    bar.addEventListener("click", function (ev) {
      var b = ev.target.closest("button");
      if (!b) return;
      if (b.dataset.wrap) {
        replace("<" + b.dataset.wrap + ">", "</" + b.dataset.wrap + ">");
      } else if (b.dataset.list) {
        var lines = ta.value.slice(ta.selectionStart, ta.selectionEnd).split("\n");
        var items = lines.map(function (l) { return "<li>" + l + "</li>"; }).join("\n");
        var s = ta.selectionStart, e = ta.selectionEnd;
        ta.value = ta.value.slice(0, s) + "<" + b.dataset.list + ">\n" + items + "\n</" + b.dataset.list + ">" + ta.value.slice(e);
        ta.focus();
      } else if (b.hasAttribute("data-link")) {
        var url = window.prompt(b.dataset.prompt || "URL");
        if (url && /^(https?:|mailto:|\/)/.test(url)) {
          replace('<a href="' + url.replace(/"/g, "%22") + '">', "</a>");
        }
      }
    });
    // Arrow keys move between the toolbar's buttons (one tab stop).
    var buttons = Array.prototype.slice.call(bar.querySelectorAll("button"));
    buttons.forEach(function (b, i) { b.tabIndex = i === 0 ? 0 : -1; });
    bar.addEventListener("keydown", function (ev) {
      var i = buttons.indexOf(document.activeElement);
      if (i < 0) return;
      var j = ev.key === "ArrowRight" ? i + 1 : ev.key === "ArrowLeft" ? i - 1 : ev.key === "Home" ? 0 : ev.key === "End" ? buttons.length - 1 : -1;
      if (j === -1 && ev.key !== "ArrowRight" && ev.key !== "ArrowLeft") return;
      ev.preventDefault();
      j = (j + buttons.length) % buttons.length;
      buttons[i].tabIndex = -1;
      buttons[j].tabIndex = 0;
      buttons[j].focus();
    });
  });
})();
