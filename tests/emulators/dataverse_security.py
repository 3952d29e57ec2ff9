"""Security roles as the Dataverse emulator plays them: every user's privileges, and refusals.

Features
--------
- `PRIVILEGES`: the privileges of the emulator's tables, named as Dataverse names them:
  ``prv`` + access right + the table's privilege name (``prvReadContact``, ``prvAppendToAccount``).
  Activities (email, appointment, their parties and attachments) share ``Activity``'s; systemuser's
  are ``User``'s; usersettings has Create, Read, Write and Delete only.
- `Privileges`: who lacks what. Every user holds every privilege, at Global depth, until
  `Privileges.deny` takes some away (from one user, or from everyone, including users added
  later); `Privileges.clear` gives them back.
- `Privileges.held` is the ``RolePrivileges`` of ``RetrieveUserPrivileges``:
  ``{"Depth": "Global", "PrivilegeId", "BusinessUnitId", "PrivilegeName", "RecordFilterId",
  "RecordFilterUniqueName"}``, as Dataverse answers (depth by name, not number).
- `missing_privilege` is Dataverse's refusal: ``403``, code ``0x80040220``, "Principal user (Id=...,
  type=8, roleCount=..., privilegeCount=..., accessMode='0 Read-Write', ...), is missing
  prvReadIncident privilege (Id=...) on OTC=112 for entity 'incident'. context.Caller=...".
- Which privilege a request needs (`needed`): reading a table its Read privilege, creating a
  record its Create privilege. Only the table the request names is checked (not expanded or
  filtered-on tables, nor the Append/AppendTo of binds).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping
from typing import Any

from .odata import ODataError

PRIVILEGE_DENIED = "0x80040220"
#: A role's privileges on a table reach the whole organization in the emulator.
DEPTH = "Global"
NO_RECORD_FILTER = "00000000-0000-0000-0000-000000000000"
_NAMESPACE = uuid.UUID("5e1d5b0c-7d0e-4b53-9a57-3c1f2d6a9e01")

#: Table (logical name) → the name its privileges carry.
PRIVILEGE_TABLE: Mapping[str, str] = {
    "contact": "Contact",
    "account": "Account",
    "opportunity": "Opportunity",
    "incident": "Incident",
    "email": "Activity",
    "appointment": "Activity",
    "activityparty": "Activity",
    "activitymimeattachment": "Activity",
    "systemuser": "User",
    "mailbox": "Mailbox",
    "usersettings": "UserSettings",
}
#: Object type codes in Dataverse's refusal messages.
OBJECT_TYPE_CODES: Mapping[str, int] = {
    "account": 1,
    "contact": 2,
    "opportunity": 3,
    "systemuser": 8,
    "incident": 112,
    "activityparty": 135,
    "usersettings": 150,
    "activitymimeattachment": 1001,
    "appointment": 4201,
    "email": 4202,
    "mailbox": 9606,
}
_RIGHTS = ("Create", "Read", "Write", "Delete", "Append", "AppendTo", "Assign", "Share")
_RIGHTS_OF: Mapping[str, tuple[str, ...]] = {
    "User": ("Create", "Read", "Write", "Append", "AppendTo", "Assign"),
    "UserSettings": ("Create", "Read", "Write", "Delete"),
}
PRIVILEGES: tuple[str, ...] = tuple(
    f"prv{right}{name}"
    for name in dict.fromkeys(PRIVILEGE_TABLE.values())
    for right in _RIGHTS_OF.get(name, _RIGHTS)
)


def privilege_id(name: str) -> str:
    """Return the id of a privilege (the same in every emulator, as in every org)."""
    return str(uuid.uuid5(_NAMESPACE, name))


def needed(right: str, logical: str) -> str:
    """Return the privilege doing ``right`` ("Read", "Create") on a table needs."""
    return f"prv{right}{PRIVILEGE_TABLE[logical]}"


class Privileges:
    """The privileges users lack; everyone holds all the others."""

    def __init__(self) -> None:
        self._everyone: set[str] = set()
        self._users: dict[str, set[str]] = {}

    def deny(self, names: Iterable[str], user_id: str | None = None) -> None:
        """Take privileges away from one user, or (``user_id=None``) from every user."""
        wanted = set(names)
        unknown = sorted(wanted.difference(PRIVILEGES))
        if unknown:
            raise ValueError(f"the emulator has no privilege {', '.join(unknown)}")
        if user_id is None:
            self._everyone |= wanted
        else:
            self._users.setdefault(user_id.lower(), set()).update(wanted)

    def clear(self) -> None:
        """Give every user every privilege again."""
        self._everyone.clear()
        self._users.clear()

    @property
    def any_denied(self) -> bool:
        return bool(self._everyone or self._users)

    def lacks(self, user_id: str, name: str) -> bool:
        return name in self._everyone or name in self._users.get(user_id.lower(), ())

    def held(self, user_id: str, business_unit_id: str) -> list[dict[str, Any]]:
        """Return the user's ``RolePrivileges``, as ``RetrieveUserPrivileges`` lists them."""
        return [
            {
                "Depth": DEPTH,
                "PrivilegeId": privilege_id(name),
                "BusinessUnitId": business_unit_id,
                "PrivilegeName": name,
                "RecordFilterId": NO_RECORD_FILTER,
                "RecordFilterUniqueName": "",
            }
            for name in PRIVILEGES
            if not self.lacks(user_id, name)
        ]

    def count(self, user_id: str) -> int:
        return sum(not self.lacks(user_id, name) for name in PRIVILEGES)


def missing_privilege(
    name: str,
    logical: str,
    user_id: str,
    privileges: Privileges,
    business_unit_id: str,
    access_mode: str = "0 Read-Write",
) -> ODataError:
    """Return Dataverse's refusal of a request by a user lacking privilege ``name``."""
    message = (
        f"Principal user (Id={user_id}, type=8, roleCount=1,"
        f" privilegeCount={privileges.count(user_id)}, accessMode='{access_mode}',"
        f" MetadataCachePrivilegesCount={len(PRIVILEGES)}, businessUnitId={business_unit_id}),"
        f" is missing {name} privilege (Id={privilege_id(name)})"
        f" on OTC={OBJECT_TYPE_CODES[logical]} for entity '{logical}'. context.Caller={user_id}"
    )
    return ODataError(message, status=403, code=PRIVILEGE_DENIED)
