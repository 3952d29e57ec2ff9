"""Word lists the seed combines into people, companies and activities, per language.

Features
--------
* Five locales: English, Italian, Danish, Polish and German, with the share of records each gets
  (`WEIGHTS`).
* Names, company suffixes, job titles and cities come from Faker's locale providers, read as
  class attributes once (calling Faker per record would be far too slow for a million contacts).
* What Faker does not have (industries, deal topics, case titles, email subjects, Italian job
  titles, English cities) is a short list here, written in the locale's language.
* Polish surnames get their feminine form (``Kowalski`` → ``Kowalska``) for women.

`locales()` builds the lists once per process, each sorted, so a seed is reproducible for a given
Faker version whatever ``PYTHONHASHSEED`` is.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from faker.providers.address.da_DK import Provider as DanishAddress
from faker.providers.address.de_DE import Provider as GermanAddress
from faker.providers.address.en_US import Provider as EnglishAddress
from faker.providers.address.it_IT import Provider as ItalianAddress
from faker.providers.address.pl_PL import Provider as PolishAddress
from faker.providers.company.da_DK import Provider as DanishCompany
from faker.providers.company.de_DE import Provider as GermanCompany
from faker.providers.company.en_US import Provider as EnglishCompany
from faker.providers.company.pl_PL import Provider as PolishCompany
from faker.providers.job.da_DK import Provider as DanishJob
from faker.providers.job.de_DE import Provider as GermanJob
from faker.providers.job.en_US import Provider as EnglishJob
from faker.providers.job.pl_PL import Provider as PolishJob
from faker.providers.person.da_DK import Provider as DanishPerson
from faker.providers.person.de_DE import Provider as GermanPerson
from faker.providers.person.en_US import Provider as EnglishPerson
from faker.providers.person.it_IT import Provider as ItalianPerson
from faker.providers.person.pl_PL import Provider as PolishPerson

#: Share of accounts (and so of contacts) per locale.
WEIGHTS: dict[str, int] = {"en": 30, "it": 20, "de": 20, "da": 15, "pl": 15}


@dataclass(frozen=True, slots=True)
class Country:
    name: str
    tld: str
    phone_prefix: str


@dataclass(frozen=True, slots=True)
class Locale:
    """Everything the seed needs to invent records in one language."""

    code: str
    countries: tuple[Country, ...]
    male_first_names: tuple[str, ...]
    female_first_names: tuple[str, ...]
    male_last_names: tuple[str, ...]
    female_last_names: tuple[str, ...]
    company_suffixes: tuple[str, ...]
    industries: tuple[str, ...]
    jobs: tuple[str, ...]
    cities: tuple[str, ...]
    webmail: tuple[str, ...]
    deal_topics: tuple[str, ...]
    case_titles: tuple[str, ...]
    subjects: tuple[str, ...]
    meeting_subjects: tuple[str, ...]


def _unique(names: object) -> tuple[str, ...]:
    # Faker mixes tuples, lists built from sets (it_IT cities: their order changes with the hash
    # seed) and weighted OrderedDicts; sorted, the pool is the same in every process.
    return tuple(sorted({str(name) for name in names}))  # type: ignore[attr-defined]


def _feminine(surname: str) -> str:
    for male, female in (("ski", "ska"), ("cki", "cka"), ("dzki", "dzka")):
        if surname.endswith(male):
            return surname[: -len(male)] + female
    return surname


def _english_cities() -> tuple[str, ...]:
    # Faker's en_US builds cities from prefixes, first names and suffixes; so do we, a fixed set.
    names = _unique(EnglishPerson.last_names)[::8]  # a spread of the alphabet
    prefixes, suffixes = EnglishAddress.city_prefixes, EnglishAddress.city_suffixes
    return tuple(
        f"{prefixes[i % len(prefixes)]} {name}{suffixes[i % len(suffixes)]}"
        if i % 3 == 0
        else f"{name}{suffixes[i % len(suffixes)]}"
        for i, name in enumerate(names)
    )


def _english() -> Locale:
    return Locale(
        code="en",
        countries=(
            Country("United Kingdom", "co.uk", "+44"),
            Country("United States", "com", "+1"),
            Country("Ireland", "ie", "+353"),
        ),
        male_first_names=_unique(EnglishPerson.first_names_male),
        female_first_names=_unique(EnglishPerson.first_names_female),
        male_last_names=_unique(EnglishPerson.last_names),
        female_last_names=_unique(EnglishPerson.last_names),
        company_suffixes=_unique(s for s in EnglishCompany.company_suffixes if s != "and Sons"),
        industries=("Construction", "Logistics", "Engineering", "Services", "Systems", "Foods"),
        jobs=_unique(EnglishJob.jobs),
        cities=_english_cities(),
        webmail=("gmail.com", "outlook.com", "yahoo.com"),
        deal_topics=("Service contract", "Fleet upgrade", "50 licences", "Support renewal"),
        case_titles=(
            "Delivery arrived damaged",
            "Invoice shows the wrong amount",
            "Cannot sign in to the portal",
            "Replacement part needed",
            "Order never arrived",
        ),
        subjects=("Question about our order", "Quote request", "Follow-up", "Invoice query"),
        meeting_subjects=("Quarterly review", "Site visit", "Renewal call", "Product demo"),
    )


def _italian() -> Locale:
    return Locale(
        code="it",
        countries=(Country("Italy", "it", "+39"),),
        male_first_names=_unique(ItalianPerson.first_names_male),
        female_first_names=_unique(ItalianPerson.first_names_female),
        male_last_names=_unique(ItalianPerson.last_names),
        female_last_names=_unique(ItalianPerson.last_names),
        company_suffixes=("S.p.A.", "S.r.l.", "e figli", "Group"),
        industries=("Costruzioni", "Trasporti", "Logistica", "Impianti", "Meccanica", "Servizi"),
        # Faker has no Italian job titles.
        jobs=(
            "Responsabile acquisti",
            "Direttore commerciale",
            "Ingegnere di progetto",
            "Impiegata amministrativa",
            "Tecnico dell'assistenza",
            "Responsabile IT",
            "Amministratore delegato",
            "Capo cantiere",
        ),
        cities=_unique(ItalianAddress.cities),
        webmail=("libero.it", "gmail.com", "virgilio.it"),
        deal_topics=(
            "Rinnovo contratto",
            "Fornitura gru",
            "Manutenzione annuale",
            "Nuovo impianto",
        ),
        case_titles=(
            "Fattura errata",
            "Consegna in ritardo",
            "Ricambio difettoso",
            "Richiesta di assistenza tecnica",
            "Accesso al portale bloccato",
        ),
        subjects=("Richiesta preventivo", "Domanda sull'ordine", "Sollecito", "Conferma consegna"),
        meeting_subjects=("Riunione trimestrale", "Visita in cantiere", "Presentazione offerta"),
    )


def _danish() -> Locale:
    return Locale(
        code="da",
        countries=(Country("Denmark", "dk", "+45"),),
        male_first_names=_unique(DanishPerson.first_names_male),
        female_first_names=_unique(DanishPerson.first_names_female),
        male_last_names=_unique(DanishPerson.last_names),
        female_last_names=_unique(DanishPerson.last_names),
        company_suffixes=_unique(DanishCompany.company_suffixes),
        industries=("Byg", "Transport", "Maskinfabrik", "Handel", "Rådgivning", "Data"),
        jobs=_unique(DanishJob.jobs),
        cities=_unique(DanishAddress.cities),
        webmail=("gmail.com", "hotmail.dk", "mail.dk"),
        deal_topics=("Serviceaftale", "Ny maskinpark", "Fornyelse af licenser", "Rammeaftale"),
        case_titles=(
            "Faktura mangler",
            "Levering forsinket",
            "Reservedel passer ikke",
            "Kan ikke logge på portalen",
            "Reklamation på vare",
        ),
        subjects=("Spørgsmål til ordre", "Tilbud ønskes", "Opfølgning", "Faktura"),
        meeting_subjects=("Kvartalsmøde", "Besøg på fabrikken", "Gennemgang af aftale"),
    )


def _polish() -> Locale:
    male_last = _unique((*PolishPerson.male_last_names, *PolishPerson.unisex_last_names))
    return Locale(
        code="pl",
        countries=(Country("Poland", "pl", "+48"),),
        male_first_names=_unique(PolishPerson.first_names_male),
        female_first_names=_unique(PolishPerson.first_names_female),
        male_last_names=male_last,
        female_last_names=_unique(_feminine(name) for name in male_last),
        company_suffixes=_unique(PolishCompany.company_suffixes),
        industries=("Budownictwo", "Transport", "Logistyka", "Handel", "Usługi", "Systemy"),
        jobs=_unique(PolishJob.jobs),
        cities=_unique(PolishAddress.cities),
        webmail=("wp.pl", "onet.pl", "gmail.com"),
        deal_topics=("Umowa serwisowa", "Dostawa wózków", "Odnowienie licencji", "Nowa linia"),
        case_titles=(
            "Błędna faktura",
            "Opóźniona dostawa",
            "Reklamacja części",
            "Brak dostępu do portalu",
            "Uszkodzony towar",
        ),
        subjects=("Pytanie o zamówienie", "Prośba o ofertę", "Przypomnienie", "Faktura"),
        meeting_subjects=("Spotkanie kwartalne", "Wizyta w zakładzie", "Prezentacja oferty"),
    )


def _german() -> Locale:
    return Locale(
        code="de",
        countries=(Country("Germany", "de", "+49"), Country("Austria", "at", "+43")),
        male_first_names=_unique(GermanPerson.first_names_male),
        female_first_names=_unique(GermanPerson.first_names_female),
        male_last_names=_unique(GermanPerson.last_names),
        female_last_names=_unique(GermanPerson.last_names),
        company_suffixes=_unique(GermanCompany.company_suffixes),
        industries=("Maschinenbau", "Logistik", "Bau", "Elektrotechnik", "Handel", "Systeme"),
        jobs=_unique(GermanJob.jobs),
        cities=_unique(GermanAddress.cities),
        webmail=("gmx.de", "web.de", "t-online.de"),
        deal_topics=(
            "Wartungsvertrag",
            "Neue Fertigungslinie",
            "Lizenzverlängerung",
            "Rahmenvertrag",
        ),
        case_titles=(
            "Rechnung fehlerhaft",
            "Lieferung verspätet",
            "Ersatzteil defekt",
            "Kein Zugang zum Portal",
            "Ware beschädigt angekommen",
        ),
        subjects=("Frage zur Bestellung", "Angebotsanfrage", "Nachfrage", "Rechnung"),
        meeting_subjects=("Quartalsgespräch", "Werksbesuch", "Vertragsbesprechung"),
    )


@cache
def locales() -> tuple[Locale, ...]:
    """Return the seed's locales in the fixed order of `WEIGHTS`."""
    built = {
        locale.code: locale for locale in (_english(), _italian(), _danish(), _polish(), _german())
    }
    return tuple(built[code] for code in WEIGHTS)
