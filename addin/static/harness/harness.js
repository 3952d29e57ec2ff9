/*
 * The dev harness: plays Outlook around the pane. It holds the sample items and the signed-in
 * rep, language, theme and pane width (kept in the address bar so a reload keeps them), shows
 * the selected item, and drives the Office.js stand-in inside the pane's iframe.
 */
(function () {
  "use strict";

  const samples = JSON.parse(document.getElementById("samples").textContent);
  const config = JSON.parse(document.getElementById("harness-config").textContent);
  const byKey = Object.fromEntries(samples.map(function (s) { return [s.key, s]; }));
  const form = document.getElementById("settings");
  const frame = document.getElementById("pane-frame");
  const reading = document.getElementById("reading");
  const params = new URLSearchParams(window.location.search);
  let selected = byKey[params.get("item")] || null;

  // The stand-in in the iframe calls these while it starts.
  window.SidepaneHarness = {
    settings: function () {
      const rep = form.elements.rep;
      return {
        rep: rep.value,
        repName: rep.selectedOptions[0].getAttribute("data-name"),
        language: form.elements.lang.value,
        theme: form.elements.theme.value,
        domain: config.domain,
      };
    },
    currentItem: function () { return selected ? selected.item : null; },
    currentSavedId: function () { return selected ? selected.saved_item_id : null; },
  };

  ["rep", "lang", "theme", "width"].forEach(function (name) {
    if (params.get(name)) form.elements[name].value = params.get(name);
  });

  function remember() {
    const query = new URLSearchParams();
    ["rep", "lang", "theme", "width"].forEach(function (name) { query.set(name, form.elements[name].value); });
    if (selected) query.set("item", selected.key);
    window.history.replaceState(null, "", "?" + query.toString());
  }

  // A new rep, language or theme restarts the add-in, as Outlook does.
  function startPane() {
    frame.width = form.elements.width.value;
    document.documentElement.dataset.theme = form.elements.theme.value;
    frame.src = "/pane?harness=" + Date.now();
    remember();
  }

  function text(tag, content, className) {
    const element = document.createElement(tag);
    element.textContent = content;
    if (className) element.className = className;
    return element;
  }

  function names(list) {
    return (list || []).map(function (p) { return p.displayName ? p.displayName + " <" + p.emailAddress + ">" : p.emailAddress; }).join("; ");
  }

  function showReading() {
    reading.replaceChildren();
    if (!selected) {
      reading.append(text("p", "Nothing is selected: a pinned pane shows its empty state.", "hint"));
      return;
    }
    const item = selected.item;
    reading.append(text("h1", item.subject || "(no subject)"));
    const rows = [
      ["From", item.from ? names([item.from]) : ""],
      ["Organizer", item.organizer ? names([item.organizer]) : ""],
      ["To", names(item.to)],
      ["Cc", names(item.cc)],
      ["Bcc", names(item.bcc)],
      ["Required", names(item.requiredAttendees)],
      ["Optional", names(item.optionalAttendees)],
      ["When", item.start ? new Date(item.start).toLocaleString() + " – " + new Date(item.end).toLocaleTimeString() : ""],
      ["Where", item.location || ""],
      ["Mailbox", item.shared ? item.shared.owner + " (shared)" : ""],
      ["Mode", item.mode === "compose" ? "being composed" : ""],
    ];
    const list = document.createElement("dl");
    rows.forEach(function (row) {
      if (!row[1]) return;
      list.append(text("dt", row[0]), text("dd", row[1]));
    });
    reading.append(list, text("pre", item.body || "", "body"));
  }

  function select(key) {
    selected = byKey[key] || null;
    document.querySelectorAll("[data-sample]").forEach(function (button) {
      button.setAttribute("aria-pressed", button.getAttribute("data-sample") === (selected ? selected.key : "") ? "true" : "false");
    });
    showReading();
    remember();
    const office = frame.contentWindow && frame.contentWindow.Office;
    if (office && office.standin) office.standin.selectItem(selected ? selected.item : null, selected ? selected.saved_item_id : null);
  }

  document.querySelectorAll("[data-sample]").forEach(function (button) {
    button.addEventListener("click", function () { select(button.getAttribute("data-sample")); });
  });
  form.addEventListener("change", startPane);
  form.addEventListener("submit", function (event) { event.preventDefault(); });

  select(selected ? selected.key : "");
  startPane();
}());
