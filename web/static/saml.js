// Carries a SAML message to the service: the form posts itself. Without this script
// the page shows its button, which does the same.
(function () {
  "use strict";
  var form = document.getElementById("saml-post");
  if (form) {
    form.submit();
  }
})();
