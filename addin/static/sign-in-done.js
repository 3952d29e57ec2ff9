/*
 * The last page of a manual sign-in (Salesforce's OAuth), in the pane's Office dialog: tell
 * the pane how it went through Office.js (messageParent); the pane then closes the dialog.
 */
(function () {
  "use strict";
  const result = document.getElementById("sign-in-result");
  const message = {
    sidepane: "sign-in",
    ok: result.getAttribute("data-ok") === "true",
    message: result.getAttribute("data-message"),
  };
  Office.onReady(function () {
    Office.context.ui.messageParent(JSON.stringify(message));
  });
}());
