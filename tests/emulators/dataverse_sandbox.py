"""Read a sandbox CRM file into Dataverse rows, so every backend serves the same data.

Mapping
-------
contacts          → contact: ``email1..3`` → ``emailaddress1..3``, ``account_id`` →
                    ``_parentcustomerid_value`` (an account); ``company`` is dropped
contact_accounts  → account ``_primarycontactid_value``, for accounts that have none yet
accounts          → account: ``website``/``phone``/``city``/``country`` → ``websiteurl``,
                    ``telephone1``, ``address1_city``, ``address1_country``
opportunities     → opportunity: ``_customerid_value`` = the account, ``_parentcontactid_value``
                    = the contact, ``statecode`` 0 while open, else 1 Won (2 when the stage is
                    "Lost")
cases             → incident: ``statecode`` 1 Resolved, 2 Cancelled, else 0; ``prioritycode``
                    1 High, 2 Normal, 3 Low; ``statuscode`` from the status
activities        → email (``at`` → ``actualend``, ``direction`` → ``directioncode``,
                    ``message_id`` → ``messageid``) or appointment (``at``/``ends_at`` →
                    ``scheduledstart``/``scheduledend``, ``message_id`` → ``globalobjectid``);
                    ``regarding`` → ``_regardingobjectid_value`` (a case is an incident)
activity_parties  → activityparty: masks from 1, to 2, cc 3, bcc 4, attendee 5, organizer 7;
                    ``_partyid_value`` the contact when known; ``addressused`` the address
activity_attachments → activitymimeattachment (``body`` base64, ``objecttypecode`` "email")

Empty text becomes null, as Dataverse returns an unset column; times become ``...Z``.
"""

from __future__ import annotations

import base64
import os
import sqlite3
import uuid
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path
from typing import Any

from .dataverse_store import Row, set_lookup

PARTY_MASKS = {"from": 1, "to": 2, "cc": 3, "bcc": 4, "attendee": 5, "organizer": 7}
PRIORITY_CODES = {"High": 1, "Normal": 2, "Low": 3}
CASE_STATES = {"Resolved": 1, "Cancelled": 2}
CASE_STATUS_CODES = {
    "In Progress": 1,
    "On Hold": 2,
    "Waiting for Details": 3,
    "Researching": 4,
    "Resolved": 5,
    "Cancelled": 6,
}
REGARDING_TABLES = {
    "account": "account",
    "contact": "contact",
    "opportunity": "opportunity",
    "case": "incident",
}
# Ids of rows the sandbox does not have (parties, attachments): stable across loads.
_ROW_IDS = uuid.UUID("6b1d8f0e-3c52-4d7a-9e61-0a4f2b7c9d10")


def sandbox_rows(path: str | os.PathLike[str]) -> dict[str, list[Row]]:
    """Return the rows of every table, by logical name, read from the sandbox file."""
    uri = Path(path).resolve().as_uri() + "?mode=ro"
    with closing(sqlite3.connect(uri, uri=True)) as db:
        db.row_factory = sqlite3.Row
        contacts = [_contact(row) for row in db.execute("SELECT * FROM contacts ORDER BY rowid")]
        accounts = [_account(row) for row in db.execute("SELECT * FROM accounts ORDER BY rowid")]
        by_id = {account["accountid"]: account for account in accounts}
        links = db.execute("SELECT contact_id, account_id FROM contact_accounts ORDER BY 1, 2")
        for contact_id, account_id in links:
            account = by_id.get(account_id)
            if account is not None and account["_primarycontactid_value"] is None:
                set_lookup(account, "_primarycontactid_value", "contact", contact_id)
        emails: list[Row] = []
        appointments: list[Row] = []
        for row in db.execute("SELECT * FROM activities ORDER BY rowid"):
            (emails if row["kind"] == "email" else appointments).append(_activity(row))
        return {
            "contact": contacts,
            "account": accounts,
            "opportunity": [_opportunity(row) for row in db.execute("SELECT * FROM opportunities")],
            "incident": [_incident(row) for row in db.execute("SELECT * FROM cases")],
            "email": emails,
            "appointment": appointments,
            "activityparty": list(_parties(db, {row["activityid"] for row in emails})),
            "activitymimeattachment": list(_attachments(db)),
            "systemuser": [],
        }


def _text(value: Any) -> Any:
    return value if value not in ("", None) else None


def _time(value: str | None) -> str | None:
    """Return a sandbox time (``YYYY-MM-DD HH:MM:SS``) as Dataverse writes it."""
    return f"{value.replace(' ', 'T')}Z" if value else None


