"""The sandbox CRM: the reference adapter, an embedded CRM on one SQLite file.

It is the default CRM of the demo and of the tests, and the yardstick of the conformance suite:
it implements every `CrmAdapter` method with real data at real volume.

Modules
-------
adapter     `SandboxAdapter`: the `CrmAdapter` methods, one logical request each
connection  the connection pool and the one table mapping SQLite errors to adapter errors
schema      tables, indexes and the search index
contacts    matching addresses in one query; validating and creating contacts
accounts    accounts of contacts with open opportunities, open cases and recent activities
activities  related emails and meetings; idempotent saving of emails and meetings
search      fuzzy record search (FTS5 word index + trigram vocabulary + rapidfuzz)
records     one record as a dict, for the sandbox's record pages
seed        `seed` and `SeedReport`: (re)make the file with realistic multilingual data
showcase    the deliberate records every seed contains (shared addresses, several accounts, ...)
bulk        the bulk generator (a million contacts in a couple of minutes)
locales     Faker's word lists per language; loader, folding, times, convert: small helpers

Usage
-----
    report = seed("instance/sandbox.db", 2_000)
    crm = SandboxAdapter("instance/sandbox.db", base_url="http://127.0.0.1:8000")
    crm.match_contacts([report.single_address])
"""

from .adapter import SandboxAdapter
from .seed import SeedReport, load_seed_report, seed

__all__ = ["SandboxAdapter", "SeedReport", "load_seed_report", "seed"]
