"""The deliberate records every seed contains, so tests and the demo can rely on them.

Features
--------
Written before the bulk data, from their own random generator, so they are identical for a given
seed whatever the number of contacts. Their domains and addresses are reserved: the bulk
generator never produces them. What they guarantee (`Showcase`, part of the seed report):

* ``single_address``: held by exactly one contact (Giulia Rossi), in ``email1``.
* ``second_field_address`` / ``third_field_address``: held by one contact each, only in
  ``email2`` / ``email3``.
* ``shared_address``: held by two contacts (``email1`` of one, ``email2`` of the other).
* ``account_contact_id`` / ``related_contact_id``: Giulia Rossi, whose account "Rossi Costruzioni
  S.p.A." has open and closed opportunities and cases and saved activities, and who has more than
  ten past emails and more than ten upcoming meetings.
* ``multi_account_contact_id``: Łukasz Wróbel, linked to three accounts.
* ``no_account_contact_id``: a contact without account (company given as text).
* ``tricky_addresses``: addresses with a quote, ``+``, ``%`` and ``_`` (address → contact id).
* ``unknown_address``: held by nobody.
* ``names``: display name → id of every deliberate contact and account (diacritics included).
"""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass

from .loader import Loader, deal_name, new_id, ticket_number
from .times import to_db

Party = tuple[str, str, str | None]  # address, name, contact id
REP_ADDRESS = "alex@contoso.example"
REP_NAME = "Alex Morgan"
UNKNOWN_ADDRESS = "new.person@unknown-company.example"
#: Domains and webmail addresses the bulk generator must leave alone.
RESERVED_DOMAINS = frozenset(
    {
        "rossicostruzioni.it",
        "nordlysbyg.dk",
        "wrobel-logistyka.pl",
        "mueller-maschinenbau.de",
        "obrien-consulting.ie",
        "wild-cards.co.uk",
        "unknown-company.example",
        "contoso.example",
    }
)
RESERVED_ADDRESSES = frozenset({"j.mueller@gmx.de", "anna.kowalska@wp.pl"})
#: How many contacts the showcase adds.
SHOWCASE_CONTACTS = 9


@dataclass(frozen=True)
class Showcase:
    """What the deliberate records guarantee (see the module docstring)."""

    rep_address: str
    single_address: str
    single_contact_id: str
    second_field_address: str
    second_field_contact_id: str
    third_field_address: str
    third_field_contact_id: str
    shared_address: str
    shared_contact_ids: tuple[str, ...]
    account_contact_id: str
    related_contact_id: str
    account_id: str
    account_name: str
    multi_account_contact_id: str
    multi_account_ids: tuple[str, ...]
    no_account_contact_id: str
    tricky_addresses: dict[str, str]
    unknown_address: str
    open_opportunity_id: str
    open_case_id: str
    open_case_ticket_number: str
    saved_email_message_id: str
    upcoming_meeting_message_id: str
    names: dict[str, str]


class _Writer:
    """Add showcase records to a loader, one helper per record type."""

    def __init__(self, loader: Loader, rng: random.Random, base_time: dt.datetime) -> None:
        self.loader, self.rng, self.base_time = loader, rng, base_time
        self.names: dict[str, str] = {}

    def at(self, days: float, hour: int = 10) -> str:
        day = self.base_time.replace(hour=hour, minute=0, second=0) + dt.timedelta(days=days)
        return to_db(day)

    def account(self, name: str, domain: str, phone: str, city: str, country: str) -> str:
        record_id = new_id(self.rng)
        website = f"https://www.{domain}"
        row = (record_id, name, website, phone, city, country, self.at(-400))
        self.loader.add("accounts", row)
        self.loader.searchable("account", record_id, name)
        self.loader.counts.accounts += 1
        self.names[name] = record_id
        return record_id

    def contact(
        self,
        first: str,
        last: str,
        emails: tuple[str | None, str | None, str | None],
        job: str,
        account_id: str | None,
        phone: str = "",
        company: str = "",
    ) -> str:
        record_id = new_id(self.rng)
        row = (
            record_id,
            first,
            last,
            *emails,
            job,
            account_id,
            company,
            phone,
            "",
            "",
            self.at(-300),
        )
        self.loader.add("contacts", row)
        self.loader.searchable("contact", record_id, f"{first} {last}")
        self.loader.counts.contacts += 1
        self.names[f"{first} {last}"] = record_id
        return record_id

    def opportunity(
        self,
        account: tuple[str, str],
        contact_id: str,
        topic: str,
        amount: float,
        close_in_days: int,
        won: bool | None = None,
    ) -> str:
        record_id, name = new_id(self.rng), deal_name(account[1], topic)
        stage, is_open = ("Propose", 1) if won is None else ("Won" if won else "Lost", 0)
        close = self.at(close_in_days)[:10]
        row = (
            record_id,
            account[0],
            contact_id,
            name,
            stage,
            amount,
            close,
            is_open,
            self.at(-90),
        )
        self.loader.add("opportunities", row)
        self.loader.searchable("opportunity", record_id, name)
        self.loader.counts.opportunities += 1
        return record_id

    def case(self, account_id: str, contact_id: str, title: str, status: str) -> tuple[str, str]:
        record_id = new_id(self.rng)
        ticket = ticket_number(self.loader.counts.cases + 1)
        row = (record_id, account_id, contact_id, title, ticket, status, "High", self.at(-20))
        self.loader.add("cases", row)
        self.loader.searchable("case", record_id, title)
        self.loader.counts.cases += 1
        return record_id, ticket

    def email(
        self,
        message_id: str,
        subject: str,
        days: float,
        sender: Party,
        to: Party,
        regarding: tuple[str, str],
        cc: tuple[Party, ...] = (),
    ) -> str:
        record_id = new_id(self.rng)
        direction = "outgoing" if sender[0] == REP_ADDRESS else "incoming"
        at = self.at(days)
        body = f"<p>{subject}</p>"
        row = (record_id, "email", message_id, subject, body, at, None, direction, *regarding)
        self.loader.add("activities", (*row, "", "", at))
        for role, party in (("from", sender), ("to", to), *(("cc", p) for p in cc)):
            self.loader.add("activity_parties", (record_id, role, *party))
        self.loader.counts.emails += 1
        return record_id

    def meeting(
        self,
        message_id: str,
        subject: str,
        days: float,
        attendees: tuple[Party, ...],
        regarding: tuple[str, str],
        location: str,
    ) -> None:
        record_id, start, end = new_id(self.rng), self.at(days, 14), self.at(days, 15)
        row = (record_id, "meeting", message_id, subject, "", start, end, None, *regarding)
        self.loader.add("activities", (*row, location, "", self.at(min(days, 0) - 1)))
        organizer = (record_id, "organizer", REP_ADDRESS, REP_NAME, None)
        self.loader.add("activity_parties", organizer)
        for party in attendees:
            self.loader.add("activity_parties", (record_id, "attendee", *party))
        self.loader.counts.meetings += 1


