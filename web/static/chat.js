// Discussions: live messages over server-sent events, sending without reloading.
// Progressive enhancement only: without this script the pages post and reload.
(function () {
  "use strict";
  if (!window.EventSource) return;
  var chat = document.querySelector("section.chat");
  var list = document.getElementById("chat-list");
  if (!chat && !list) return;

  var conv = chat ? chat.dataset.conversation : "";
  var me = chat ? chat.dataset.me : "";
  var messages = document.getElementById("messages");
  var live = document.getElementById("chat-live");
  var latest = chat && chat.dataset.latest === "true";

  function format(tpl) {
    var args = Array.prototype.slice.call(arguments, 1), i = 0;
    return tpl.replace(/%[sd]/g, function () { return String(args[i++]); });
  }

  function dateText(iso) {
    var d = new Date(iso), p = function (n) { return (n < 10 ? "0" : "") + n; };
    return p(d.getDate()) + "/" + p(d.getMonth() + 1) + "/" + d.getFullYear() + " " + p(d.getHours()) + ":" + p(d.getMinutes());
  }

  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined) e.textContent = text;
    return e;
  }

  function reportForm(m) {
    var d = el("details", "report");
    d.appendChild(el("summary", "", chat.dataset.report));
    var f = el("form");
    f.method = "post";
    f.action = "/discussions/messages/" + m.id + "/signaler";
    var h = el("input");
    h.type = "hidden"; h.name = "conversation"; h.value = conv;
    var l = el("label", "", chat.dataset.reason);
    l.htmlFor = "r-" + m.id;
    var i = el("input");
    i.id = "r-" + m.id; i.name = "motif"; i.type = "text"; i.maxLength = 500;
    var b = el("button", "", chat.dataset.sendReport);
    b.type = "submit";
    f.appendChild(h); f.appendChild(l); f.appendChild(i); f.appendChild(b);
    d.appendChild(f);
    return d;
  }

  function add(m) {
    if (!messages || !latest || document.getElementById("m-" + m.id)) return false;
    var li = el("li", "message" + (m.sender === me ? " mine" : ""));
    li.id = "m-" + m.id;
    li.dataset.id = m.id;
    var meta = el("p", "meta");
    meta.appendChild(el("strong", "", m.senderName));
    meta.appendChild(document.createTextNode(" "));
    var t = el("time", "", dateText(m.at));
    t.dateTime = m.at;
    meta.appendChild(t);
    li.appendChild(meta);
    if (m.removed) {
      li.appendChild(el("p", "body removed", chat.dataset.removed));
    } else {
      li.appendChild(el("p", "body", m.body));
      if (m.sender !== me) li.appendChild(reportForm(m));
    }
    messages.appendChild(li);
    var empty = document.getElementById("chat-empty");
    if (empty) empty.remove();
    return true;
  }

  function markRead(id) {
    fetch("/api/v1/discussions/" + encodeURIComponent(conv) + "/read", {
      method: "POST", credentials: "same-origin",
      headers: { "Content-Type": "application/json" }, body: JSON.stringify({ upTo: id })
    }).catch(function () {});
  }

  // The stream starts after the latest message the page shows, so that nothing
  // posted between the page and the stream is missed; reconnections resume from
  // the last event received (Last-Event-ID).
  var last = (chat || list).dataset.last || "0";
  var source = new EventSource("/discussions/flux?depuis=" + encodeURIComponent(last));
  var seen = {}; // a resumed stream may repeat messages: count each once
  source.addEventListener("message", function (e) {
    var m = JSON.parse(e.data);
    if (seen[m.id]) return;
    seen[m.id] = true;
    if (chat && m.conversation === conv) {
      if (add(m) && m.sender !== me) {
        live.textContent = format(chat.dataset.newFrom, m.senderName, m.body);
        if (document.visibilityState === "visible") markRead(m.id);
      }
      return;
    }
    if (list && m.sender !== me) {
      var row = list.querySelector('li[data-conversation="' + m.conversation + '"]');
      if (!row) return;
      var badge = row.querySelector(".unread");
      var n = parseInt(badge.dataset.unread || "0", 10) + 1;
      badge.dataset.unread = n;
      badge.textContent = badge.textContent.replace(/\d+/, n);
      badge.hidden = false;
      list.insertBefore(row, list.firstChild);
    }
  });
  source.addEventListener("removed", function (e) {
    var r = JSON.parse(e.data);
    var li = document.getElementById("m-" + r.id);
    if (!li || !chat) return;
    var body = li.querySelector(".body");
    body.textContent = chat.dataset.removed;
    body.classList.add("removed");
    var rep = li.querySelector(".report");
    if (rep) rep.remove();
  });

  var form = document.getElementById("chat-send");
  if (form && latest) {
    form.addEventListener("submit", function (e) {
      var area = form.querySelector("textarea");
      var body = area.value.trim();
      if (!body) return; // the server answers with the error
      e.preventDefault();
      var button = form.querySelector("button[type=submit]");
      button.disabled = true;
      fetch("/api/v1/discussions/" + encodeURIComponent(conv) + "/messages", {
        method: "POST", credentials: "same-origin",
        headers: { "Content-Type": "application/json" }, body: JSON.stringify({ body: body })
      }).then(function (r) {
        if (!r.ok) throw new Error(r.status);
        return r.json();
      }).then(function (m) {
        area.value = "";
        add(m);
        button.disabled = false;
        area.focus();
      }).catch(function () {
        form.submit(); // the ordinary post shows what went wrong
      });
    });
  }
})();
