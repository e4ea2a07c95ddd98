// Préau — the toolbar of the content editor: buttons that put basic HTML around the
// selection of the textarea. Without this script the textarea works alone.
(function () {
  "use strict";
  function wrap(area, before, after, placeholder) {
    var start = area.selectionStart, end = area.selectionEnd;
    var text = area.value.slice(start, end) || placeholder;
    area.setRangeText(before + text + after, start, end, "select");
    area.selectionStart = start + before.length;
    area.selectionEnd = start + before.length + text.length;
    area.focus();
  }
  document.querySelectorAll("[data-editor]").forEach(function (box) {
    var area = box.querySelector("textarea");
    var bar = box.querySelector(".toolbar");
    if (!area || !bar) { return; }
    bar.hidden = false;
    bar.addEventListener("click", function (e) {
      var b = e.target.closest("button[data-tag]");
      if (!b) { return; }
      var tag = b.getAttribute("data-tag");
      switch (tag) {
        case "ul": {
          var lines = (area.value.slice(area.selectionStart, area.selectionEnd) || "…").split(/\r?\n/);
          wrap(area, "<ul>\n", "\n</ul>", "");
          var s = area.selectionStart;
          var items = lines.map(function (l) { return "  <li>" + l + "</li>"; }).join("\n");
          area.setRangeText(items, s, area.selectionEnd, "select");
          break;
        }
        case "a": {
          var href = window.prompt(b.getAttribute("data-prompt") || "URL", "https://");
          if (!href) { area.focus(); return; }
          href = href.replace(/"/g, "%22");
          wrap(area, '<a href="' + href + '">', "</a>", href);
          break;
        }
        default:
          wrap(area, "<" + tag + ">", "</" + tag + ">", "…");
      }
    });
    // Arrow keys move between the toolbar's buttons (one tab stop for the toolbar).
    var buttons = Array.prototype.slice.call(bar.querySelectorAll("button"));
    buttons.forEach(function (btn, i) { btn.tabIndex = i === 0 ? 0 : -1; });
    bar.addEventListener("keydown", function (e) {
      var i = buttons.indexOf(document.activeElement);
      if (i < 0) { return; }
      var j = e.key === "ArrowRight" ? i + 1 : e.key === "ArrowLeft" ? i - 1 : e.key === "Home" ? 0 : e.key === "End" ? buttons.length - 1 : -1;
      if (j === -1 && e.key !== "Home") { return; }
      e.preventDefault();
      j = (j + buttons.length) % buttons.length;
      buttons[i].tabIndex = -1;
      buttons[j].tabIndex = 0;
      buttons[j].focus();
    });
  });
})();
