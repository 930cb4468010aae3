/* Small form behaviours declared with data- attributes (the Content-Security-Policy allows no inline
 * handlers such as onsubmit= or onclick=). Delegated from the document, so content swapped in by htmx
 * behaves the same.
 *
 *   <form data-confirm="删除该河段？">        asks before submitting; cancelling submits nothing
 *   <form data-wait="upload-wait">            on submit, disables its buttons and shows #upload-wait
 *   <input type="checkbox" data-check-all="ids">  (un)ticks every checkbox named "ids"
 *   <body data-reload-url="/plans/1/">          (base.html, on a page answering a POST: a refused form)
 *                                               the address becomes a plain GET of that page, so that
 *                                               reloading shows the page again and never resubmits the form
 */
(function () {
  "use strict";

  var reload = document.body && document.body.dataset.reloadUrl;
  if (reload && window.history && history.replaceState) {
    history.replaceState(history.state, "", reload + location.hash);
  }

  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!(form instanceof HTMLFormElement)) return;
    if (form.dataset.confirm && !window.confirm(form.dataset.confirm)) {
      event.preventDefault();
      return;
    }
    if (form.dataset.wait) {
      Array.prototype.forEach.call(form.querySelectorAll("button"), function (button) {
        button.disabled = true;
      });
      var note = document.getElementById(form.dataset.wait);
      if (note) note.classList.remove("d-none");
    }
  });

  document.addEventListener("change", function (event) {
    var box = event.target;
    if (!(box instanceof HTMLInputElement) || !box.dataset.checkAll) return;
    Array.prototype.forEach.call(document.querySelectorAll("input[type=checkbox]"), function (other) {
      if (other.name === box.dataset.checkAll) other.checked = box.checked;
    });
  });
})();
