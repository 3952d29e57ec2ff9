"""Loopback emulators: real servers on 127.0.0.1 speaking each vendor's wire format.

Code under test talks to them through its production HTTP stack (msal, PyJWT, requests), over TLS
where that stack insists on https; nothing is patched. Each emulator follows the documented wire
format (see ``reference/crm-api-notes.md``), keeps its state in memory, and can inject faults.

``loopback.LoopbackServer`` is the shared base: a threaded HTTPS server with a throwaway CA and a
route table. ``fixtures`` holds the session-scoped pytest fixtures that start them.
"""
