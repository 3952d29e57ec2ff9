"""The dev harness's sample items: Office.js-shaped emails and meetings built from the seed.

Features
--------
* One `Sample` per situation the pane must handle (PRODUCT.md rules 6-17): a known sender, a
  thread with 34 people, unknown senders with rich signatures in English, Italian, Danish and
  Polish, an address two contacts share, an address only in a contact's 2nd email field, a
  meeting, a draft with bcc, an item in a shared mailbox, a sent email about an open case, a
  meeting the rep is organising and an email already saved to the CRM.
* Built from the `SeedReport` alone (the addresses, names and ids every seed guarantees): the CRM
  is never opened. The made-up people live at domains the seed never produces.
* `ITEM_SCHEMA`: the JSON Schema of ``Sample.item``, the shape the Office.js stand-in exposes
  (crm-api-notes.md 5.1): no ``bcc`` in read mode, no ``internetMessageId``,
  ``dateTimeCreated`` or (unless saved) ``itemId`` in compose mode, no ``internetMessageId`` or
  ``conversationId`` on appointments.
* Deterministic: no randomness; times come from ``now``, ids from the sample's key.

Usage
-----
    samples = build_samples(report, rep_address="alex@contoso.example", rep_name="Alex Morgan",
                            now=datetime.now(UTC))
    json.dumps([dataclasses.asdict(sample) for sample in samples])
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from crm_adapters.sandbox import SeedReport

__all__ = ["FOLDERS", "ITEM_SCHEMA", "Sample", "build_samples", "draft_message_id", "rest_id"]

Item = dict[str, Any]
Person = dict[str, str]

#: How the harness groups the samples, in the order it shows the folders.
FOLDERS = ("inbox", "sent", "drafts", "calendar", "shared")
#: Read and write on the shared mailbox (Read=1 | Write=2), as getSharedPropertiesAsync gives it.
SHARED_PERMISSIONS = 3


@dataclass(frozen=True, slots=True)
class Sample:
    """One item of the harness's list."""

    key: str  # stable slug used in URLs and tests
    folder: str  # one of FOLDERS
    summary: str  # one line under the subject: what this sample demonstrates
    item: dict[str, Any]  # the Office.js-shaped item (ITEM_SCHEMA)
    #: The EWS id the item has in the mailbox; a compose item gets it once saved (saveAsync).
    saved_item_id: str = ""


# --- The item schema -----------------------------------------------------------------------------

_ISO_8601 = r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}:\d{2})$"
_ADDRESS = {"type": "string", "pattern": r"^[^@\s]+@[^@\s]+\.[^@\s]+$"}
_PERSON = {
    "type": "object",
    "required": ["displayName", "emailAddress"],
    "additionalProperties": False,
    "properties": {"displayName": {"type": "string", "minLength": 1}, "emailAddress": _ADDRESS},
}
_PEOPLE = {"type": "array", "items": {"$ref": "#/$defs/person"}}
_TIME = {"type": "string", "pattern": _ISO_8601}
_MESSAGE_ONLY = ("from", "to", "cc", "bcc", "internetMessageId", "conversationId")
_APPOINTMENT_ONLY = ("organizer", "requiredAttendees", "optionalAttendees", "start", "end")


def _forbid(*keys: str) -> dict[str, Any]:
    return {"not": {"anyOf": [{"required": [key]} for key in keys]}}


#: JSON Schema (2020-12) of ``Sample.item``.
ITEM_SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "title": "Office.js item of the dev harness",
    "$defs": {"person": _PERSON},
    "type": "object",
    "required": ["itemType", "mode", "subject", "body", "shared"],
    "additionalProperties": False,
    "properties": {
        "itemType": {"enum": ["message", "appointment"]},
        "mode": {"enum": ["read", "compose"]},
        "subject": {"type": "string"},
        "from": {"$ref": "#/$defs/person"},
        "to": _PEOPLE,
        "cc": _PEOPLE,
        "bcc": _PEOPLE,
        "organizer": {"$ref": "#/$defs/person"},
        "requiredAttendees": _PEOPLE,
        "optionalAttendees": _PEOPLE,
        "start": _TIME,
        "end": _TIME,
        "location": {"type": "string"},
        "dateTimeCreated": _TIME,
        "internetMessageId": {"type": "string", "pattern": r"^<[^<>@\s]+@[^<>@\s]+>$"},
        "conversationId": {"type": "string", "pattern": r"^AAQk[A-Za-z0-9+/]+=*$"},
        "itemId": {"type": "string", "pattern": r"^AAMk[A-Za-z0-9+/]+=*$"},
        "body": {"type": "string"},
        "shared": {
            "oneOf": [
                {"type": "null"},
                {
                    "type": "object",
                    "required": ["owner", "delegatePermissions"],
                    "additionalProperties": False,
                    "properties": {
                        "owner": _ADDRESS,
                        "delegatePermissions": {"type": "integer", "minimum": 1, "maximum": 63},
                    },
                },
            ]
        },
    },
    "allOf": [
        {
            "if": {"properties": {"itemType": {"const": "message"}}},
            "then": {"required": ["from", "to", "cc", "conversationId"]},
            "else": _forbid(*_MESSAGE_ONLY),
        },
        {
            "if": {"properties": {"itemType": {"const": "appointment"}}},
            "then": {"required": [*_APPOINTMENT_ONLY, "location"]},
            "else": _forbid(*_APPOINTMENT_ONLY, "location"),
        },
        {
            "if": {"properties": {"mode": {"const": "read"}}},
            "then": {"required": ["dateTimeCreated", "itemId"], **_forbid("bcc")},
            "else": _forbid("internetMessageId", "dateTimeCreated"),
        },
        {
            "if": {
                "properties": {"itemType": {"const": "message"}, "mode": {"const": "read"}},
            },
            "then": {"required": ["internetMessageId"]},
        },
        {
            "if": {
                "properties": {"itemType": {"const": "message"}, "mode": {"const": "compose"}},
            },
            "then": {"required": ["bcc"]},
        },
    ],
}


