// Renders /api/schema/ with Swagger UI (swagger-ui/, pinned by package-lock.json). Every
// option that would reach another origin is off: the machines that run ciphemic may have no
// internet, and the page's Content-Security-Policy allows this origin only.
"use strict";
window.addEventListener("DOMContentLoaded", function () {
  window.ui = SwaggerUIBundle({
    url: "/api/schema/",
    dom_id: "#swagger-ui",
    // The default sends the document to validator.swagger.io for a badge.
    validatorUrl: null,
    // Links to an operation (#/auth/tokenObtain) open and scroll to it.
    deepLinking: true,
    // A ?url= or ?configUrl= in the address must not make the page load another document.
    queryConfigEnabled: false,
    docExpansion: "list",
    defaultModelsExpandDepth: 0,
    displayRequestDuration: true,
    filter: true,
    showExtensions: true,
    showCommonExtensions: true,
    // Tokens live in this page's memory only, never in localStorage.
    persistAuthorization: false,
    requestSnippetsEnabled: true,
    syntaxHighlight: { activated: true, theme: "agate" }
  });
});