# The showcase's fixed addresses.
GIULIA = "giulia.rossi@rossicostruzioni.it"
MARCO = "marco.bianchi@rossicostruzioni.it"
SHARED = "service@nordlysbyg.dk"
SECOND_FIELD = "j.mueller@gmx.de"
THIRD_FIELD = "anna.kowalska@wp.pl"
QUOTE_PLUS = "siobhan.o'brien+crm@obrien-consulting.ie"
WILDCARDS = "100%_sure@wild-cards.co.uk"
ROSSI = "Rossi Costruzioni S.p.A."


def add_showcase(loader: Loader, seed: int, base_time: dt.datetime) -> Showcase:
    """Add the deliberate records to ``loader`` and return what they guarantee."""
    w = _Writer(loader, random.Random(f"sidepane-showcase-{seed}"), base_time)
    accounts = _accounts(w)
    people = _people(w, accounts)
    opportunity, case, ticket = _deals(w, accounts, people)
    email_ids, meeting_ids = _history(w, accounts, people, case)
    return Showcase(
        rep_address=REP_ADDRESS,
        single_address=GIULIA,
        single_contact_id=people["giulia"],
        second_field_address=SECOND_FIELD,
        second_field_contact_id=people["juergen"],
        third_field_address=THIRD_FIELD,
        third_field_contact_id=people["anna"],
        shared_address=SHARED,
        shared_contact_ids=(people["mette"], people["soeren"]),
        account_contact_id=people["giulia"],
        related_contact_id=people["giulia"],
        account_id=accounts["rossi"],
        account_name=ROSSI,
        multi_account_contact_id=people["lukasz"],
        multi_account_ids=(accounts["wrobel"], accounts["rossi"], accounts["mueller"]),
        no_account_contact_id=people["siobhan"],
        tricky_addresses={QUOTE_PLUS: people["siobhan"], WILDCARDS: people["percy"]},
        unknown_address=UNKNOWN_ADDRESS,
        open_opportunity_id=opportunity,
        open_case_id=case,
        open_case_ticket_number=ticket,
        saved_email_message_id=email_ids[0],
        upcoming_meeting_message_id=meeting_ids[0],
        names=dict(w.names),
    )


def _accounts(w: _Writer) -> dict[str, str]:
    return {
        "rossi": w.account(ROSSI, "rossicostruzioni.it", "+39 02 4856 1200", "Milano", "Italy"),
        "nordlys": w.account(
            "Nordlys Byg A/S", "nordlysbyg.dk", "+45 86 12 34 56", "Aarhus", "Denmark"
        ),
        "wrobel": w.account(
            "Wróbel Logistyka Sp. z o.o.",
            "wrobel-logistyka.pl",
            "+48 12 345 67 89",
            "Kraków",
            "Poland",
        ),
        "mueller": w.account(
            "Müller Maschinenbau GmbH",
            "mueller-maschinenbau.de",
            "+49 711 4455 0",
            "Stuttgart",
            "Germany",
        ),
    }