# --- Made-up people: none of their domains is ever produced by the seed ---------------------------

#: Internal colleagues at the rep's domain: (display name, mailbox name). Never offered as contacts.
COLLEAGUES = (
    ("Jamie Chen", "jamie.chen"),
    ("Priya Nair", "priya.nair"),
    ("Sam Okafor", "sam.okafor"),
    ("Laura Becker", "laura.becker"),
    ("Tom Fischer", "tom.fischer"),
    ("Service Desk", "support"),
)
_JAMIE, _PRIYA, _SAM, _LAURA, _TOM, _SUPPORT = range(len(COLLEAGUES))

#: External people unknown to the CRM, at realistic company domains: (display name, address).
#: Some display names are as clients show them: "Last, First", a title, or the bare address.
STRANGERS = (
    ("Lorenzo Gatti", "lorenzo.gatti@gruverde-noleggi.it"),
    ("Chiara Fontana", "c.fontana@gruverde-noleggi.it"),
    ("Cantiere Via Tortona", "cantiere.tortona@gruverde-noleggi.it"),
    ("Katrin Vogt", "katrin.vogt@kranwerk-sued.de"),
    ("Stefan Reiter", "s.reiter@kranwerk-sued.de"),
    ("Hartley, Owen", "owen.hartley@tessera-analytics.com"),
    ("Priya Raman", "priya.raman@tessera-analytics.com"),
    ("Fiona McLeod", "fiona.mcleod@harbourline-freight.co.uk"),
    ("accounts.payable@harbourline-freight.co.uk", "accounts.payable@harbourline-freight.co.uk"),
    ("Mads Kjær", "mads.kjaer@betonvest.dk"),
    ("Trine Lauritsen", "tl@betonvest.dk"),
    ("Tomasz Nowicki", "tomasz.nowicki@stalbud-konstrukcje.pl"),
    ("Ewa Lis", "e.lis@stalbud-konstrukcje.pl"),
    ("Lena Hofer", "lena.hofer@alpina-sicherheit.at"),
    ("Ing. Markus Pichler", "m.pichler@alpina-sicherheit.at"),
    ("Sofia Marchetti", "sofia.marchetti@studiotecnico-navigli.it"),
    ("Paolo Serra", "p.serra@studiotecnico-navigli.it"),
    ("Amélie Durand", "amelie.durand@lumiere-facades.fr"),
    ("Dr. Helga Brandt", "h.brandt@ingenieurbuero-hafenblick.de"),
    ("Rui Almeida", "rui.almeida@atlantico-gruas.pt"),
    ("Noor Visser", "noor.visser@deltaport-cranes.nl"),
)
_LORENZO, _CHIARA, _SITE, _KATRIN, _STEFAN, _OWEN, _RAMAN, _FIONA, _PAYABLE = range(9)
_MADS, _TRINE, _TOMASZ, _EWA, _LENA, _MARKUS, _SOFIA, _PAOLO, _AMELIE, _HELGA, _RUI, _NOOR = range(
    9, 21
)

#: The senders whose signatures the pane reads (rule 8), unknown to the CRM.
ELEANOR = ("Eleanor Whitfield", "e.whitfield@penninecrest-logistics.co.uk")
FRANCESCA = ("Francesca Zanetti", "f.zanetti@vetrerialagunare.it")
RASMUS = ("Rasmus Holmgaard", "rh@skovbryn-emballage.dk")
MAGDALENA = ("Magdalena Sowińska", "magdalena.sowinska@termoplast-baltyk.pl")


# --- Bodies ------------------------------------------------------------------------------------
# Text as Office.js body.getAsync("text") returns it. Placeholders: {rep_first}, {rep_name},
# {rep_address}, {sender_first}, {sender_name}, {sender_address}, {company}, {ticket}, and the
# dates of the quoted messages ({quoted_*}) in the sender's language.

