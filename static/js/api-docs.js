// Starts Swagger UI (served from static/build, copied from package-lock.json's swagger-ui-dist)
// with the settings the server put in the page; no inline script, so the CSP stays strict.
(() => {
  const settings = JSON.parse(document.getElementById("swagger-settings").textContent);
  const csrfToken = document.body.dataset.csrfToken;
  window.SwaggerUIBundle({
    ...settings,
    dom_id: "#swagger-ui",
    presets: [window.SwaggerUIBundle.presets.apis],
    layout: "BaseLayout",
    // "Try it out" from a logged-in browser uses the session, which needs the CSRF token.
    requestInterceptor: (request) => {
      if (csrfToken) request.headers["X-CSRFToken"] = csrfToken;
      return request;
    },
  });
})();
