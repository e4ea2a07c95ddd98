// Progress of AAF imports in the console. Without this script the pages still work:
// the form posts normally and the job page says to reload it.
(function () {
  "use strict";
  var form = document.getElementById("aaf-upload");
  if (form) {
    form.addEventListener("submit", function (ev) {
      var bar = document.getElementById("upload-progress");
      var status = document.getElementById("upload-status");
      if (!bar || !window.XMLHttpRequest || !window.FormData) return;
      ev.preventDefault();
      var xhr = new XMLHttpRequest();
      xhr.open("POST", form.action);
      bar.hidden = false;
      xhr.upload.addEventListener("progress", function (e) {
        if (e.lengthComputable) {
          bar.max = e.total;
          bar.value = e.loaded;
          status.textContent = status.dataset.sending.replace("%d", Math.round(100 * e.loaded / e.total));
        }
      });
      xhr.addEventListener("load", function () {
        // The answer is the job's page (after the redirect) or an error page.
        if (xhr.status === 200 && xhr.responseURL) {
          window.location.assign(xhr.responseURL);
        } else {
          document.open();
          document.write(xhr.responseText);
          document.close();
        }
      });
      xhr.addEventListener("error", function () {
        status.textContent = status.dataset.failed;
      });
      xhr.send(new FormData(form));
    });
  }
  var job = document.getElementById("aaf-job");
  if (job && job.dataset.status === "running") {
    var poll = function () {
      fetch(job.dataset.url, { credentials: "same-origin", headers: { "Accept": "application/json" } })
        .then(function (r) { return r.json(); })
        .then(function (j) {
          var bar = document.getElementById("job-progress");
          bar.max = Math.max(j.files_total, 1);
          bar.value = j.files_done;
          document.getElementById("job-files").textContent = j.files_done + " / " + j.files_total;
          if (j.status !== "running") {
            window.location.reload();
          } else {
            window.setTimeout(poll, 1000);
          }
        })
        .catch(function () { window.setTimeout(poll, 3000); });
    };
    window.setTimeout(poll, 1000);
  }
})();