KNOWN_SENDER_BODY = """\
Hi {rep_first},

thank you for the quote for the annual maintenance of our two tower cranes. Before we sign,
could you confirm that:

- the inspection required by the insurer is included in the price;
- a technician can be on site within 24 hours when a crane is blocked;
- spare parts are invoiced at the prices of the attached list.

If everything is fine, I will send you the signed order on Friday.

Best regards,

{sender_name}
{company}

From: {rep_name} <{rep_address}>
Sent: {quoted_outlook}
To: {sender_name} <{sender_address}>
Subject: Quote: annual crane maintenance

Dear {sender_first},

as promised, please find attached our quote for the annual maintenance of your tower cranes,
valid until the end of the month.

Kind regards,
{rep_name}
"""

MANY_RECIPIENTS_BODY = """\
Dear all,

please find below the plan for the installation of the tower crane at the Via Tortona site
next week. Please confirm your slot by Thursday noon, replying to all.

Monday     07:00  Site handover and safety briefing (Alpina Sicherheit)
Tuesday    06:30  Delivery of the crane sections (Harbourline Freight), road closed until 11:00
Wednesday  07:00  Assembly with the mobile crane (Gru Verde Noleggi, Kranwerk Süd)
Thursday   09:00  Load test and acceptance (Ingenieurbüro Hafenblick, Studio Tecnico Navigli)
Friday     08:00  Concrete pour of the first floor slab (Beton Vest)

Access is from Via Tortona 35 only; the gate on Via Savona stays closed during the works.
Anyone without the site induction reports to the site office first.

Many thanks,

{sender_name}
{company}

From: Lorenzo Gatti <lorenzo.gatti@gruverde-noleggi.it>
Sent: {quoted_outlook}
To: {sender_name} <{sender_address}>
Cc: Katrin Vogt <katrin.vogt@kranwerk-sued.de>; {rep_name} <{rep_address}>
Subject: Installazione gru Via Tortona

Ciao {sender_first},

the mobile crane is booked for Wednesday from 07:00. We need the road permit from the
municipality by Monday at the latest, otherwise we lose the slot.

Lorenzo
"""

UNKNOWN_SIGNATURE_BODY = """\
Hi {rep_first},

Thanks for the call this morning. As discussed, we are looking for a service partner for the
hydraulic dock levellers and lifts at our three distribution centres (Leeds, Wakefield and
Doncaster), about 40 units in total. Could you send us a proposal for an annual maintenance
contract, including response times and spare-parts pricing?

I have attached our site list and the maintenance history of the last two years.

Kind regards,

Eleanor Whitfield
Head of Facilities Management
Pennine Crest Logistics Ltd.
T: +44 113 496 0712 | M: +44 7723 518604 | F: +44 113 496 0799
www.penninecrest-logistics.co.uk
Unit 4, Stourton Link Business Park, Leeds LS10 1RW, United Kingdom

This email and any attachments are confidential and intended solely for the use of the
individual or entity to whom they are addressed. If you have received this email in error,
please notify the sender immediately and delete it from your system. Pennine Crest Logistics
Ltd. is registered in England and Wales under company number 08123456.

-----Original Message-----
From: {rep_name} <{rep_address}>
Sent: {quoted_outlook}
To: Eleanor Whitfield <e.whitfield@penninecrest-logistics.co.uk>
Subject: Maintenance of your dock levellers

Dear Ms Whitfield,

thank you for your enquiry through our website. I would be glad to discuss your maintenance
needs: would a short call tomorrow morning suit you?

Kind regards,
{rep_name}
"""

TWO_MATCHES_BODY = """\
Hi {rep_first},

the service report for the crane inspection in Aarhus is attached. Two findings need a
follow-up visit: the slewing ring bolts on crane 2 and the anemometer cable on crane 3.

Can your technician come in week 14? Mornings work best for the site.

Best regards,

{sender_name}
"""

SECOND_FIELD_BODY = """\
Hello {rep_first},

I am writing from my private address as I am travelling this week and cannot reach the
company mail.

The replacement gearbox for the press line arrived damaged: the housing is cracked on the
drive side. Photos are attached. Please arrange a replacement as soon as possible; the line is
stopped until then.

Best regards
{sender_name}

Sent from my iPhone
"""

MEETING_BODY = """\
Dear all,

site inspection of the tower crane before the load test. Please bring your PPE: helmets and
safety shoes are mandatory on site.

Agenda
1. Crane foundations and anchoring
2. Electrical supply and earthing
3. Schedule of the load test

{sender_name}
{company}
"""

DRAFT_BODY = """\
Dear {sender_first},

thank you for your questions. I confirm that the insurer's inspection is included, that a
technician is on site within 24 hours when a crane is blocked, and that spare parts are
invoiced at the prices of the list we sent.

I look forward to receiving the signed order.

Kind regards,
{rep_name}

From: {sender_name} <{sender_address}>
Sent: {quoted_outlook}
To: {rep_name} <{rep_address}>
Subject: RE: Quote: annual crane maintenance

Hi {rep_first},

thank you for the quote for the annual maintenance of our two tower cranes. Before we sign,
could you confirm the points below?
"""

