"""The bulk of a seed: accounts with their people, deals, cases, emails and meetings.

Features
--------
* About one account per ten contacts; each account gets 1-17 contacts (mostly of its own
  locale), 0-3 opportunities, 0-3 cases, 0-4 past emails and often a meeting (upcoming or past).
  Contacts left over once the accounts are used up have no account and a webmail address.
* Addresses come from names and company domains, ASCII-folded the way people write them
  (``Łukasz Wróbel`` → ``lukasz.wrobel@…``); every address is unique, and none of the showcase's
  reserved domains or addresses is ever produced.
* Speed: values are drawn with ``random()`` and indexing instead of ``choice`` and ``choices``,
  times come from tables drawn once, name folds are cached. A million contacts take well under
  a minute of Python on one core.
* Reproducible: one ``random.Random`` drives everything, in a fixed order.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Callable, Sequence
from typing import TypeVar

from .folding import fold, mailbox_name
from .loader import Loader, deal_name, new_id, ticket_number
from .locales import WEIGHTS, Country, Locale, locales
from .schema import CLOSED_CASE_STATUSES
from .showcase import REP_ADDRESS, REP_NAME, RESERVED_ADDRESSES, RESERVED_DOMAINS, Party
from .times import to_db

T = TypeVar("T")

#: Contacts buffered between two writes (and two progress reports).
BATCH_CONTACTS = 20_000
OPEN_STAGES = ("Qualify", "Develop", "Propose")
OPEN_CASE_STATUSES = ("Active", "In Progress", "On Hold", "Waiting for Details")
PRIORITIES = ("High", "Normal", "Normal", "Low")


class _Times:
    """Tables of stored times around ``base_time``, drawn once."""

    def __init__(self, rng: random.Random, base_time: dt.datetime) -> None:
        def at(seconds: float) -> str:
            return to_db(base_time + dt.timedelta(seconds=seconds))

        day = 86_400
        self.created = [at(-rng.uniform(30 * day, 3 * 365 * day)) for _ in range(4096)]
        self.recent = [at(-rng.uniform(3_600, 120 * day)) for _ in range(4096)]
        self.upcoming: list[tuple[str, str]] = []
        self.past_meetings: list[tuple[str, str]] = []
        for table, sign in ((self.upcoming, 1), (self.past_meetings, -1)):
            for _ in range(2048):
                start = base_time.replace(hour=8, minute=0, second=0, microsecond=0)
                start += dt.timedelta(
                    days=sign * rng.randint(1, 60), minutes=30 * rng.randint(0, 18)
                )
                end = start + dt.timedelta(minutes=rng.choice((30, 60, 90)))
                table.append((to_db(start), to_db(end)))
        self.future_dates = [at(rng.uniform(7 * day, 200 * day))[:10] for _ in range(1024)]
        self.past_dates = [at(-rng.uniform(7 * day, 700 * day))[:10] for _ in range(1024)]


class BulkGenerator:
    """Generate realistic records into a `Loader`."""

    def __init__(self, loader: Loader, rng: random.Random, base_time: dt.datetime) -> None:
        self.loader, self.rng, self.random = loader, rng, rng.random
        self.locale_table = [loc for loc in locales() for _ in range(WEIGHTS[loc.code])]
        self.times = _Times(rng, base_time)
        self.domains: dict[str, int] = {}
        self.taken_domains = set(RESERVED_DOMAINS)
        self.taken_webmail = set(RESERVED_ADDRESSES)
        self.serial = 0

    def pick(self, items: Sequence[T]) -> T:
        return items[int(self.random() * len(items))]

    def run(self, contacts: int, on_batch: Callable[[int], None]) -> None:
        """Add ``contacts`` contacts with their accounts and activities, reporting each batch."""
        left, written = contacts, 0
        for _ in range(max(1, contacts // 10)):
            locale = self.pick(self.locale_table)
            members = self.account(locale, min(left, 1 + int(self.random() * 17)))
            left -= members
            written += members
            if len(self.loader.rows["contacts"]) >= BATCH_CONTACTS:
                self.loader.flush()
                on_batch(written)
        while left > 0:
            chunk = min(left, BATCH_CONTACTS)
            for _ in range(chunk):
                locale = self.pick(self.locale_table)
                self.contact(locale, locale.countries[0], None, "", "", set())
            left -= chunk
            written += chunk
            self.loader.flush()
            on_batch(written)
        self.loader.flush()
        on_batch(written)

    def domain(self, core: str, tld: str) -> str:
        base = mailbox_name(core, "-") or "company"
        while True:
            count = self.domains.get(base, 0)
            self.domains[base] = count + 1
            domain = f"{base}{count or ''}.{tld}"
            if domain not in self.taken_domains:
                self.taken_domains.add(domain)
                return domain

    def account(self, locale: Locale, size: int) -> int:
        """Add an account with ``size`` contacts and its deals, cases and activities."""
        pick, random_ = self.pick, self.random
        country = pick(locale.countries)
        last, shape = pick(locale.male_last_names), random_()
        if shape < 0.45:
            core = f"{last} {pick(locale.industries)}"
        elif shape < 0.65:
            core = f"{last}-{pick(locale.male_last_names)}"
        else:
            core = last
        name = f"{core} {pick(locale.company_suffixes)}"
        domain = self.domain(core, country.tld)
        account_id = new_id(self.rng)
        phone = f"{country.phone_prefix} {int(random_() * 9e7) + 10_000_000}"
        created = pick(self.times.created)
        row = (account_id, name, f"https://www.{domain}", phone, pick(locale.cities))
        self.loader.add("accounts", (*row, country.name, created))
        folded = fold(name)
        self.loader.searchable("account", account_id, name, folded)
        self.loader.counts.accounts += 1
        used: set[str] = set()
        members = [
            self.contact(
                locale if random_() < 0.85 else pick(self.locale_table),
                country,
                account_id,
                name,
                domain,
                used,
            )
            for _ in range(size)
        ]
        self.opportunities(locale, account_id, name, folded, members)
        cases = self.cases(locale, account_id, members)
        if members:
            self.emails(locale, account_id, cases, domain, members)
            self.meetings(locale, account_id, members, pick(locale.cities))
        return size

    def contact(
        self,
        locale: Locale,
        country: Country,
        account_id: str | None,
        company: str,
        domain: str,
        used: set[str],
    ) -> Party:
        """Add one contact; without ``domain`` its first address is a webmail one."""
        pick, random_ = self.pick, self.random
        female = random_() < 0.5
        first = pick(locale.female_first_names if female else locale.male_first_names)
        last = pick(locale.female_last_names if female else locale.male_last_names)
        given, family = mailbox_name(first) or "x", mailbox_name(last) or "x"
        if domain:
            shape = random_()
            if shape < 0.6:
                local = f"{given}.{family}"
            elif shape < 0.8:
                local = f"{given[0]}.{family}"
            elif shape < 0.9:
                local = f"{given}{family}"
            else:
                local = f"{given}_{family}"
            if local in used:
                local = f"{local}{len(used)}"
            used.add(local)
            email1 = f"{local}@{domain}"
            email2 = self.webmail(locale, given, family) if random_() < 0.2 else None
            email3 = None
            if random_() < 0.05 and given not in used:
                used.add(given)
                email3 = f"{given}@{domain}"
        else:
            email1, email2, email3 = self.webmail(locale, given, family), None, None
        contact_id = new_id(self.rng)
        business = (
            f"{country.phone_prefix} {int(random_() * 9e7) + 10_000_000}" if random_() < 0.7 else ""
        )
        mobile = (
            f"{country.phone_prefix} {int(random_() * 9e8) + 100_000_000}"
            if random_() < 0.5
            else ""
        )
        row = (contact_id, first, last, email1, email2, email3, pick(locale.jobs), account_id)
        self.loader.add("contacts", (*row, "", business, mobile, "", pick(self.times.created)))
        self.loader.searchable(
            "contact", contact_id, f"{first} {last}", f"{fold(first)} {fold(last)}"
        )
        self.loader.counts.contacts += 1
        return email1, f"{first} {last}", contact_id

    def webmail(self, locale: Locale, given: str, family: str) -> str:
        address = f"{given}.{family}@{self.pick(locale.webmail)}"
        if address in self.taken_webmail:
            self.serial += 1
            local, _, host = address.partition("@")
            address = f"{local}{self.serial}@{host}"
        self.taken_webmail.add(address)
        return address

    def opportunities(
        self, locale: Locale, account_id: str, name: str, folded: str, members: list[Party]
    ) -> None:
        pick, random_, times = self.pick, self.random, self.times
        for _ in range(pick((0, 1, 1, 2, 2, 3))):
            topic = pick(locale.deal_topics)
            is_open = random_() < 0.6
            if is_open:
                stage, close = pick(OPEN_STAGES), pick(times.future_dates)
            else:
                stage, close = ("Won" if random_() < 0.5 else "Lost"), pick(times.past_dates)
            record_id = new_id(self.rng)
            contact_id = pick(members)[2] if members else None
            amount = float(int(random_() * 2_500) * 100 + 1_000)
            title = deal_name(name, topic)
            row = (record_id, account_id, contact_id, title, stage, amount, close, int(is_open))
            self.loader.add("opportunities", (*row, pick(times.created)))
            self.loader.searchable("opportunity", record_id, title, deal_name(folded, fold(topic)))
            self.loader.counts.opportunities += 1

    def cases(self, locale: Locale, account_id: str, members: list[Party]) -> list[str]:
        pick, random_ = self.pick, self.random
        case_ids = []
        for _ in range(pick((0, 0, 1, 1, 2, 3))):
            record_id = new_id(self.rng)
            title = pick(locale.case_titles)
            status = pick(OPEN_CASE_STATUSES if random_() < 0.45 else CLOSED_CASE_STATUSES)
            contact_id = pick(members)[2] if members else None
            ticket = ticket_number(self.loader.counts.cases + 1)
            row = (record_id, account_id, contact_id, title, ticket, status, pick(PRIORITIES))
            self.loader.add("cases", (*row, pick(self.times.recent)))
            self.loader.searchable("case", record_id, title)
            self.loader.counts.cases += 1
            case_ids.append(record_id)
        return case_ids

    def message_id(self, domain: str) -> str:
        self.serial += 1
        return f"<{self.rng.getrandbits(48):012x}.{self.serial}@{domain}>"

    def emails(
        self, locale: Locale, account_id: str, cases: list[str], domain: str, members: list[Party]
    ) -> None:
        pick, random_, add = self.pick, self.random, self.loader.add
        rep: Party = (REP_ADDRESS, REP_NAME, None)
        for _ in range(pick((0, 1, 2, 2, 3, 4))):
            record_id, contact = new_id(self.rng), pick(members)
            incoming = random_() < 0.6
            subject = pick(locale.subjects) if incoming else f"Re: {pick(locale.subjects)}"
            at = pick(self.times.recent)
            regarding = (
                ("case", pick(cases)) if cases and random_() < 0.4 else ("account", account_id)
            )
            row = (record_id, "email", self.message_id(domain), subject, f"<p>{subject}</p>", at)
            direction = "incoming" if incoming else "outgoing"
            add("activities", (*row, None, direction, *regarding, "", "", at))
            sender, recipient = (contact, rep) if incoming else (rep, contact)
            add("activity_parties", (record_id, "from", *sender))
            add("activity_parties", (record_id, "to", *recipient))
            if len(members) > 1 and random_() < 0.3:
                other = pick(members)
                if other is not contact:
                    add("activity_parties", (record_id, "cc", *other))
            self.loader.counts.emails += 1

    def meetings(self, locale: Locale, account_id: str, members: list[Party], city: str) -> None:
        pick, random_, add = self.pick, self.random, self.loader.add
        shape = random_()
        if shape >= 0.55:
            return
        start, end = pick(self.times.upcoming if shape < 0.4 else self.times.past_meetings)
        record_id, subject = new_id(self.rng), pick(locale.meeting_subjects)
        location = "Microsoft Teams" if random_() < 0.5 else city
        row = (record_id, "meeting", self.message_id("contoso.example"), subject, "", start, end)
        add(
            "activities", (*row, None, "account", account_id, location, "", pick(self.times.recent))
        )
        add("activity_parties", (record_id, "organizer", REP_ADDRESS, REP_NAME, None))
        attendees = {pick(members) for _ in range(1 + int(random_() * 2))}
        for attendee in sorted(attendees):
            add("activity_parties", (record_id, "attendee", *attendee))
        self.loader.counts.meetings += 1
