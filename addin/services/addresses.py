"""Email addresses as they come from Outlook: validated, normalised, compared case-insensitively."""

from __future__ import annotations

from email_validator import EmailNotValidError, validate_email


class InvalidAddress(ValueError):
    """The text is not an email address; the message says why, for the rep."""


def normalise(address: str) -> str:
    """Return the address in the form we match on (IDNA domain, lower case) or raise."""
    text = address.strip()
    if not text:
        raise InvalidAddress("The address is empty.")
    try:
        result = validate_email(
            text, check_deliverability=False, allow_quoted_local=True, allow_smtputf8=True
        )
    except EmailNotValidError as error:
        raise InvalidAddress(str(error)) from None
    # Mail systems treat local parts as case-insensitive in practice and so do CRMs' lookups.
    return str(result.normalized).lower()


def domain_of(address: str) -> str:
    """Return the domain part of a normalised address."""
    return address.rpartition("@")[2]
