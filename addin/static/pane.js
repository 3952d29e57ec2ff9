/*
 * pane.js: the bridge between Office.js and Sidepane's server-rendered pane.
 *
 * It reads the open item through Office.js (read and compose mode, messages and meetings,
 * shared mailboxes), posts it with the rep's token to /pane/* and swaps the HTML it gets back
 * into the page. Forms marked data-post are sent the same way. When a pinned pane's item
 * changes, or nothing is selected, it renders again. No framework, no build step.
 *
 * #pane[data-start=URL] is where the page starts (/pane/view by default); #pane[data-no-item]
 * marks a page that does not follow Outlook's item (the admin page).
 *
 * Attributes the server's HTML uses:
 *   form[data-post=URL]         send the form's fields (and the item) to URL on submit
 *   [data-with-body]            also send the item's text body (for reading the signature)
 *   form[data-lists]            a name given several times (checkboxes) is sent as a list;
 *                               otherwise the last value of a name is sent
 *   [data-target=SELECTOR]      swap the answer into SELECTOR ("closest:SEL" looks upwards);
 *                               default: the whole pane
 *   [data-load=URL]             fetch URL into this element as soon as it appears
 *   [data-poll=URL]             fetch URL again after data-poll-every ms (1000) into the
 *                               closest data-poll-target (default #save-card), while it is there
 *   [data-refresh=URL]          a region fetched again when the page comes back into view
 *                               (focus, visibilitychange), e.g. after a consent in another tab
 *   a[data-watch]               a link opening another tab: its [data-refresh] region is also
 *                               fetched every few seconds until its [data-state] changes
 *   [data-show-more]            reveal the hidden [data-more] items of the list before it
 *   [data-autofocus]            move the keyboard focus there after a swap
 *   [data-retry]                repeat the last request
 *   role=tab / role=tabpanel    tabs, with arrow keys, Home and End
 */
