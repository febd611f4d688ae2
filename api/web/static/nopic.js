// Shows that a submitted form is being worked on: its button turns busy (Pico draws a spinner)
// and is disabled, and "Working…" is said in a polite live region. The forms work without it.
"use strict";

(function () {
  var WORKING = "Working\u2026";

  function submitButton(form, event) {
    if (event.submitter) {
      return event.submitter;
    }
    return form.querySelector('button[type="submit"], button:not([type]), input[type="submit"]');
  }

  // A live region is announced when its text changes, not when it appears: each form gets its
  // empty one now, before any submission.
  function addProgress(form) {
    var progress = document.createElement("small");
    progress.className = "progress";
    progress.setAttribute("aria-live", "polite");
    form.appendChild(progress);
    return progress;
  }

  function markBusy(form, button) {
    form.dataset.busy = "true";
    if (button) {
      button.setAttribute("aria-busy", "true");
      // After the event, when the form data are taken: a disabled button would leave out its
      // own name and value.
      setTimeout(function () {
        button.disabled = true;
      }, 0);
    }
    var progress = form.querySelector(":scope > .progress");
    if (progress) {
      progress.textContent = WORKING;
    }
  }

  function reset(form) {
    delete form.dataset.busy;
    form.querySelectorAll('[aria-busy="true"]').forEach(function (button) {
      button.removeAttribute("aria-busy");
      button.disabled = false;
    });
    var progress = form.querySelector(":scope > .progress");
    if (progress) {
      progress.textContent = "";
    }
  }

  document.querySelectorAll("form").forEach(addProgress);

  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!(form instanceof HTMLFormElement)) {
      return;
    }
    if (form.dataset.busy) {
      // A second press while the first is on its way: one submission only.
      event.preventDefault();
      return;
    }
    markBusy(form, submitButton(form, event));
  });

  // Back to a page kept in the browser's cache: its forms are ready again.
  window.addEventListener("pageshow", function (event) {
    if (event.persisted) {
      document.querySelectorAll("form").forEach(reset);
    }
  });
})();
