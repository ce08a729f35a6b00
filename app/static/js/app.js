// zhizao: small progressive enhancements. Every page works without this file.
// No inline scripts or handlers anywhere (CSP script-src 'self').
(function () {
  "use strict";

  // "None of these" / "not applicable" checkboxes stand alone: choosing one clears the others
  // of the same question, and choosing another option clears them. The server checks it too.
  document.addEventListener("change", function (event) {
    var box = event.target;
    if (!(box instanceof HTMLInputElement) || box.type !== "checkbox" || !box.checked) return;
    var group = box.closest("fieldset");
    if (!group) return;
    var boxes = group.querySelectorAll('input[type="checkbox"]');
    var exclusive = box.dataset.exclusive === "true";
    boxes.forEach(function (other) {
      if (other === box) return;
      if (exclusive || other.dataset.exclusive === "true") other.checked = false;
    });
  }, true);

  // Autosave status while a save is in flight (htmx adds .htmx-request to the form).
  document.addEventListener("htmx:beforeRequest", function (event) {
    var form = event.target;
    if (!(form instanceof HTMLFormElement) || form.id !== "stage-form") return;
    var status = document.getElementById("save-status");
    if (status && status.dataset.saving) status.textContent = status.dataset.saving;
  });

  // A failed autosave (network down, server error) must not look like a success.
  document.addEventListener("htmx:responseError", function (event) {
    var status = document.getElementById("save-status");
    if (status && status.dataset.failed) status.textContent = status.dataset.failed;
  });
  document.addEventListener("htmx:sendError", function () {
    var status = document.getElementById("save-status");
    if (status && status.dataset.failed) status.textContent = status.dataset.failed;
  });
})();
