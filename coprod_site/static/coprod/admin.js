// coprod's additions to the Django admin: names for widgets that the admin's scripts
// build without one (templates/admin/base_site.html loads this file).
"use strict";
(function () {
  function labelFor(select) {
    if (select.getAttribute("aria-label")) return select.getAttribute("aria-label");
    const label = select.id && document.querySelector('label[for="' + select.id + '"]');
    return label ? label.textContent.replace(/:\s*$/, "").trim() : "";
  }
  function nameWidgets() {
    // select2 (autocomplete fields) draws a combobox beside the hidden <select>.
    document.querySelectorAll("select.admin-autocomplete").forEach(function (select) {
      const widget = select.nextElementSibling;
      const name = labelFor(select);
      if (!widget || !name) return;
      widget.querySelectorAll('[role="combobox"], [role="textbox"]').forEach(function (part) {
        if (part.getAttribute("aria-label") !== name) part.setAttribute("aria-label", name);
      });
    });
    // A split date and time (Django's own user page) labels only its first box.
    document.querySelectorAll("p.datetime input").forEach(function (input) {
      if (input.labels.length || input.getAttribute("aria-label")) return;
      const row = input.closest(".form-row, .fieldBox");
      const label = row && row.querySelector("label");
      const part = input.previousSibling && input.previousSibling.textContent.replace(/[:\s]+$/, "").trim();
      const name = [label && label.textContent.replace(/:\s*$/, "").trim(), part].filter(Boolean);
      if (name.length) input.setAttribute("aria-label", name.join(" — "));
    });
    // The "filter horizontal" widget's magnifying glass is an image with a name.
    document.querySelectorAll(".search-label-icon[aria-label]").forEach(function (icon) {
      icon.setAttribute("role", "img");
    });
  }
  // The widgets are drawn by other scripts, at load and whenever a row is added: name
  // them after every change to the page.
  let pending = false;
  function soon() {
    if (pending) return;
    pending = true;
    setTimeout(function () { pending = false; nameWidgets(); }, 0);
  }
  document.addEventListener("DOMContentLoaded", function () {
    soon();
    new MutationObserver(soon).observe(document.body, { childList: true, subtree: true });
  });
})();