def _people(w: _Writer, accounts: dict[str, str]) -> dict[str, str]:
    rossi, nordlys, wrobel, mueller = (
        accounts[k] for k in ("rossi", "nordlys", "wrobel", "mueller")
    )
    people = {
        "giulia": w.contact(
            "Giulia",
            "Rossi",
            (GIULIA, None, None),
            "Responsabile acquisti",
            rossi,
            "+39 02 4856 1234",
        ),
        "marco": w.contact("Marco", "Bianchi", (MARCO, None, None), "Capo cantiere", rossi),
        "mette": w.contact(
            "Mette", "Jensen", ("mette.jensen@nordlysbyg.dk", SHARED, None), "Indkøber", nordlys
        ),
        "soeren": w.contact("Søren", "Østergaard", (SHARED, None, None), "Servicechef", nordlys),
        "juergen": w.contact(
            "Jürgen",
            "Müller",
            ("juergen.mueller@mueller-maschinenbau.de", SECOND_FIELD, None),
            "Einkäufer",
            mueller,
        ),
        "anna": w.contact(
            "Anna",
            "Kowalska",
            ("anna.kowalska@wrobel-logistyka.pl", None, THIRD_FIELD),
            "Księgowa",
            wrobel,
        ),
        "lukasz": w.contact(
            "Łukasz",
            "Wróbel",
            ("lukasz.wrobel@wrobel-logistyka.pl", None, None),
            "Prezes zarządu",
            wrobel,
        ),
        "siobhan": w.contact(
            "Siobhán",
            "O'Brien",
            (QUOTE_PLUS, None, None),
            "Consultant",
            None,
            company="O'Brien Consulting",
        ),
        "percy": w.contact("Percy", "Underwood", (WILDCARDS, None, None), "Office manager", None),
    }
    for extra in (rossi, mueller):
        w.loader.add("contact_accounts", (people["lukasz"], extra))
    return people


def _deals(w: _Writer, accounts: dict[str, str], people: dict[str, str]) -> tuple[str, str, str]:
    """Add opportunities and cases; return the open opportunity, open case and its ticket."""
    rossi = (accounts["rossi"], ROSSI)
    giulia, marco = people["giulia"], people["marco"]
    opportunity = w.opportunity(rossi, giulia, "Fornitura gru", 185_000.0, 21)
    w.opportunity(rossi, giulia, "Manutenzione annuale", 24_500.0, 60)
    w.opportunity(rossi, marco, "Rinnovo contratto", 48_000.0, -30, won=True)
    wrobel = (accounts["wrobel"], "Wróbel Logistyka Sp. z o.o.")
    w.opportunity(wrobel, people["lukasz"], "Umowa serwisowa", 61_000.0, 45)
    w.opportunity(
        (accounts["nordlys"], "Nordlys Byg A/S"), people["mette"], "Serviceaftale", 33_000.0, 90
    )
    case, ticket = w.case(rossi[0], giulia, "Gru bloccata in cantiere", "In Progress")
    w.case(rossi[0], giulia, "Fattura errata di marzo", "Active")
    w.case(rossi[0], marco, "Consegna in ritardo", "Resolved")
    w.case(accounts["mueller"], people["juergen"], "Ersatzteil defekt", "Active")
    return opportunity, case, ticket


def _history(
    w: _Writer, accounts: dict[str, str], people: dict[str, str], case: str
) -> tuple[list[str], list[str]]:
    """Add Giulia's twelve past emails and twelve upcoming meetings; return their message ids."""
    giulia = (GIULIA, "Giulia Rossi", people["giulia"])
    marco = (MARCO, "Marco Bianchi", people["marco"])
    rep: Party = (REP_ADDRESS, REP_NAME, None)
    rossi = ("account", accounts["rossi"])
    email_ids = [f"<giulia-rossi-{n}@rossicostruzioni.it>" for n in range(1, 13)]
    for n, message_id in enumerate(email_ids):
        regarding = ("case", case) if n % 3 == 0 else rossi
        if n % 2 == 0:
            cc = (marco,) if n % 4 == 0 else ()
            subject, days = f"Preventivo gru #{n + 1}", -1 - 4 * n
            record_id = w.email(message_id, subject, days, giulia, rep, regarding, cc)
        else:
            subject, days = f"Re: Preventivo gru #{n}", -2 - 4 * n
            record_id = w.email(message_id, subject, days, rep, giulia, regarding)
        if n == 0:
            offer = b"%PDF-1.4\n% offerta\n"
            row = (record_id, "offerta.pdf", "application/pdf", len(offer), offer)
            w.loader.add("activity_attachments", row)
    meeting_ids = [f"<meeting-{n}@contoso.example>" for n in range(1, 13)]
    for n, message_id in enumerate(meeting_ids):
        attendees = (giulia, marco) if n % 2 else (giulia,)
        subject = f"Sopralluogo cantiere {n + 1}"
        w.meeting(message_id, subject, 1 + 3 * n, attendees, rossi, "Milano")
    w.meeting("<meeting-past@contoso.example>", "Kick-off", -45, (giulia,), rossi, "Milano")
    soeren = (SHARED, "Søren Østergaard", people["soeren"])
    nordlys = ("account", accounts["nordlys"])
    w.email("<service-1@nordlysbyg.dk>", "Serviceaftale 2025", -3, soeren, rep, nordlys)
    return email_ids, meeting_ids
