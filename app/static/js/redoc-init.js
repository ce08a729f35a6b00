// ReDoc at /redoc, from the service's own files (no CDN, no inline script: CSP script-src 'self').
(function () {
  "use strict";
  window.addEventListener("DOMContentLoaded", function () {
    var root = document.getElementById("redoc");
    window.Redoc.init(
      root.dataset.openapiUrl,
      {
        // Its styled-components <style> elements carry the nonce this response's CSP allows.
        nonce: root.dataset.styleNonce,
        // The search index runs in a blob: worker, which the CSP does not allow.
        disableSearch: true,
      },
      root
    );
  });
})();
