"""The pane's use cases, one function each; views and workers call these, nothing else.

A service takes the rep's identity, the local store session and one `CrmAdapter`; it never builds
CRM URLs or queries itself. It returns plain dataclasses that the views render.
"""