SHARED_MAILBOX_BODY = """\
Hello,

our invoice for the renewal of the support contract shows 12 licences, but we renewed only 10.
Could you send a corrected invoice? The purchase order number is PO-4471.

Many thanks,
{sender_name}
"""

ITALIAN_BODY = """\
Buongiorno {rep_first},

grazie per la documentazione tecnica. L'abbiamo esaminata con il nostro ufficio tecnico e
avremmo ancora due domande:

1. il contratto di manutenzione comprende anche i carroponti del reparto forni?
2. quali sono i tempi di intervento garantiti per l'isola di Murano?

Se possibile vorremmo fissare una videochiamata la prossima settimana.

Cordiali saluti

Francesca Zanetti
Responsabile Ufficio Acquisti
Vetreria Artistica Lagunare S.r.l.
Fondamenta dei Vetrai 41, 30141 Murano (VE)
Tel. 041 527 4410
Cell. 348 219 7765
Fax 041 527 4499
www.vetrerialagunare.it
P.IVA 04123450271

Questo messaggio e i suoi allegati sono riservati e destinati esclusivamente al destinatario
indicato. Se lo avete ricevuto per errore, vi preghiamo di avvisare il mittente e di
cancellarlo.

Il giorno {quoted_it} {rep_name} <{rep_address}> ha scritto:
> Buongiorno Francesca,
>
> as promised, please find attached the technical documentation of our maintenance service
> for overhead cranes. I am happy to answer any question.
>
> Kind regards,
> {rep_name}
"""

DANISH_BODY = """\
Hej {rep_first}

Tak for tilbuddet på serviceaftalen. Vi har gennemgået det med vores driftsleder, og det ser
fornuftigt ud. Kan I bekræfte, at prisen inkluderer kørsel til vores lager i Vejle?

Vi vil gerne have aftalen på plads inden 1. april.

Med venlig hilsen

Rasmus Holmgaard
Indkøbschef
Skovbryn Emballage ApS
Industrivej 14, 7100 Vejle
Tlf. 75 82 41 90
Mobil 28 94 13 57
www.skovbryn-emballage.dk
CVR-nr. 38214567

Den {quoted_da} skrev {rep_name} <{rep_address}>:
> Hej Rasmus
>
> Here is our offer for the service agreement for your packaging lines, as discussed on the
> phone. It is valid for 30 days.
>
> Best regards
> {rep_name}
"""

POLISH_BODY = """\
Dzień dobry,

dziękuję za przesłaną ofertę. Przeanalizowaliśmy ją z działem utrzymania ruchu i chcielibyśmy
doprecyzować dwie kwestie: czas reakcji serwisu w Gdańsku oraz koszt części zamiennych do
wtryskarek.

Czy możemy umówić się na rozmowę w przyszłym tygodniu?

Z poważaniem
Magdalena Sowińska
Kierownik Działu Zakupów
Termoplast Bałtyk sp. z o.o.
ul. Przemysłowa 7, 80-298 Gdańsk
tel. 58 340 12 75
kom. 601 238 947
www.termoplast-baltyk.pl
NIP 584-272-19-63, KRS 0000512345

W dniu {quoted_pl} {rep_name} <{rep_address}> napisał(a):
> Dear Ms Sowińska,
>
> please find attached our offer for the maintenance of your injection moulding machines.
>
> Kind regards,
> {rep_name}
"""

SENT_BODY = """\
Dear {sender_first},

following up on case {ticket}: our technician will replace the blocked slewing motor on
{visit} at 08:00. The crane will be out of service for about four hours.

I will send you the intervention report once the work is done.

Kind regards,
{rep_name}

From: {sender_name} <{sender_address}>
Sent: {quoted_outlook}
To: {rep_name} <{rep_address}>
Subject: Gru bloccata in cantiere

Hi {rep_first},

crane 1 on the Via Tortona site is blocked again: the slewing motor does not start. The site
is waiting; please send someone as soon as possible.

{sender_name}
"""

MEETING_ORGANIZER_BODY = """\
Agenda
1. Open cases and response times this quarter
2. Renewal of the maintenance contract
3. Spare-parts stock on site

________________________________________________________________________________
Microsoft Teams meeting
Join on your computer, mobile app or room device
Meeting ID: 348 112 907 561
Passcode: Hq7tZp
________________________________________________________________________________
"""

ALREADY_SAVED_BODY = """\
Buongiorno {rep_first},

in allegato il preventivo per la fornitura della gru, come concordato al telefono.

Cordiali saluti
{sender_name}
{company}
"""


# --- Dates of quoted messages, in each language --------------------------------------------------

_EN_DAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
_EN_MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August",
              "September", "October", "November", "December")  # fmt: skip
_IT_DAYS = ("lun", "mar", "mer", "gio", "ven", "sab", "dom")
_IT_MONTHS = ("gen", "feb", "mar", "apr", "mag", "giu", "lug", "ago", "set", "ott", "nov", "dic")
_DA_DAYS = ("man.", "tir.", "ons.", "tor.", "fre.", "lør.", "søn.")
_DA_MONTHS = ("jan.", "feb.", "mar.", "apr.", "maj", "jun.", "jul.", "aug.", "sep.", "okt.",
              "nov.", "dec.")  # fmt: skip
