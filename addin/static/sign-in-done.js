/*
 * The last page of a manual sign-in (Salesforce's OAuth), in the window the pane opened: tell
 * the pane how it went, then close. A popup (the harness, browsers) posts to its opener on the
 * same origin; an Office dialog sends the message through Office.js.
 */
(function () {
  "use strict";
  const result = document.getElementById("sign-in-result");
  const message = {
    sidepane: "sign-in",
    ok: result.getAttribute("data-ok") === "true",
    message: result.getAttribute("data-message"),
  };
  if (window.opener && !window.opener.closed) {
    window.opener.postMessage(message, window.location.origin);
    window.close();
    return;
  }
  if (window.Office && typeof Office.onReady === "function") {
    Office.onReady(function () {
      const ui = Office.context && Office.context.ui;
      if (ui && typeof ui.messageParent === "function") ui.messageParent(JSON.stringify(message));
    });
  }
}());
