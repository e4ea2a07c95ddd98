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
  var pendingSubmit = null; // a button pressed while a save was on its way
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
          status.textContent = status.dataset.saved.replace("%s", t.toLocaleTimeString(document.documentElement.lang || [], { hour: "2-digit", minute: "2-digit" }));
        } else if (res.j && res.j.error) {
          status.textContent = res.j.error.message;
        }
      })
      .catch(function () { status.textContent = status.dataset.failed; })
      .then(function () {
        saving = false;
        if (pendingSubmit) {
          // The button's POST carries the id the save just got: one draft, not two.
          var submitter = pendingSubmit;
          pendingSubmit = null;
          form.requestSubmit(submitter);
        } else if (again) {
          again = false;
          save();
        }
      });
  }
  form.addEventListener("submit", function (ev) {
    clearTimeout(timer);
    again = false;
    if (saving) {
      ev.preventDefault();
      pendingSubmit = ev.submitter || form.querySelector("#save-draft");
    }
  });
  form.addEventListener("input", function (ev) {
    if (ev.target && (ev.target.name === "files" || ev.target.name === "person_q")) return;
    clearTimeout(timer);
    timer = setTimeout(save, 1500);
  });
})();