_PL_DAYS = ("pon.", "wt.", "śr.", "czw.", "pt.", "sob.", "niedz.")
_PL_MONTHS = ("sty", "lut", "mar", "kwi", "maj", "cze", "lip", "sie", "wrz", "paź", "lis", "gru")


def _quoted_dates(when: datetime) -> dict[str, str]:
    """The date of a quoted message as each client writes it in its reply header."""
    day, month, year = when.day, when.month - 1, when.year
    weekday, clock = when.weekday(), when.strftime("%H:%M")
    return {
        # Outlook (English, UK): "Sent: Monday, 3 March 2025 16:42"
        "quoted_outlook": f"{_EN_DAYS[weekday]}, {day} {_EN_MONTHS[month]} {year} {clock}",
        # Gmail in Italian: "Il giorno lun 3 mar 2025 alle ore 16:42 ... ha scritto:"
        "quoted_it": f"{_IT_DAYS[weekday]} {day} {_IT_MONTHS[month]} {year} alle ore {clock}",
        # Gmail in Danish: "Den man. 3. mar. 2025 kl. 16.42 skrev ...:"
        "quoted_da": f"{_DA_DAYS[weekday]} {day}. {_DA_MONTHS[month]} {year} kl. "
        + clock.replace(":", "."),
        # Gmail in Polish: "W dniu pon., 3 mar 2025 o 16:42 ... napisał(a):"
        "quoted_pl": f"{_PL_DAYS[weekday]}, {day} {_PL_MONTHS[month]} {year} o {clock}",
    }


# --- Builders ------------------------------------------------------------------------------------


def _person(name: str, address: str) -> Person:
    return {"displayName": name, "emailAddress": address}


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def _digest(*parts: str) -> bytes:
    return hashlib.sha256("\x1f".join(("sidepane-harness", *parts)).encode()).digest()


def _item_id(key: str) -> str:
    """An EWS-format item id: base64 with the URL-unsafe ``+``, ``/`` and ``=`` it may carry."""
    raw = b"\x00\x03\x24\x00" + b"".join(_digest("item", key, str(n)) for n in range(3))
    raw += b"\x00\x00\x00"
    return base64.b64encode(raw).decode()  # "AAMk..." like Exchange's


def rest_id(ews_id: str) -> str:
    """The REST id of an EWS id, as Office's ``convertToRestId`` (and the stand-in) gives it."""
    return ews_id.replace("/", "-").replace("+", "_")


def draft_message_id(item_id: str) -> str:
    """The internet message id a draft gets when it is saved (the harness's drafts)."""
    return f"<{_digest('draft', item_id).hex()[:32].upper()}@sidepane.harness>"


def _conversation_id(thread: str) -> str:
    raw = b"\x00\x04\x24\x00" + _digest("conversation", thread) + _digest("mailbox")[:22]
    return base64.b64encode(raw).decode()  # "AAQk..." like Exchange's


def _message_id(key: str, sender_address: str) -> str:
    """An Exchange Online message id, from the sender's organisation's server, stable per sample."""
    host = _digest("host", sender_address.rsplit("@", 1)[-1])
    server = f"AM{host[0] % 9 + 1}PR{host[1] % 10:02d}MB{1000 + int.from_bytes(host[2:4]) % 9000}"
    unique = _digest("message", key).hex().upper()[:24]
    return f"<{server}{unique}@{server}.eurprd{host[4] % 9 + 1:02d}.prod.outlook.com>"


def _name_from_address(address: str) -> str:
    """'giulia.rossi+x@y' -> 'Giulia Rossi': a readable name when the report has none."""
    local = address.split("@", 1)[0].split("+", 1)[0]
    words = [w for w in local.replace("_", ".").replace("-", ".").split(".") if w.isalpha()]
    return " ".join(w.capitalize() for w in words) or address


class _Seeded:
    """The contacts the seed guarantees, with their names and addresses, from the report alone."""

    def __init__(self, report: SeedReport) -> None:
        self.report = report
        self.names = {record_id: name for name, record_id in report.names.items()}
        pairs = [
            (report.single_address, report.single_contact_id),
            (report.second_field_address, report.second_field_contact_id),
            (report.third_field_address, report.third_field_contact_id),
            *sorted(report.tricky_addresses.items()),
        ]
        self.addresses: dict[str, str] = {}
        for address, contact_id in pairs:
            self.addresses.setdefault(contact_id, address)

    def person(self, contact_id: str, address: str) -> Person:
        return _person(self.names.get(contact_id) or _name_from_address(address), address)

    def contact(self, contact_id: str) -> Person:
        """The contact at its first address the report names (the known sender's otherwise)."""
        address = self.addresses.get(contact_id, self.report.single_address)
        return self.person(contact_id, address)

    def company(self, contact_id: str) -> str:
        return self.report.account_name if contact_id == self.report.account_contact_id else ""


