// A background job's page (templates/survey/_job_status.html), while the job runs: the
// status block is read again from the same page every few seconds and put in place, until
// the job has ended. A page that reloads itself (meta refresh) would take the reader's
// place and focus away each time; without this script the page says how to see progress.
(function () {
  "use strict";
  var SELECTOR = ".job-status[data-poll]";

  function poll(block) {
    var seconds = Number(block.dataset.poll) || 2;
    window.setTimeout(function () {
      fetch(window.location.href, { credentials: "same-origin", headers: { Accept: "text/html" } })
        .then(function (response) {
          if (!response.ok) throw new Error(response.status);
          return response.text();
        })
        .then(function (html) {
          var fresh = new DOMParser().parseFromString(html, "text/html").querySelector(".job-status");
          if (!fresh) return;
          block.innerHTML = fresh.innerHTML;
          if (fresh.hasAttribute("data-poll")) {
            poll(block);
          } else {
            block.removeAttribute("data-poll");
          }
        })
        .catch(function () {
          poll(block); // a restart of the server, a dropped connection: try again
        });
    }, seconds * 1000);
  }

  document.querySelectorAll(SELECTOR).forEach(poll);
})();