(function () {
  "use strict";

  const MAX_PEOPLE = 500;
  const BODY_MAX = 50000; // the signature sits in the newest message; stays under the 256 KiB body limit
  const pane = document.getElementById("pane");
  const status = document.getElementById("status");
  const start = pane.getAttribute("data-start") || "/pane/view";
  const WATCH_EVERY = 2000;
  const WATCH_FOR = 15 * 60 * 1000; // an admin reading the consent page a while

  const state = {
    item: null, // what we send: the item as read from Office.js
    officeItem: null,
    body: null, // the body is read once per item, only when needed
    generation: 0, // bumps on every item change; stale answers are dropped
    language: navigator.language || "en-US",
    tab: "tab-contacts",
    token: null,
    challenge: null,
    last: null, // the last request, for "Try again"
  };

  // --- Office.js ---------------------------------------------------------------------------

  function call(start) {
    return new Promise(function (resolve, reject) {
      start(function (result) {
        if (result.status === Office.AsyncResultStatus.Succeeded) resolve(result.value);
        else reject(result.error || new Error("Office.js call failed"));
      });
    });
  }

  // Read mode gives values; compose mode gives objects with getAsync.
  function value(property) {
    if (property && typeof property.getAsync === "function") {
      return call(function (done) { property.getAsync(done); });
    }
    return Promise.resolve(property);
  }

  function person(details) {
    if (!details || !details.emailAddress) return null;
    return { address: String(details.emailAddress).slice(0, 320), name: String(details.displayName || "").slice(0, 256) };
  }

  function people(list) {
    return (list || []).map(person).filter(Boolean).slice(0, MAX_PEOPLE);
  }

  async function optional(promise, fallback) {
    try { return await promise; } catch (error) { return fallback; }
  }

  async function readItem(item) {
    if (!item) return null;
    const compose = !!(item.subject && typeof item.subject.getAsync === "function");
    const appointment = item.itemType === Office.MailboxEnums.ItemType.Appointment;
    const read = {
      type: appointment ? "appointment" : "message",
      mode: compose ? "compose" : "read",
      subject: String((await optional(value(item.subject), "")) || "").slice(0, 1000),
      mailbox: (Office.context.mailbox.userProfile || {}).emailAddress || "",
    };
    if (appointment) {
      read.organizer = person(await optional(value(item.organizer), null));
      read.attendees = people((await optional(value(item.requiredAttendees), [])).concat(
        await optional(value(item.optionalAttendees), [])));
    } else {
      read.from = person(await optional(value(item.from), null));
      read.to = people(await optional(value(item.to), []));
      read.cc = people(await optional(value(item.cc), []));
      if (compose) read.bcc = people(await optional(value(item.bcc), [])); // not in read mode
    }
    if (!compose) {
      read.internet_message_id = item.internetMessageId || "";
      read.item_id = item.itemId
        ? Office.context.mailbox.convertToRestId(item.itemId, Office.MailboxEnums.RestVersion.v2_0)
        : "";
    }
    read.conversation_id = item.conversationId || "";
    read.shared = await readShared(item);
    return read;
  }

  async function readShared(item) {
    if (typeof item.getSharedPropertiesAsync !== "function") return null;
    // It fails on an item that is not in a shared folder: that simply means "not shared".
    const shared = await optional(call(function (done) { item.getSharedPropertiesAsync(done); }), null);
    return shared && shared.owner ? { owner: shared.owner, permissions: shared.delegatePermissions || 0 } : null;
  }

  async function readBody() {
    if (state.body === null) {
      const item = state.officeItem;
      const text = item && item.body
        ? await optional(call(function (done) { item.body.getAsync(Office.CoercionType.Text, done); }), "")
        : "";
      state.body = String(text || "").slice(0, BODY_MAX);
    }
    return state.body;
  }

  async function accessToken(fresh) {
    if (!state.token || fresh) {
      const options = { allowSignInPrompt: true, allowConsentPrompt: true, forMSGraphAccess: true };
      // Entra's claims challenge (MFA, conditional access) goes back to Office once.
      if (state.challenge) options.authChallenge = state.challenge;
      state.challenge = null;
      state.token = await OfficeRuntime.auth.getAccessToken(options);
    }
    return state.token;
  }

  // --- talking to the server ---------------------------------------------------------------

  async function post(url, fields, options) {
    const generation = state.generation;
    const target = options.target || pane;
    if (!options.background) state.last = { url: url, fields: fields, options: options };
    const payload = { item: state.item, fields: fields };
    if (options.withBody) payload.body = await readBody();
    if (!options.background) busy(true);
    let response;
    try {
      response = await send(url, payload, false);
      if (response.status === 401) response = await send(url, payload, true); // token expired
    } catch (error) {
      if (options.background) return; // a poll that failed: the next action shows it
      if (generation === state.generation) showTemplate("offline");
      busy(false);
      return;
    }
    const html = await response.text();
    if (!options.background) busy(false);
    if (generation !== state.generation || !target.isConnected) return; // another item since
    swap(target, html, options.focus);
  }

  async function send(url, payload, freshToken) {
    return fetch(url, {
      method: "POST",
      credentials: "same-origin",
      headers: {
        "Content-Type": "application/json",
        "Accept": "text/html",
        "Accept-Language": state.language,
        "Authorization": "Bearer " + (await accessToken(freshToken)),
      },
      body: JSON.stringify(payload),
    });
  }

  function busy(on) {
    pane.setAttribute("aria-busy", on ? "true" : "false");
    document.documentElement.classList.toggle("is-busy", on);
  }

  // After the rep's own action, move the focus to what changed; never when Outlook changed item.
  function swap(target, html, moveFocus) {
    target.innerHTML = html;
    restoreTab(target);
    target.querySelectorAll("[data-load]").forEach(load);
    target.querySelectorAll("[data-poll]").forEach(poll);
    const counter = target.querySelector("[data-count]");
    const summary = counter && target.closest("details") && target.closest("details").querySelector("summary .count");
    if (summary) summary.textContent = counter.getAttribute("data-count"); // e.g. "Private notes 2"
    const focus = moveFocus ? target.querySelector("[data-autofocus]") || landing(target) : null;
    if (focus) {
      focus.focus();
      if (focus.getAttribute("role") === "status" || focus.getAttribute("role") === "alert") announce(focus.textContent);
    }
  }

  // With nothing marked to take the focus (e.g. after Cancel), land on the selected tab or the
  // first heading, so the keyboard stays in the pane instead of falling to <body>.
  function landing(target) {
    const tab = target.querySelector("[role=tab][aria-selected=true]");
    if (tab) return tab;
    const heading = target.querySelector("h1, h2");
    if (heading && !heading.hasAttribute("tabindex")) heading.setAttribute("tabindex", "-1");
    return heading;
  }

  function load(element) {
    post(element.getAttribute("data-load"), {}, { target: element, withBody: element.hasAttribute("data-with-body") });
  }

  // A save in progress: ask for its card again until it is saved or failed (the server says
  // how often; a draft waiting to be sent is asked for less often).
  function poll(element) {
    const generation = state.generation;
    const card = element.closest(element.getAttribute("data-poll-target") || "#save-card");
    const every = Math.max(500, Number(element.getAttribute("data-poll-every")) || 1000);
    window.setTimeout(function () {
      if (generation !== state.generation || !card || !card.isConnected || !element.isConnected) return;
      post(element.getAttribute("data-poll"), {}, { target: card, background: true });
    }, every);
  }

  // Regions that change while the page is elsewhere (consent given in another tab): fetch them
  // again when the page is seen again.
  function refresh(region) {
    if (region.isConnected) post(region.getAttribute("data-refresh"), {}, { target: region, background: true });
  }

  function refreshAll() {
    document.querySelectorAll("[data-refresh]").forEach(refresh);
  }

  function stateOf(region) {
    const marked = region.querySelector("[data-state]");
    return marked ? marked.getAttribute("data-state") : "";
  }

  // After a link opened another tab (a consent page), the page may keep the focus in some
  // browsers: ask again every few seconds until the region's state changes.
  function watch(region) {
    const before = stateOf(region);
    const until = Date.now() + WATCH_FOR;
    const timer = window.setInterval(function () {
      if (!region.isConnected || Date.now() > until || stateOf(region) !== before) {
        window.clearInterval(timer);
        return;
      }
      refresh(region);
    }, WATCH_EVERY);
  }

  // A message or meeting being written has no id until Outlook stores it (saveAsync); the
  // worker reads it from the mailbox by that id.
  async function storedItemId() {
    const item = state.officeItem;
    if (!state.item || state.item.item_id || !item || typeof item.saveAsync !== "function") return;
    const id = await optional(call(function (done) { item.saveAsync(done); }), null);
    if (id) {
      state.item.item_id = Office.context.mailbox.convertToRestId(id, Office.MailboxEnums.RestVersion.v2_0);
    }
  }

  function announce(text) {
    status.textContent = "";
    window.setTimeout(function () { status.textContent = text.trim(); }, 50);
  }

  function showTemplate(id) {
    const template = document.getElementById(id);
    pane.replaceChildren(template.content.cloneNode(true));
    pane.setAttribute("aria-busy", "false");
  }

  function targetOf(element) {
    const selector = element.getAttribute("data-target");
    if (!selector) return pane;
    if (selector.startsWith("closest:")) return element.closest(selector.slice(8)) || pane;
    return document.querySelector(selector) || pane;
  }

  // --- the item ----------------------------------------------------------------------------

  async function itemChanged() {
    state.generation += 1;
    const generation = state.generation;
    state.officeItem = Office.context.mailbox.item;
    state.body = null;
    state.tab = "tab-contacts";
    let item = null;
    try {
      item = await readItem(state.officeItem);
    } catch (error) {
      item = null;
    }
    if (generation !== state.generation) return;
    state.item = item;
    post(start, {}, {});
  }

  // --- tabs --------------------------------------------------------------------------------

  function selectTab(tab, focus) {
    const list = tab.closest("[role=tablist]");
    list.querySelectorAll("[role=tab]").forEach(function (other) {
      const selected = other === tab;
      other.setAttribute("aria-selected", selected ? "true" : "false");
      other.tabIndex = selected ? 0 : -1;
      const panel = document.getElementById(other.getAttribute("aria-controls"));
      if (panel) panel.hidden = !selected;
    });
    state.tab = tab.id;
    if (focus) tab.focus();
  }

  function restoreTab(root) {
    const tab = root.querySelector("#" + CSS.escape(state.tab));
    if (tab && tab.getAttribute("role") === "tab") selectTab(tab, false);
  }

  document.addEventListener("click", function (event) {
    const tab = event.target.closest("[role=tab]");
    if (tab) return selectTab(tab, true);
    const more = event.target.closest("[data-show-more]");
    if (more) {
      const list = more.previousElementSibling;
      const hidden = list ? list.querySelectorAll("[data-more][hidden]") : [];
      hidden.forEach(function (item) { item.hidden = false; });
      more.hidden = true;
      const first = hidden[0] && hidden[0].querySelector("a");
      if (first) first.focus();
      return;
    }
    const watched = event.target.closest("a[data-watch]");
    if (watched) {
      const region = watched.closest("[data-refresh]");
      if (region) watch(region);
      return; // the link opens its tab as usual
    }
    const login = event.target.closest("[data-sign-in-with]");
    if (login) {
      signInWith(login.getAttribute("data-start"), login.getAttribute("data-sign-in-with"));
      return;
    }
    const signIn = event.target.closest("[data-sign-in]");
    if (signIn && state.last) {
      // The CRM needs a new sign-in: get a new Office token (with the challenge) and repeat.
      state.token = null;
      state.challenge = signIn.getAttribute("data-claims");
      post(state.last.url, state.last.fields, Object.assign({}, state.last.options, { focus: true }));
      return;
    }
    if (event.target.closest("[data-retry]") && state.last) {
      post(state.last.url, state.last.fields, Object.assign({}, state.last.options, { focus: true }));
    }
  });

  document.addEventListener("keydown", function (event) {
    const tab = event.target.closest("[role=tab]");
    if (!tab) return;
    const tabs = Array.from(tab.closest("[role=tablist]").querySelectorAll("[role=tab]"));
    const index = tabs.indexOf(tab);
    const moves = { ArrowRight: index + 1, ArrowLeft: index - 1, Home: 0, End: tabs.length - 1 };
    if (!(event.key in moves)) return;
    event.preventDefault();
    selectTab(tabs[(moves[event.key] + tabs.length) % tabs.length], true);
  });

  document.addEventListener("submit", function (event) {
    const form = event.target.closest("form[data-post]");
    if (!form) return;
    event.preventDefault();
    if (!form.noValidate && !form.reportValidity()) return;
    const fields = {};
    const lists = form.hasAttribute("data-lists");
    new FormData(form).forEach(function (value, name) {
      if (lists && name in fields) fields[name] = [].concat(fields[name], String(value));
      else fields[name] = String(value);
    });
    const send = function () {
      post(form.getAttribute("data-post"), fields, {
        target: targetOf(form), withBody: form.hasAttribute("data-with-body"), focus: true,
      });
    };
    if (form.hasAttribute("data-stores-item")) storedItemId().then(send, send);
    else send();
  });

  // --- manual sign-in (Salesforce's OAuth) in an Office dialog ------------------------------

  async function signInWith(startUrl, login) {
    let url = null;
    try {
      const response = await fetch(startUrl, {
        method: "POST",
        credentials: "same-origin",
        headers: {
          "Content-Type": "application/json",
          "Accept": "application/json",
          "Accept-Language": state.language,
          "Authorization": "Bearer " + (await accessToken(false)),
        },
        body: JSON.stringify({ item: state.item, fields: { login: login } }),
      });
      if (response.ok) url = new URL((await response.json()).url, window.location.href).href;
      else swap(pane, await response.text(), true);
    } catch (error) {
      showTemplate("offline");
    }
    if (!url) return;
    // The dialog opens on our own domain (Office requires it), which sends it to the CRM's
    // login page; the last page sends the result back with messageParent.
    Office.context.ui.displayDialogAsync(url, { height: 70, width: 35 }, function (opened) {
      if (opened.status !== Office.AsyncResultStatus.Succeeded) return signedIn(null);
      const signInDialog = opened.value;
      signInDialog.addEventHandler(Office.EventType.DialogMessageReceived, function (arg) {
        signInDialog.close();
        signedIn(JSON.parse(arg.message));
      });
    });
  }

  function signedIn(result) {
    if (result && result.ok) {
      post(start, {}, { focus: true });
      return;
    }
    const alert = document.createElement("div");
    alert.className = "message error";
    alert.setAttribute("role", "alert");
    alert.textContent = (result && result.message) || pane.getAttribute("data-dialog-blocked");
    pane.prepend(alert);
    announce(alert.textContent);
  }

  // --- start -------------------------------------------------------------------------------

  function applyTheme(theme) {
    if (!theme || !theme.bodyBackgroundColor) return;
    const hex = theme.bodyBackgroundColor.replace("#", "");
    const [r, g, b] = [0, 2, 4].map(function (i) { return parseInt(hex.substr(i, 2), 16); });
    const dark = (0.2126 * r + 0.7152 * g + 0.0722 * b) < 128;
    document.documentElement.setAttribute("data-theme", dark ? "dark" : "light");
  }

  Office.onReady(function () {
    const context = Office.context || {};
    state.language = context.displayLanguage || state.language;
    document.documentElement.lang = state.language;
    applyTheme(context.officeTheme);
    window.addEventListener("focus", refreshAll);
    document.addEventListener("visibilitychange", function () {
      if (document.visibilityState === "visible") refreshAll();
    });
    if (pane.hasAttribute("data-no-item")) return post(start, {}, {});
    const mailbox = context.mailbox;
    if (!mailbox) return showTemplate("no-item");
    if (typeof mailbox.addHandlerAsync === "function") {
      mailbox.addHandlerAsync(Office.EventType.ItemChanged, itemChanged); // pinned pane
    }
    itemChanged();
  });
}());