@dataclass(frozen=True, slots=True)
class _Context:
    report: SeedReport
    seeded: _Seeded
    rep: Person
    rep_domain: str
    now: datetime

    def colleague(self, index: int) -> Person:
        name, mailbox = COLLEAGUES[index]
        return _person(name, f"{mailbox}@{self.rep_domain}")

    def fields(
        self, sender: Person, when: datetime, company: str = "", **extra: str
    ) -> dict[str, str]:
        """The placeholders of a body; its quoted message is from the day before ``when``."""
        return self.quoting(sender, _day_before(when), company, **extra)

    def quoting(
        self, sender: Person, quoted: datetime, company: str = "", **extra: str
    ) -> dict[str, str]:
        """The placeholders of a body whose quoted message was sent at ``quoted``."""
        return {
            "rep_name": self.rep["displayName"],
            "rep_first": self.rep["displayName"].split()[0],
            "rep_address": self.rep["emailAddress"],
            "sender_name": sender["displayName"],
            "sender_first": sender["displayName"].split()[0],
            "sender_address": sender["emailAddress"],
            "company": company,
            **_quoted_dates(quoted),
            **extra,
        }

    def ago(self, minutes: int) -> datetime:
        return self.now - timedelta(minutes=minutes)

    def upcoming(self, days: int, hour: int, minute: int = 0) -> datetime:
        return (self.now + timedelta(days=days)).replace(
            hour=hour, minute=minute, second=0, microsecond=0
        )


def _day_before(when: datetime) -> datetime:
    """A time on the day before ``when``: when the message it answers was sent."""
    return (when - timedelta(days=1)).replace(hour=16, minute=42, second=0, microsecond=0)


def _strangers(*indices: int) -> list[Person]:
    return [_person(*STRANGERS[i]) for i in indices]


def _read_message(
    key: str,
    *,
    subject: str,
    sender: Person,
    to: Iterable[Person],
    cc: Iterable[Person] = (),
    body: str,
    created: datetime,
    thread: str | None = None,
    message_id: str | None = None,
    shared: dict[str, Any] | None = None,
) -> Item:
    return {
        "itemType": "message",
        "mode": "read",
        "subject": subject,
        "from": sender,
        "to": list(to),
        "cc": list(cc),
        "dateTimeCreated": _iso(created),
        "internetMessageId": message_id or _message_id(key, sender["emailAddress"]),
        "conversationId": _conversation_id(thread or key),
        "itemId": _item_id(key),
        "body": body,
        "shared": shared,
    }


def _appointment(
    key: str,
    *,
    mode: str,
    subject: str,
    organizer: Person,
    required: Iterable[Person],
    optional: Iterable[Person],
    start: datetime,
    minutes: int,
    location: str,
    body: str,
    created: datetime,
) -> Item:
    item: Item = {
        "itemType": "appointment",
        "mode": mode,
        "subject": subject,
        "organizer": organizer,
        "requiredAttendees": list(required),
        "optionalAttendees": list(optional),
        "start": _iso(start),
        "end": _iso(start + timedelta(minutes=minutes)),
        "location": location,
        "body": body,
        "shared": None,
    }
    if mode == "read":
        item["dateTimeCreated"] = _iso(created)
        item["itemId"] = _item_id(key)
    return item


# --- The samples ---------------------------------------------------------------------------------

_KNOWN_SUBJECT = "RE: Quote: annual crane maintenance"


def build_samples(
    report: SeedReport, *, rep_address: str, rep_name: str, now: datetime
) -> list[Sample]:
    """Return the harness's sample items, built from what the seed guarantees."""
    return [
        Sample(s.key, s.folder, s.summary, s.item, s.item.get("itemId") or _item_id(s.key))
        for s in _build_samples(report, rep_address=rep_address, rep_name=rep_name, now=now)
    ]


def _build_samples(
    report: SeedReport, *, rep_address: str, rep_name: str, now: datetime
) -> list[Sample]:
    moment = (now if now.tzinfo else now.replace(tzinfo=UTC)).astimezone(UTC)
    c = _Context(
        report=report,
        seeded=_Seeded(report),
        rep=_person(rep_name, rep_address),
        rep_domain=rep_address.rsplit("@", 1)[-1],
        now=moment.replace(microsecond=0),
    )
    return [
        _known_sender(c),
        _many_recipients(c),
        _unknown_signature(c),
        _two_matches(c),
        _second_field(c),
        _meeting(c),
        _draft(c),
        _shared_mailbox(c),
        *(_signature_sample(c, *spec) for spec in SIGNATURE_SAMPLES),
        _sent(c),
        _meeting_organizer(c),
        _already_saved(c),
    ]


def _giulia(c: _Context) -> tuple[Person, str]:
    """The known sender (Giulia Rossi) and her company."""
    contact_id = c.report.single_contact_id
    return c.seeded.person(contact_id, c.report.single_address), c.seeded.company(contact_id)