def _contact(row: sqlite3.Row) -> Row:
    first, last = _text(row["first_name"]), row["last_name"]
    contact = {
        "contactid": row["id"],
        "firstname": first,
        "lastname": last,
        "fullname": f"{first or ''} {last}".strip(),
        "emailaddress1": row["email1"],
        "emailaddress2": row["email2"],
        "emailaddress3": row["email3"],
        "jobtitle": _text(row["job_title"]),
        "telephone1": _text(row["business_phone"]),
        "mobilephone": _text(row["mobile_phone"]),
        "websiteurl": _text(row["website"]),
        "statecode": 0,
        "createdon": _time(row["created_at"]),
        "modifiedon": _time(row["created_at"]),
    }
    set_lookup(contact, "_parentcustomerid_value", "account", row["account_id"])
    return contact


def _account(row: sqlite3.Row) -> Row:
    account = {
        "accountid": row["id"],
        "name": row["name"],
        "websiteurl": _text(row["website"]),
        "telephone1": _text(row["phone"]),
        "address1_city": _text(row["city"]),
        "address1_country": _text(row["country"]),
        "statecode": 0,
        "createdon": _time(row["created_at"]),
        "modifiedon": _time(row["created_at"]),
    }
    set_lookup(account, "_primarycontactid_value", "contact", None)
    return account


def _opportunity(row: sqlite3.Row) -> Row:
    state = 0 if row["is_open"] else 2 if row["stage"] == "Lost" else 1
    opportunity = {
        "opportunityid": row["id"],
        "name": row["name"],
        "stepname": row["stage"],
        "estimatedvalue": row["amount"],
        "estimatedclosedate": row["close_date"],
        "statecode": state,
        "createdon": _time(row["created_at"]),
        "modifiedon": _time(row["created_at"]),
    }
    set_lookup(opportunity, "_customerid_value", "account", row["account_id"])
    set_lookup(opportunity, "_parentcontactid_value", "contact", row["contact_id"])
    return opportunity


def _incident(row: sqlite3.Row) -> Row:
    incident = {
        "incidentid": row["id"],
        "title": row["title"],
        "ticketnumber": row["ticket_number"],
        "statecode": CASE_STATES.get(row["status"], 0),
        "statuscode": CASE_STATUS_CODES.get(row["status"], 1),
        "prioritycode": PRIORITY_CODES.get(row["priority"], 2),
        "createdon": _time(row["created_at"]),
        "modifiedon": _time(row["created_at"]),
    }
    set_lookup(incident, "_customerid_value", "account", row["account_id"])
    set_lookup(incident, "_primarycontactid_value", "contact", row["contact_id"])
    return incident


def _activity(row: sqlite3.Row) -> Row:
    common = {
        "activityid": row["id"],
        "subject": row["subject"],
        "description": _text(row["body"]),
        "createdon": _time(row["created_at"]),
        "modifiedon": _time(row["created_at"]),
    }
    if row["kind"] == "email":
        outgoing = row["direction"] == "outgoing"
        activity = common | {
            "messageid": row["message_id"],
            "directioncode": outgoing,
            "actualend": _time(row["at"]),
            "statecode": 1,  # Completed
            "statuscode": 3 if outgoing else 4,  # Sent / Received
        }
    else:
        activity = common | {
            "location": _text(row["location"]),
            "scheduledstart": _time(row["at"]),
            "scheduledend": _time(row["ends_at"]),
            "isalldayevent": False,
            "globalobjectid": row["message_id"],
            "statecode": 3,  # Scheduled
        }
    regarding = REGARDING_TABLES.get(row["regarding_type"] or "")
    set_lookup(activity, "_regardingobjectid_value", regarding, row["regarding_id"])
    return activity


def _parties(db: sqlite3.Connection, email_ids: set[str]) -> Iterator[Row]:
    query = "SELECT rowid, * FROM activity_parties ORDER BY rowid"
    for row in db.execute(query):
        party = {
            "activitypartyid": str(uuid.uuid5(_ROW_IDS, f"party-{row['rowid']}")),
            "participationtypemask": PARTY_MASKS[row["role"]],
            "addressused": row["address"],
        }
        set_lookup(party, "_partyid_value", "contact", row["contact_id"])
        kind = "email" if row["activity_id"] in email_ids else "appointment"
        set_lookup(party, "_activityid_value", kind, row["activity_id"])
        yield party


def _attachments(db: sqlite3.Connection) -> Iterator[Row]:
    for row in db.execute("SELECT rowid, * FROM activity_attachments ORDER BY rowid"):
        attachment = {
            "activitymimeattachmentid": str(uuid.uuid5(_ROW_IDS, f"file-{row['rowid']}")),
            "filename": row["name"],
            "mimetype": row["content_type"],
            "body": base64.b64encode(row["content"]).decode("ascii"),
            "filesize": row["size"],
            "objecttypecode": "email",
        }
        set_lookup(attachment, "_objectid_value", "email", row["activity_id"])
        yield attachment
