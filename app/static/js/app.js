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

  // The wizard's autosave (#stage-form, hx-swap="none"): the server's answer never touches the
  // fields, except when other questions now apply and it re-renders the form. Then what the user
  // entered while the save was in flight is put back (it is not in the answer), help kept open,
  // and saved by the next autosave.
  function wizardForm(event) {
    var form = event.detail && event.detail.elt;
    return form instanceof HTMLFormElement && form.id === "stage-form" ? form : null;
  }

  function fieldsOf(form) {
    var state = {};
    form.querySelectorAll("input[id]:not([type=hidden])").forEach(function (input) {
      state[input.id] = input.type === "radio" || input.type === "checkbox"
        ? input.checked : input.value;
    });
    return state;
  }

  function openHelp(form) {
    var open = [];
    form.querySelectorAll("details[id][open]").forEach(function (details) {
      open.push(details.id);
    });
    return open;
  }

  var sent = null;      // the fields as the save in flight sent them
  var entered = null;   // the fields just before a re-render replaced them
  var helpOpen = [];

  // Keep what the user changed after the save was sent; the server's rendering stands for the rest.
  function putBack(form) {
    var restored = false;
    Object.keys(entered).forEach(function (id) {
      if (sent && sent[id] === entered[id]) return;
      var input = document.getElementById(id);
      if (!(input instanceof HTMLInputElement) || !form.contains(input)) return;
      if (typeof entered[id] === "boolean") {
        if (input.checked !== entered[id]) { input.checked = entered[id]; restored = true; }
      } else if (input.value !== entered[id]) {
        input.value = entered[id];
        restored = true;
      }
    });
    helpOpen.forEach(function (id) {
      var details = document.getElementById(id);
      if (details instanceof HTMLDetailsElement && form.contains(details)) details.open = true;
    });
    return restored;
  }

  // A field's error comes in its slot (.field-error-slot) out of band: mark the field to match.
  function markErrors(form) {
    form.querySelectorAll(".field-error-slot").forEach(function (slot) {
      var box = slot.closest(".question");
      if (!box) return;
      var error = slot.querySelector(".field-error");
      box.classList.toggle("has-error", !!error);
      var fields = box.querySelectorAll('input[type="text"]');
      fields.forEach(function (field) {
        if (error) field.setAttribute("aria-invalid", "true");
        else field.removeAttribute("aria-invalid");
      });
      var described = box instanceof HTMLFieldSetElement ? [box] : fields;
      described.forEach(function (element) {
        var ids = (element.getAttribute("aria-describedby") || "").split(/\s+/)
          .filter(function (id) { return id && id.indexOf("err-") !== 0; });
        if (error) ids.push(error.id);
        if (ids.length) element.setAttribute("aria-describedby", ids.join(" "));
        else element.removeAttribute("aria-describedby");
      });
    });
  }

  // Autosave status while a save is in flight (htmx adds .htmx-request to the form).
  document.addEventListener("htmx:beforeRequest", function (event) {
    var form = wizardForm(event);
    if (!form) return;
    sent = fieldsOf(form);
    entered = null;
    var status = document.getElementById("save-status");
    if (status && status.dataset.saving) status.textContent = status.dataset.saving;
  });

  document.addEventListener("htmx:beforeSwap", function (event) {
    var form = wizardForm(event);
    if (!form || !event.detail.shouldSwap || event.detail.target !== form) return;
    var swap = event.detail.swapOverride || form.getAttribute("hx-swap") || "";
    if (swap.indexOf("none") === 0) return;
    entered = fieldsOf(form);
    helpOpen = openHelp(form);
  });

  // After the answer is swapped in, before a queued save is sent (it reads the fields then).
  document.addEventListener("htmx:afterRequest", function (event) {
    var form = wizardForm(event);
    if (!form) return;
    if (entered && event.detail.successful && putBack(form)) {
      form.dispatchEvent(new Event("change"));  // save what was put back
    }
    entered = null;
    markErrors(form);
  });

  // The what-if's answer names the answers it cannot score in a 422, which htmx would not swap
  // in (it swaps no 4xx): shown like any other answer, in its place.
  document.addEventListener("htmx:beforeSwap", function (event) {
    var xhr = event.detail.xhr;
    var target = event.detail.target;
    if (xhr && xhr.status === 422 && target && target.id === "what-if-result") {
      event.detail.shouldSwap = true;
      event.detail.isError = false;
    }
  });

  // A failed autosave must not look like a success: a network problem or server error says so,
  // an ended session (401) says that and offers to sign in again.
  function saveFailed(event) {
    var status = document.getElementById("save-status");
    if (!status || !status.dataset.failed) return;
    var xhr = event.detail && event.detail.xhr;
    if (xhr && xhr.status === 401 && status.dataset.ended) {
      status.textContent = status.dataset.ended + " ";
      var link = document.createElement("a");
      link.href = "/login?next=" + encodeURIComponent(location.pathname + location.search);
      link.textContent = status.dataset.signIn;
      status.appendChild(link);
      return;
    }
    status.textContent = status.dataset.failed;
  }
  document.addEventListener("htmx:responseError", saveFailed);
  document.addEventListener("htmx:sendError", saveFailed);
})();
