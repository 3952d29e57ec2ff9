"""The Outlook add-in manifest: well-formed, in schema order, its URLs, SSO and the CLI."""