def _known_sender(c: _Context) -> Sample:
    sender, company = _giulia(c)
    created = c.ago(25)
    item = _read_message(
        "known-sender",
        subject=_KNOWN_SUBJECT,
        sender=sender,
        to=[c.rep],
        body=KNOWN_SENDER_BODY.format(**c.fields(sender, created, company)),
        created=created,
        thread="crane-maintenance",
    )
    return Sample("known-sender", "inbox", "A sender in the CRM", item)


def _many_recipients(c: _Context) -> Sample:
    report, seeded = c.report, c.seeded
    sender, company = _giulia(c)
    known = [
        seeded.person(report.second_field_contact_id, report.second_field_address),
        seeded.person(report.third_field_contact_id, report.third_field_address),
        seeded.person(report.shared_contact_ids[-1], report.shared_address),
        *(seeded.person(cid, address) for address, cid in sorted(report.tricky_addresses.items())),
    ]
    to = [
        c.rep,
        *_strangers(_LORENZO, _KATRIN, _FIONA, _MADS, _TOMASZ, _LENA, _SOFIA, _HELGA),
        *known[:2],
        c.colleague(_JAMIE),
    ]
    cc = [
        *_strangers(_CHIARA, _SITE, _STEFAN, _OWEN, _RAMAN, _PAYABLE, _TRINE, _EWA),
        *known[2:],
        *_strangers(_MARKUS, _PAOLO, _AMELIE, _RUI, _NOOR),
        *(c.colleague(i) for i in (_PRIYA, _SAM, _LAURA, _TOM, _SUPPORT)),
    ]
    created = c.ago(70)
    item = _read_message(
        "many-recipients",
        subject="RE: Installazione gru Via Tortona - site plan for next week",
        sender=sender,
        to=to,
        cc=cc,
        body=MANY_RECIPIENTS_BODY.format(**c.fields(sender, created, company)),
        created=created,
    )
    people = len({p["emailAddress"].lower() for p in (sender, *to, *cc)})
    summary = f"A thread with {people} people: contacts, unknown addresses and colleagues"
    return Sample("many-recipients", "inbox", summary, item)


def _unknown_signature(c: _Context) -> Sample:
    sender = _person(*ELEANOR)
    created = c.ago(95)
    item = _read_message(
        "unknown-signature",
        subject="RE: Maintenance of your dock levellers",
        sender=sender,
        to=[c.rep],
        cc=[_person("Ops Team", "operations@penninecrest-logistics.co.uk")],
        body=UNKNOWN_SIGNATURE_BODY.format(**c.fields(sender, created)),
        created=created,
    )
    summary = "An unknown sender with a rich signature: Add to CRM comes pre-filled"
    return Sample("unknown-signature", "inbox", summary, item)


def _two_matches(c: _Context) -> Sample:
    report = c.report
    sender = c.seeded.person(report.shared_contact_ids[-1], report.shared_address)
    created = c.ago(150)
    item = _read_message(
        "two-matches",
        subject="Service report: crane inspection Aarhus",
        sender=sender,
        to=[c.rep],
        cc=[c.colleague(_SAM)],
        body=TWO_MATCHES_BODY.format(**c.fields(sender, created)),
        created=created,
    )
    summary = "An address two contacts share: Choose the right contact"
    return Sample("two-matches", "inbox", summary, item)


def _second_field(c: _Context) -> Sample:
    report = c.report
    sender = c.seeded.person(report.second_field_contact_id, report.second_field_address)
    created = c.ago(210)
    item = _read_message(
        "second-field",
        subject="Replacement gearbox arrived damaged",
        sender=sender,
        to=[c.rep],
        body=SECOND_FIELD_BODY.format(**c.fields(sender, created)),
        created=created,
    )
    summary = "A sender found only in a contact's 2nd email field"
    return Sample("second-field", "inbox", summary, item)


def _meeting(c: _Context) -> Sample:
    report, seeded = c.report, c.seeded
    organizer = seeded.contact(report.related_contact_id)
    company = seeded.company(report.related_contact_id)
    item = _appointment(
        "meeting",
        mode="read",
        subject="Sopralluogo cantiere Via Tortona - crane inspection",
        organizer=organizer,
        required=[c.rep, c.colleague(_JAMIE), *_strangers(_LORENZO)],
        optional=[
            seeded.person(report.third_field_contact_id, report.third_field_address),
            *_strangers(_SOFIA),
        ],
        start=c.upcoming(2, 8, 30),
        minutes=90,
        location="Cantiere Via Tortona 35, 20144 Milano",
        body=MEETING_BODY.format(**c.fields(organizer, c.now, company)),
        created=c.ago(60 * 26),
    )
    summary = "A meeting with a contact: related items, attendees to match"
    return Sample("meeting", "calendar", summary, item)


