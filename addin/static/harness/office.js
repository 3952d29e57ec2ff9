/*
 * The Office.js stand-in: the slice of Office.js the pane uses, played by the dev harness.
 *
 * Loaded instead of Microsoft's hosted office.js in demo mode and in tests. It behaves like the
 * real thing where the pane can tell: read-mode items expose plain values, compose-mode items
 * expose objects with getAsync; there is no bcc in read mode; getSharedPropertiesAsync fails on
 * an item that is not in a shared mailbox; item changes arrive through addHandlerAsync.
 * The items themselves come from the harness page around the pane (window.parent), or from the
 * query string when the pane is opened on its own (?rep=alex&lang=it-IT).
 */
(function () {
  "use strict";

  const harness = window.parent !== window ? window.parent.SidepaneHarness : null;
  const query = new URLSearchParams(window.location.search);
  const settings = harness
    ? harness.settings()
    : { rep: query.get("rep") || "alex", repName: "", language: query.get("lang") || "en-US", theme: "light", domain: "contoso.example" };

  const Succeeded = "succeeded";
  const Failed = "failed";
  const ItemType = { Message: "message", Appointment: "appointment" };
  const EventType = {
    ItemChanged: "olkItemSelectedChanged",
    RecipientsChanged: "olkRecipientsChanged",
    DialogMessageReceived: "dialogMessageReceived",
  };

  function result(value, error) {
    return error
      ? { status: Failed, value: undefined, error: { code: 9999, name: "GenericError", message: error } }
      : { status: Succeeded, value: value, error: undefined };
  }

  function later(callback, asyncResult) {
    if (typeof callback === "function") window.setTimeout(function () { callback(asyncResult); }, 0);
  }

  // Office.js passes (options, callback) or (callback); take the last function.
  function callbackOf(args) {
    for (let i = args.length - 1; i >= 0; i -= 1) if (typeof args[i] === "function") return args[i];
    return null;
  }

  function details(person) {
    return person ? { displayName: person.displayName || "", emailAddress: person.emailAddress, recipientType: "externalUser" } : null;
  }

  function asyncValue(value) {
    return { getAsync: function () { later(callbackOf(arguments), result(value)); } };
  }

  function recipients(list) {
    return asyncValue((list || []).map(details));
  }

  function body(text) {
    return {
      getAsync: function (coercion) {
        const html = "<div>" + String(text || "").replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/\n/g, "<br>") + "</div>";
        later(callbackOf(arguments), result(coercion === "html" ? html : text || ""));
      },
    };
  }

  function sharedProperties(shared) {
    return function () {
      const callback = callbackOf(arguments);
      if (!shared) return later(callback, result(null, "The item is not in a shared folder."));
      later(callback, result({ owner: shared.owner, delegatePermissions: shared.delegatePermissions, targetMailbox: shared.owner }));
    };
  }

  function officeItem(data, savedId) {
    if (!data) return null;
    const read = data.mode !== "compose";
    const item = {
      itemType: data.itemType === "appointment" ? ItemType.Appointment : ItemType.Message,
      body: body(data.body),
      getSharedPropertiesAsync: sharedProperties(data.shared),
    };
    if (read) {
      item.subject = data.subject || "";
      item.itemId = data.itemId;
      item.dateTimeCreated = data.dateTimeCreated ? new Date(data.dateTimeCreated) : undefined;
      if (item.itemType === ItemType.Message) {
        item.from = details(data.from);
        item.sender = details(data.from);
        item.to = (data.to || []).map(details);
        item.cc = (data.cc || []).map(details);
        item.internetMessageId = data.internetMessageId;
        item.conversationId = data.conversationId;
      } else {
        item.organizer = details(data.organizer);
        item.requiredAttendees = (data.requiredAttendees || []).map(details);
        item.optionalAttendees = (data.optionalAttendees || []).map(details);
        item.start = new Date(data.start);
        item.end = new Date(data.end);
        item.location = data.location || "";
      }
    } else {
      item.subject = asyncValue(data.subject || "");
      // A compose item has an id once it is saved (saveAsync), as in Outlook.
      let stored = data.itemId || null;
      item.getItemIdAsync = function () {
        const callback = callbackOf(arguments);
        later(callback, stored ? result(stored) : result(null, "The item has not been saved yet."));
      };
      item.saveAsync = function () {
        const callback = callbackOf(arguments);
        stored = stored || savedId || null;
        later(callback, stored ? result(stored) : result(null, "The item could not be saved."));
      };
      if (item.itemType === ItemType.Message) {
        item.from = asyncValue(details(data.from));
        item.to = recipients(data.to);
        item.cc = recipients(data.cc);
        item.bcc = recipients(data.bcc);
        item.conversationId = data.conversationId;
      } else {
        item.organizer = asyncValue(details(data.organizer));
        item.requiredAttendees = recipients(data.requiredAttendees);
        item.optionalAttendees = recipients(data.optionalAttendees);
        item.start = asyncValue(new Date(data.start));
        item.end = asyncValue(new Date(data.end));
        item.location = asyncValue(data.location || "");
      }
    }
    return item;
  }

  const handlers = {};
  const mailbox = {
    item: officeItem(harness ? harness.currentItem() : null, harness ? harness.currentSavedId() : null),
    userProfile: {
      displayName: settings.repName || settings.rep,
      emailAddress: settings.rep + "@" + settings.domain,
      timeZone: "W. Europe Standard Time",
      accountType: "enterprise",
    },
    diagnostics: { hostName: "OutlookWebApp", hostVersion: "sidepane-harness" },
    addHandlerAsync: function (eventType, handler) {
      (handlers[eventType] = handlers[eventType] || []).push(handler);
      later(callbackOf(Array.prototype.slice.call(arguments, 2)), result(undefined));
    },
    removeHandlerAsync: function (eventType) {
      delete handlers[eventType];
      later(callbackOf(arguments), result(undefined));
    },
    // REST ids are EWS ids made URL-safe (what convertToRestId does for v2.0).
    convertToRestId: function (itemId) { return String(itemId).replace(/\//g, "-").replace(/\+/g, "_"); },
  };

  const dark = settings.theme === "dark";
  window.Office = {
    context: {
      displayLanguage: settings.language,
      officeTheme: dark
        ? { bodyBackgroundColor: "#292929", bodyForegroundColor: "#ffffff", controlBackgroundColor: "#1f1f1f", controlForegroundColor: "#ffffff" }
        : { bodyBackgroundColor: "#ffffff", bodyForegroundColor: "#242424", controlBackgroundColor: "#ffffff", controlForegroundColor: "#242424" },
      mailbox: mailbox,
      requirements: { isSetSupported: function (name, version) { return name === "Mailbox" && Number(version || "1.0") <= 1.13; } },
      ui: {
        openBrowserWindow: function (url) { window.open(url, "_blank", "noopener"); },
        // A dialog is a popup here; its page talks back with messageParent, which arrives as
        // a DialogMessageReceived event on the object the callback got, as in Office.
        displayDialogAsync: function (url) {
          const popup = window.open(url, "sidepane-dialog", "popup,width=520,height=640");
          if (!popup) return later(callbackOf(arguments), result(null, "The dialog was blocked."));
          const dialog = {
            close: function () { popup.close(); },
            addEventHandler: function (eventType, handler) {
              if (eventType !== EventType.DialogMessageReceived) return;
              window.addEventListener("message", function (event) {
                if (event.source !== popup || event.origin !== window.location.origin) return;
                if (event.data && typeof event.data.officeDialogMessage === "string") {
                  handler({ message: event.data.officeDialogMessage, origin: event.origin });
                }
              });
            },
          };
          later(callbackOf(arguments), result(dialog));
        },
        messageParent: function (message) {
          if (window.opener) window.opener.postMessage({ officeDialogMessage: String(message) }, window.location.origin);
        },
      },
    },
    EventType: EventType,
    AsyncResultStatus: { Succeeded: Succeeded, Failed: Failed },
    CoercionType: { Text: "text", Html: "html" },
    MailboxEnums: { ItemType: ItemType, RestVersion: { v1_0: "v1.0", v2_0: "v2.0", Beta: "beta" } },
    HostType: { Outlook: "Outlook" },
    onReady: function (callback) {
      const info = { host: "Outlook", platform: "OfficeOnline" };
      return new Promise(function (resolve) {
        window.setTimeout(function () {
          if (typeof callback === "function") callback(info);
          resolve(info);
        }, 0);
      });
    },
    // The harness's side of the stand-in: select another item (or none) as Outlook would.
    standin: {
      selectItem: function (data, savedId) {
        mailbox.item = officeItem(data, savedId);
        (handlers[EventType.ItemChanged] || []).forEach(function (handler) {
          window.setTimeout(function () { handler({ type: EventType.ItemChanged }); }, 0);
        });
      },
    },
  };

  // The legacy Office SSO call; in demo mode the token names the demo rep. A test against a real
  // identity provider sets window.sidepaneStandinAuth = { token, requests: [] } before the page
  // loads: the stand-in then answers with that token and keeps each call's options (e.g. the
  // claims challenge the pane passes back as authChallenge).
  window.OfficeRuntime = {
    auth: {
      getAccessToken: function (options) {
        const auth = window.sidepaneStandinAuth;
        if (auth) {
          auth.requests.push(Object.assign({}, options || {}));
          return Promise.resolve(auth.token);
        }
        return Promise.resolve("demo:" + settings.rep);
      },
    },
  };
}());
