// Messagerie: saves the draft as one types. Without this script the
// "Enregistrer le brouillon" button does the same.
(function () {
  "use strict";
  var form = document.getElementById("mail-compose");
  if (!form || !window.fetch || !window.FormData) return;
  var status = document.getElementById("autosave-status");
  var timer = null;
  var saving = false;
  var again = false;
  function save() {
    if (saving) { again = true; return; }
    saving = true;
    var data = new FormData(form);
    data.delete("files"); // files go with the buttons, not with each keystroke
    data.delete("action");
    fetch(form.dataset.autosave, { method: "POST", body: data, credentials: "same-origin", headers: { "Accept": "application/json" } })
      .then(function (r) { return r.json().then(function (j) { return { ok: r.ok, j: j }; }); })
      .then(function (res) {
        if (res.ok && res.j.id) {
          form.elements.id.value = res.j.id;
          var t = new Date(res.j.savedAt);
          status.textContent = status.dataset.saved.replace("%s", t.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" }));
        } else if (res.j && res.j.error) {
          status.textContent = res.j.error.message;
        }
      })
      .catch(function () { status.textContent = status.dataset.failed; })
      .then(function () {
        saving = false;
        if (again) { again = false; save(); }
      });
  }
  form.addEventListener("input", function (ev) {
    if (ev.target && (ev.target.name === "files" || ev.target.name === "person_q")) return;
    clearTimeout(timer);
    timer = setTimeout(save, 1500);
  });
})();