def _draft(c: _Context) -> Sample:
    sender, _ = _giulia(c)
    body = DRAFT_BODY.format(**c.quoting(sender, c.ago(25)))  # quotes the known-sender email
    item: Item = {
        "itemType": "message",
        "mode": "compose",
        "subject": _KNOWN_SUBJECT,
        "from": c.rep,
        "to": [sender],
        "cc": [c.colleague(_SAM), *_strangers(_LORENZO)],
        "bcc": [c.colleague(_LAURA)],
        "conversationId": _conversation_id("crane-maintenance"),
        "body": body,
        "shared": None,
    }
    summary = "A reply being written, with cc and bcc: saved once it is sent"
    return Sample("draft", "drafts", summary, item)


def _shared_mailbox(c: _Context) -> Sample:
    report = c.report
    contact_id = report.no_account_contact_id
    address = c.seeded.addresses.get(contact_id)
    sender = c.seeded.person(contact_id, address) if address else _giulia(c)[0]
    owner = f"support@{c.rep_domain}"
    created = c.ago(45)
    item = _read_message(
        "shared-mailbox",
        subject="Invoice for the support contract renewal",
        sender=sender,
        to=[c.colleague(_SUPPORT)],
        body=SHARED_MAILBOX_BODY.format(**c.fields(sender, created)),
        created=created,
        shared={"owner": owner, "delegatePermissions": SHARED_PERMISSIONS},
    )
    summary = "An email in the support shared mailbox: it cannot be saved"
    return Sample("shared-mailbox", "shared", summary, item)


#: Unknown senders writing in their language: key, sender, body, subject, language, minutes ago.
SIGNATURE_SAMPLES = (
    ("italian", FRANCESCA, ITALIAN_BODY, "Re: Documentazione tecnica", "Italian", 300),
    ("danish", RASMUS, DANISH_BODY, "SV: Tilbud på serviceaftale", "Danish", 420),
    ("polish", MAGDALENA, POLISH_BODY, "Odp: Oferta serwisowa", "Polish", 540),
)


def _signature_sample(
    c: _Context, key: str, who: tuple[str, str], body: str, subject: str, language: str, ago: int
) -> Sample:
    sender = _person(*who)
    created = c.ago(ago)
    item = _read_message(
        key,
        subject=subject,
        sender=sender,
        to=[c.rep],
        body=body.format(**c.fields(sender, created)),
        created=created,
    )
    summary = f"An unknown {language} sender: Add to CRM pre-filled from a {language} signature"
    return Sample(key, "inbox", summary, item)


def _sent(c: _Context) -> Sample:
    sender, _ = _giulia(c)
    ticket = c.report.open_case_ticket_number
    created = c.ago(60 * 20)
    visit = c.upcoming(1, 8)
    fields = c.fields(
        sender,
        created,
        ticket=ticket,
        visit=f"{_EN_DAYS[visit.weekday()]} {visit.day} {_EN_MONTHS[visit.month - 1]}",
    )
    item = _read_message(
        "sent",
        subject=f"RE: Gru bloccata in cantiere [{ticket}]",
        sender=c.rep,
        to=[sender],
        cc=[c.colleague(_SAM)],
        body=SENT_BODY.format(**fields),
        created=created,
    )
    summary = "An email the rep sent about an open case (case number in the subject)"
    return Sample("sent", "sent", summary, item)


def _meeting_organizer(c: _Context) -> Sample:
    report, seeded = c.report, c.seeded
    guest, company = _giulia(c)
    item = _appointment(
        "meeting-organizer",
        mode="compose",
        subject=f"Quarterly service review - {company or guest['displayName']}",
        organizer=c.rep,
        required=[
            guest,
            seeded.person(report.second_field_contact_id, report.second_field_address),
            c.colleague(_SAM),
        ],
        optional=[c.colleague(_JAMIE), *_strangers(_KATRIN)],
        start=c.upcoming(7, 13),
        minutes=60,
        location="Microsoft Teams Meeting",
        body=MEETING_ORGANIZER_BODY,
        created=c.now,
    )
    summary = "A meeting the rep is organising, not sent yet"
    return Sample("meeting-organizer", "calendar", summary, item)


def _already_saved(c: _Context) -> Sample:
    sender, company = _giulia(c)
    created = _seeded_time(c.report, days=-1, hour=10) or c.ago(60 * 24)
    item = _read_message(
        "already-saved",
        subject="Preventivo gru #1",
        sender=sender,
        to=[c.rep],
        body=ALREADY_SAVED_BODY.format(**c.fields(sender, created, company)),
        created=created,
        message_id=c.report.saved_email_message_id,
    )
    summary = "An email already saved to the CRM: the card shows it saved"
    return Sample("already-saved", "inbox", summary, item)


def _seeded_time(report: SeedReport, *, days: int, hour: int) -> datetime | None:
    """A time of the seed's showcase history (``days`` from its base time, at ``hour``)."""
    try:
        base = datetime.fromisoformat(report.base_time)
    except (TypeError, ValueError):
        return None
    base = base if base.tzinfo else base.replace(tzinfo=UTC)
    return base.replace(hour=hour, minute=0, second=0, microsecond=0) + timedelta(days=days)
