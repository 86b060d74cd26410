/* サンプル銀行: progressive enhancement only; every page works without JavaScript.
   - Focus the error summary after a failed submit (screen readers announce it).
   - Disable a form's submit buttons once it is submitted (the idempotency key protects anyway). */
document.addEventListener("DOMContentLoaded", function () {
  var summary = document.querySelector("[data-error-summary]");
  if (summary) { summary.focus(); }
  document.querySelectorAll("form[data-once]").forEach(function (form) {
    form.addEventListener("submit", function () {
      window.setTimeout(function () {
        form.querySelectorAll("button[type=submit]").forEach(function (button) { button.disabled = true; });
      }, 0);
    });
  });
});
