// ReDoc at /redoc, from the service's own files (no CDN, no inline script: CSP script-src 'self').
(function () {
  "use strict";
  window.addEventListener("DOMContentLoaded", function () {
    var root = document.getElementById("redoc");
    // The search index runs in a blob: worker, which the CSP does not allow.
    window.Redoc.init(root.dataset.openapiUrl, { disableSearch: true }, root);
  });
})();
