/* TinyDesk, registering the GitHub App: take the manifest to GitHub at once.
 *
 * The page works without this file (its button submits the same form); with it, the form
 * is submitted as soon as the page is read, as Probot's setup page does.
 */
(function () {
  "use strict";

  var form = document.getElementById("manifest-form");
  if (form && !form.getAttribute("data-sent")) {
    form.setAttribute("data-sent", "1");
    form.submit();
  }
})();
