"""What a backend's seeded data guarantees, for the conformance suite and the API tests."""

from __future__ import annotations

from dataclasses import dataclass

from crm_adapters.sandbox import SeedReport


@dataclass(frozen=True)
class Known:
    """Facts about a backend's data that the suite relies on."""

    single_address: str  # held by exactly one contact, in its first email field
    single_contact_id: str
    second_field_address: str  # held by one contact, only in its second email field
    second_field_contact_id: str
    third_field_address: str  # held by one contact, only in its third email field
    third_field_contact_id: str
    shared_address: str  # held by two contacts
    shared_contact_ids: frozenset[str]
    account_contact_id: str  # a contact whose account has opportunities, cases and activities
    multi_account_contact_id: str  # a contact linked to several accounts
    related_contact_id: str  # a contact with > 10 past emails and > 10 upcoming meetings
    account_name: str  # the name of an existing account, for search
    regarding_account_id: str  # an account to save activities against


def sandbox_known(report: SeedReport) -> Known:
    return Known(
        single_address=report.single_address,
        single_contact_id=report.single_contact_id,
        second_field_address=report.second_field_address,
        second_field_contact_id=report.second_field_contact_id,
        third_field_address=report.third_field_address,
        third_field_contact_id=report.third_field_contact_id,
        shared_address=report.shared_address,
        shared_contact_ids=frozenset(report.shared_contact_ids),
        account_contact_id=report.account_contact_id,
        multi_account_contact_id=report.multi_account_contact_id,
        related_contact_id=report.related_contact_id,
        account_name=report.account_name,
        regarding_account_id=report.account_id,
    )
