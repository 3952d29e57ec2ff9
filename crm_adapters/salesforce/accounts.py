"""Accounts of contacts and a contact's related items: the SOQL of contract request 2.

Features
--------
* `account_queries`: the queries of the accounts of any number of contacts, all sent in one
  composite batch. A contact's accounts are its ``AccountContactRelation`` rows (its primary
  account, ``IsDirect``, and the further ones), reached through a semi-join; with them come the
  accounts' open opportunities (soonest close first), open cases (newest first), and emails and
  meetings saved against them that already happened (newest first), at most `ITEMS` of each
  for all the accounts together.
* `accounts_from`: the answers → `Account`s in the order of the contacts asked for, each
  contact's primary account first, each account once, ``limit`` items of each kind per account.
* `related_queries`: a contact's emails (through ``EmailMessageRelation``) sent by now, newest
  first, and its meetings (through ``EventRelation``) from now on, soonest first.
* Every literal (ids, date-times) goes through `simple_salesforce.format_soql`.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Callable, Sequence
from typing import TypeVar

from simple_salesforce.format import format_soql

from ..models import Account, ActivityKind, ActivitySummary
from . import records
from .records import ACCOUNT_FIELDS, CASE_FIELDS, OPPORTUNITY_FIELDS, RecordUrl, Row, text

T = TypeVar("T")

#: How many opportunities, cases and activities one answer holds for all the accounts together.
ITEMS = 200
#: The accounts of the contacts ``{ids}``: a semi-join on their relations.
_ACCOUNTS_OF = "(SELECT AccountId FROM AccountContactRelation WHERE ContactId IN {ids})"

#: The order of `account_queries`' answers.
LINKS, ACCOUNTS, OPPORTUNITIES, CASES, EMAILS, MEETINGS = range(6)


def account_queries(contact_ids: Sequence[str], now: dt.datetime) -> list[str]:
    """Return the SOQL of the accounts of ``contact_ids`` and their items, in answer order."""
    ids = list(dict.fromkeys(contact_ids))
    queries = (
        "SELECT AccountId, ContactId, IsDirect FROM AccountContactRelation"
        " WHERE ContactId IN {ids}",
        f"SELECT {ACCOUNT_FIELDS} FROM Account WHERE Id IN {_ACCOUNTS_OF}",
        f"SELECT {OPPORTUNITY_FIELDS} FROM Opportunity WHERE AccountId IN {_ACCOUNTS_OF}"
        f" AND IsClosed = false ORDER BY CloseDate ASC LIMIT {ITEMS}",
        f"SELECT {CASE_FIELDS} FROM Case WHERE AccountId IN {_ACCOUNTS_OF}"
        f" AND IsClosed = false ORDER BY CreatedDate DESC LIMIT {ITEMS}",
        f"SELECT Id, Subject, MessageDate, RelatedToId FROM EmailMessage"
        f" WHERE RelatedToId IN {_ACCOUNTS_OF} AND MessageDate <= {{now}}"
        f" ORDER BY MessageDate DESC LIMIT {ITEMS}",
        f"SELECT Id, Subject, StartDateTime, WhatId FROM Event"
        f" WHERE WhatId IN {_ACCOUNTS_OF} AND StartDateTime <= {{now}}"
        f" ORDER BY StartDateTime DESC LIMIT {ITEMS}",
    )
    return [format_soql(query, ids=ids, now=now) for query in queries]


def related_queries(contact_id: str, limit: int, now: dt.datetime) -> list[str]:
    """Return the SOQL of a contact's last ``limit`` emails and next ``limit`` meetings."""
    top = max(limit, 1)
    return [
        format_soql(
            "SELECT Id, Subject, MessageDate FROM EmailMessage WHERE Id IN"
            " (SELECT EmailMessageId FROM EmailMessageRelation WHERE RelationId = {id})"
            f" AND MessageDate <= {{now}} ORDER BY MessageDate DESC LIMIT {top}",
            id=contact_id,
            now=now,
        ),
        format_soql(
            "SELECT Id, Subject, StartDateTime FROM Event WHERE Id IN"
            " (SELECT EventId FROM EventRelation WHERE RelationId = {id})"
            f" AND StartDateTime >= {{now}} ORDER BY StartDateTime ASC LIMIT {top}",
            id=contact_id,
            now=now,
        ),
    ]


def accounts_from(
    answers: Sequence[Sequence[Row]], contact_ids: Sequence[str], limit: int, url: RecordUrl
) -> list[Account]:
    """Return the accounts of `account_queries`' answers, ``limit`` items of each kind."""
    order = _account_order(answers[LINKS], contact_ids)
    rows = {text(row, "Id"): row for row in answers[ACCOUNTS]}
    order += [account_id for account_id in rows if account_id not in order]
    opportunities = _grouped(answers[OPPORTUNITIES], "AccountId", records.opportunity, url)
    cases = _grouped(answers[CASES], "AccountId", records.case, url)
    done: dict[str, list[ActivitySummary]] = defaultdict(list)
    kinds: tuple[tuple[ActivityKind, int, str], ...] = (
        ("email", EMAILS, "RelatedToId"),
        ("meeting", MEETINGS, "WhatId"),
    )
    for kind, answer, field in kinds:
        for row in answers[answer]:
            item = records.activity(row, kind, url)
            if item is not None:
                done[text(row, field)].append(item)
    return [
        Account(
            id=account_id,
            name=text(account, "Name"),
            website=text(account, "Website"),
            phone=text(account, "Phone"),
            city=text(account, "BillingCity"),
            country=text(account, "BillingCountry"),
            url=url("account", account_id),
            opportunities=tuple(opportunities[account_id][:limit]),
            cases=tuple(cases[account_id][:limit]),
            activities=tuple(
                sorted(done[account_id], key=lambda item: item.when, reverse=True)[:limit]
            ),
        )
        for account_id in order
        if (account := rows.get(account_id))  # a link to an account we may not see
    ]


def _account_order(links: Sequence[Row], contact_ids: Sequence[str]) -> list[str]:
    """Return account ids by the contacts' order, each contact's primary account first."""
    position = {contact_id: n for n, contact_id in enumerate(dict.fromkeys(contact_ids))}
    ranked = sorted(
        links,
        key=lambda row: (
            position.get(text(row, "ContactId"), len(position)),
            row.get("IsDirect") is not True,
        ),
    )
    return list(dict.fromkeys(text(row, "AccountId") for row in ranked if text(row, "AccountId")))


def _grouped(
    rows: Sequence[Row], field: str, make: Callable[[Row, RecordUrl], T], url: RecordUrl
) -> dict[str, list[T]]:
    grouped: dict[str, list[T]] = defaultdict(list)
    for row in rows:
        grouped[text(row, field)].append(make(row, url))
    return grouped
