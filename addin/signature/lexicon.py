"""The multilingual word lists the signature reader recognises, compiled once.

Languages: English, Italian, Danish, Polish, German, French, Spanish and Dutch.

Each list is plain data (tuples) and each pattern is compiled at import, so the reader's hot path
never builds a regex. Patterns match against one line of text, already stripped of surrounding
whitespace unless said otherwise.
"""

from __future__ import annotations

import re

_I = re.IGNORECASE


def _alternation(words: tuple[str, ...]) -> str:
    """Join words longest first so that "best regards" wins over "best"."""
    return "|".join(
        sorted((re.escape(w).replace(r"\ ", r"\s+") for w in words), key=len, reverse=True)
    )


# --- Valedictions (sign-offs). A line that is one of these, optionally followed by a comma, a
# dash, "!" or a short name ("Thanks, Bob"), opens the signature.
VALEDICTIONS: tuple[str, ...] = (
    # English
    "thanks",
    "thank you",
    "thanks again",
    "thanks in advance",
    "thanks and regards",
    "thanks & regards",
    "thx",
    "tks",
    "many thanks",
    "cheers",
    "regards",
    "best regards",
    "kind regards",
    "warm regards",
    "warmest regards",
    "best wishes",
    "all the best",
    "best",
    "sincerely",
    "yours sincerely",
    "sincerely yours",
    "yours truly",
    "yours faithfully",
    "respectfully",
    "cordially",
    "take care",
    "talk soon",
    "your pal",
    "love",
    "with thanks",
    "many thanks again",
    "rgds",
    "br",
    "kr",
    "greetings",
    "with best regards",
    "with kind regards",
    "have a nice day",
    "have a great day",
    "have a good weekend",
    "speak soon",
    # Italian
    "cordiali saluti",
    "distinti saluti",
    "saluti",
    "un saluto",
    "un cordiale saluto",
    "grazie",
    "grazie mille",
    "grazie e saluti",
    "a presto",
    "buona giornata",
    "cari saluti",
    "saluti cordiali",
    "i migliori saluti",
    "con i migliori saluti",
    "resto a disposizione",
    "rimango a disposizione",
    "in attesa di un vostro riscontro",
    "cordialmente",
    # Danish
    "med venlig hilsen",
    "venlig hilsen",
    "mvh",
    "vh",
    "de bedste hilsner",
    "bedste hilsner",
    "med venlige hilsner",
    "venlige hilsner",
    "hilsen",
    "tak",
    "mange tak",
    "på forhånd tak",
    "god dag",
    "god weekend",
    "kh",
    "kærlig hilsen",
    # Polish
    "pozdrawiam",
    "z poważaniem",
    "z wyrazami szacunku",
    "serdecznie pozdrawiam",
    "pozdrawiam serdecznie",
    "pozdrawiam ciepło",
    "z pozdrowieniami",
    "łączę pozdrowienia",
    "dziękuję",
    "dziękuję bardzo",
    "dzięki",
    "z góry dziękuję",
    "miłego dnia",
    "pozdr",
    # German
    "mit freundlichen grüßen",
    "mit freundlichen grüssen",
    "mit freundlichem gruß",
    "mit freundlichem gruss",
    "freundliche grüße",
    "freundliche grüsse",
    "beste grüße",
    "beste grüsse",
    "viele grüße",
    "viele grüsse",
    "liebe grüße",
    "liebe grüsse",
    "grüße",
    "grüsse",
    "gruß",
    "gruss",
    "herzliche grüße",
    "herzliche grüsse",
    "mfg",
    "lg",
    "vg",
    "danke",
    "vielen dank",
    "besten dank",
    "schöne grüße",
    "schöne grüsse",
    "bis bald",
    "mit besten grüßen",
    "mit besten grüssen",
    "schönen tag noch",
    # French
    "cordialement",
    "bien cordialement",
    "très cordialement",
    "bien à vous",
    "bien à toi",
    "salutations",
    "meilleures salutations",
    "sincères salutations",
    "bonne journée",
    "merci",
    "merci beaucoup",
    "merci d'avance",
    "merci par avance",
    "à bientôt",
    "amicalement",
    "bien amicalement",
    "veuillez agréer mes salutations distinguées",
    "salutations distinguées",
    "belle journée",
    "excellente journée",
    "bonne fin de journée",
    # Spanish
    "saludos",
    "un saludo",
    "saludos cordiales",
    "atentamente",
    "un cordial saludo",
    "cordialmente",
    "muchas gracias",
    "gracias",
    "un abrazo",
    "saludos y gracias",
    "quedo a la espera",
    "quedo atento",
    "quedo atenta",
    "reciba un cordial saludo",
    "muy atentamente",
    "gracias de antemano",
    # Dutch
    "met vriendelijke groet",
    "met vriendelijke groeten",
    "vriendelijke groet",
    "vriendelijke groeten",
    "groeten",
    "groet",
    "hartelijke groet",
    "hartelijke groeten",
    "mvg",
    "bedankt",
    "dank je wel",
    "dank u wel",
    "alvast bedankt",
    "met hartelijke groet",
    "hoogachtend",
    "fijne dag",
    "tot snel",
    "gr",
)

# Valediction alone on its line: "Best regards," / "Mit freundlichen Grüßen" / "Thanks!".
VALEDICTION_LINE = re.compile(
    r"^[-\s]*(?:" + _alternation(VALEDICTIONS) + r")(?:\s+(?:again|so much|a lot|a lot!|all|"
    r"a todos|à tous|a tutti|allemaal|alle|wszystkim|ud|jer|euch|dir|you all))?"
    r"\s*[,.!:;\-\u2013]*\s*$",
    _I,
)
# Valediction followed by a short name on the same line: "Thanks, BT" / "Your pal, Craig."
VALEDICTION_WITH_NAME = re.compile(
    r"^[-\s]*(?:" + _alternation(VALEDICTIONS) + r")\s*[,.!:;\-\u2013]+\s*"
    r"(?P<name>[^\W\d_][\w.'\-]*(?:\s+[^\W\d_][\w.'\-]*){0,3})\s*[.!]?\s*$",
    _I,
)

# --- Reply and forward headers, per client style.
# Outlook / Exchange / Lotus divider lines: "-----Original Message-----" and their translations.
ORIGINAL_MESSAGE_DIVIDER = re.compile(
    r"^\s*[-_=*]{2,}\s*(?:original message|original|forwarded message|forwarded by|"
    r"begin forwarded message|ursprüngliche nachricht|original-nachricht|originalnachricht|"
    r"weitergeleitete nachricht|message d'origine|message d\u2019origine|message original|"
    r"message transféré|mensaje original|mensaje reenviado|messaggio originale|"
    r"messaggio inoltrato|oorspronkelijk bericht|origineel bericht|doorgestuurd bericht|"
    r"oprindelig meddelelse|original meddelelse|videresendt meddelelse|videresendt besked|"
    r"wiadomość oryginalna|oryginalna wiadomość|oryginalna wiadomosc|wiadomość przekazana dalej|"
    r"przekazana wiadomość|przesłana wiadomość|reply message|reply separator)",
    _I,
)
# Apple Mail: "Begin forwarded message:" and its translations, on its own line.
FORWARD_INTRO = re.compile(
    r"^\s*(?:begin forwarded message|anfang der weitergeleiteten nachricht|"
    r"début du message réenvoyé|début du message transféré|inicio del mensaje reenviado|"
    r"comienzo del mensaje reenviado|inizio messaggio inoltrato|begin doorgestuurd bericht|"
    r"start på videresendt besked|początek przekazywanej wiadomości)\s*:?\s*$",
    _I,
)
# The first line of a header block ("From: ...") in the eight languages.
HEADER_FROM = re.compile(
    r"^\s*\*?(?:from|von|de|da|van|fra|od|afzender|mittente|remitente|expéditeur|nadawca|"
    r"envoyé par)\s*\*?\s*:\s*\*?\s*\S",
    _I,
)
# Any other header line in the block: date, to, cc, subject.
HEADER_FIELD = re.compile(
    r"^\s*\*?(?:sent|date|to|cc|bcc|subject|gesendet|datum|an|betreff|envoyé|à|objet|sujet|"
    r"enviado|fecha|para|asunto|inviato|data|a|oggetto|verzonden|aan|onderwerp|sendt|til|"
    r"emne|wysłano|wysłane|do|temat|dw|kopia|kopie|copie|cc\.|c\.c\.|ccn|cco)\s*\*?\s*:",
    _I,
)
# Gmail-style attribution line: "On Tue, 3 May 2022 at 10:01, Ann <a@b.c> wrote:".
# Kept loose in the middle (dates in any format) and strict at both ends.
ATTRIBUTION_LINE = re.compile(
    r"^\s*(?:on|am|le|el|il|op|den|d\.|w dniu|dnia|em|\d{1,2}[./-])\b.{0,250}?"
    r"(?:wrote|writes|schrieb|geschrieben|a écrit|escribió|ha scritto|scrisse|schreef|"
    r"heeft geschreven|skrev|napisał\(a\)|napisała|napisał|pisze)"
    # The verb ends the line, or comes before the sender ("Am ... schrieb Ann <a@b.c>:").
    r"(?:\s*:?\s*$|\s.{1,160}:\s*$)",
    _I,
)
# "<name or address> wrote:" alone on a line, as many clients write it.
ATTRIBUTION_SHORT = re.compile(
    r"^.{1,100}?\b(?:wrote|schrieb|a écrit|escribió|ha scritto|schreef|skrev|napisał\(a\)|"
    r"napisał|napisała|pisze)\s*:\s*$",
    _I,
)
# Attachment placeholders left in plain text by clients and exports.
ATTACHMENT_LINE = re.compile(
    r"^\s*(?:-\s+\S.{0,80}\.\w{2,4}|<<.{1,120}>>(?:\s*<<.{1,120}>>)*|"
    r"\(See attached file:.*\)|\[(?:cid|image):[^\]]*\]|<<\.\.\.OLE_Obj\.\.\.>>)\s*$",
    _I,
)
# The attribution's first half when a client wraps it over two lines ("On ..., Ann" / "wrote:").
ATTRIBUTION_START = re.compile(r"^\s*(?:on|am|le|el|il|op|den|w dniu|dnia)\s+\S", _I)
ATTRIBUTION_END = re.compile(
    r"(?:wrote|schrieb|geschrieben|a écrit|escribió|ha scritto|schreef|skrev|napisał|"
    r"napisała|napisał\(a\)|pisze)\s*:\s*$",
    _I,
)
# Lotus Notes (common in older corporate mail): "Ann Lee/HOU/ECT@ECT" + date, then "To:".
NOTES_SENDER_LINE = re.compile(
    r"^\s*\S.{0,80}?(?:@\w+|/\w+)?\s+\d{1,2}/\d{1,2}/\d{2,4}\s+\d{1,2}:\d{2}\s*(?:[AP]M)?", _I
)
NOTES_TO_LINE = re.compile(r"^\s*To:\s", _I)
# Lotus Notes puts the date on its own line under the sender's name.
NOTES_DATE_LINE = re.compile(
    r"^\s*\d{1,2}/\d{1,2}/\d{2,4}\s+\d{1,2}:\d{2}(?::\d{2})?\s*(?:[AP]M)?\s*$", _I
)

# --- Mobile and client footers. They end the sender's message.
MOBILE_FOOTER = re.compile(
    r"^\s*(?:"
    r"sent (?:from|with|via|using) (?:my |the )?.{0,40}"
    r"|sent from (?:mail|outlook|yahoo|aol).{0,40}"
    r"|get outlook for (?:ios|android).*"
    r"|(?:von|gesendet von|gesendet mit) meinem .{0,40}(?:gesendet)?"
    r"|von meinem .{0,40} gesendet"
    r"|holen sie sich outlook für .{0,20}"
    r"|envoyé (?:de|depuis|à partir de) (?:mon|ma|l'|le |la )?.{0,40}"
    r"|téléchargez outlook pour .{0,20}|obtenir outlook pour .{0,20}"
    r"|enviado (?:desde|con|de) (?:mi |el )?.{0,40}"
    r"|obtener outlook para .{0,20}"
    r"|inviato (?:da|dal mio|dalla mia|con) .{0,40}"
    r"|scarica outlook per .{0,20}"
    r"|(?:verzonden|verstuurd) (?:vanaf|van|met) (?:mijn )?.{0,40}"
    r"|outlook voor (?:ios|android) downloaden"
    r"|sendt fra (?:min |mit )?.{0,40}"
    r"|hent outlook til .{0,20}"
    r"|wysłan[eo] (?:z|ze|przy użyciu) (?:mojego |mojej )?.{0,40}"
    r"|pobierz (?:aplikację )?outlook dla .{0,30}"
    r")\s*$",
    _I,
)

# Free webmail services append an advert to every message: a client footer like the above.
WEBMAIL_FOOTER = re.compile(
    r"^\s*(?:"
    r"do you yahoo!\?"
    r"|get your (?:free|private,? free) .{0,40}(?:msn|hotmail|yahoo|explorer).{0,60}"
    r"|get more from the web\.? +free msn explorer download.{0,60}"
    r"|(?:join the world's largest e-?mail service|express yourself instantly) with msn.{0,60}"
    r")\s*$",
    _I,
)

# --- Legal disclaimers: a paragraph is one when it carries a confidentiality word and a word
# about the message or its recipient. Checked on the paragraph's first few hundred characters.
DISCLAIMER_OPENER = re.compile(
    r"(?:confidential|confidentiality|privileged|intended (?:solely |only )?for|"
    r"if you (?:are not|have received)|disclaimer|vertraulich|irrtümlich|nicht der richtige|"
    r"confidentiel|destinataire|destinatario|confidencial|riservat|confidenziale|"
    r"vertrouwelijk|geadresseerde|fortrolig|modtager|poufn|adresat|"
    r"please consider the environment|bitte denken sie an die umwelt|"
    r"pensez à l'environnement|stampare questa|før du printer|przed wydrukowaniem)",
    _I,
)
DISCLAIMER_SUBJECT = re.compile(
    r"(?:e-?mail|message|transmission|attachment|nachricht|e-?mail|anhänge|courriel|message|"
    r"mensaje|correo|messaggio|posta|bericht|meddelelse|besked|wiadomość|wiadomosc|"
    r"print|drucken|imprimer|stampare|printer|wydruk|printen|imprimir)",
    _I,
)

# --- Separators that open a signature: the RFC 3676 "-- " line and decorative rules.
SIG_DASHES = re.compile(r"^--\s*$")
RULE_LINE = re.compile(r"^\s*(?:[-_=*~#+.]\s*){5,}\s*$")

# --- Academic and honorific prefixes dropped from names, and post-nominals dropped after them.
NAME_PREFIXES: frozenset[str] = frozenset(
    {
        "dr",
        "dr.",
        "prof",
        "prof.",
        "prof.dr.",
        "prof.dr",
        "dr.-ing.",
        "dr.-ing",
        "dipl.-ing.",
        "dipl.-ing",
        "dipl.-kfm.",
        "dipl.-kfm",
        "dipl.-kffr.",
        "dipl.",
        "mag.",
        "mag",
        "ing.",
        "ing",
        "ir.",
        "ir",
        "drs.",
        "drs",
        "mr.",
        "mr",
        "mrs.",
        "mrs",
        "ms.",
        "ms",
        "miss",
        "sir",
        "dott.",
        "dott",
        "dott.ssa",
        "dott.ssa.",
        "avv.",
        "avv",
        "arch.",
        "geom.",
        "rag.",
        "mgr",
        "mgr.",
        "inż.",
        "inz.",
        "hab.",
        "lic.",
        "lic",
        "licda.",
        "lcdo.",
        "sr.",
        "sra.",
        "srta.",
        "dra.",
        "dra",
        "d.",
        "dña.",
        "don",
        "doña",
        "m.",
        "mme",
        "mme.",
        "mlle",
        "me",
        "herr",
        "frau",
        "hr.",
        "fr.",
        "sig.",
        "sig.ra",
        "dhr.",
        "mevr.",
        "mw.",
        "pan",
        "pani",
        "cand.",
        "phd",
        "msc",
        "bsc",
        "mba",
        "univ.-prof.",
        "ph.d.",
        "eng.",
        "dipl.-betriebsw.",
        "dipl.-oec.",
        "m.sc.",
        "b.sc.",
        "ll.m.",
        "mr.drs.",
        "prof.dr.ir.",
        "dr.ir.",
        "mag.a",
    }
)
NAME_SUFFIXES: frozenset[str] = frozenset(
    {
        "jr",
        "jr.",
        "sr",
        "ii",
        "iii",
        "iv",
        "phd",
        "ph.d.",
        "ph.d",
        "mba",
        "cfa",
        "cpa",
        "esq",
        "esq.",
        "md",
        "m.d.",
        "msc",
        "m.sc.",
        "bsc",
        "b.sc.",
        "ll.m.",
        "llm",
        "pe",
        "p.e.",
        "dipl.-ing.",
        "mba.",
        "cissp",
        "pmp",
    }
)
# Surname particles: they stay with the last name ("Ludwig van Beethoven" -> "van Beethoven").
SURNAME_PARTICLES: frozenset[str] = frozenset(
    {
        "van",
        "von",
        "der",
        "den",
        "de",
        "del",
        "della",
        "dello",
        "dei",
        "degli",
        "di",
        "da",
        "das",
        "dos",
        "do",
        "du",
        "la",
        "le",
        "lo",
        "ten",
        "ter",
        "te",
        "zu",
        "zum",
        "zur",
        "af",
        "y",
        "i",
        "'t",
        "st.",
        "mac",
        "bin",
        "al",
        "el",
    }
)

# --- Job titles: words that make a line a job title (lower case, matched as whole words or
# word starts for compounding languages).
TITLE_WORDS = re.compile(
    r"(?:^|[\s,(/|&-])(?:"
    # English
    r"ceo|cfo|cto|coo|cio|cmo|vp|svp|evp|president|vice president|chairman|founder|co-founder|"
    r"owner|partner|managing director|director|manager|head of|head|lead|leader|chief|officer|"
    r"engineer|developer|architect|consultant|analyst|specialist|coordinator|co-ordinator|"
    r"administrator|assistant|associate|executive|representative|advisor|adviser|counsel|"
    r"attorney|lawyer|paralegal|accountant|controller|treasurer|secretary|supervisor|"
    r"trader|scheduler|geologist|economist|scientist|designer|recruiter|buyer|planner|agent|"
    r"technician|intern|principal|clerk|sales|marketing|support|operations|legal department|"
    r"account|customer|service|procurement|purchasing|logistics|project|product|senior|junior|"
    # German
    r"geschäftsführer(?:in)?|geschäftsführung|vorstand|leiter(?:in)?|leitung|abteilungsleiter|"
    r"vertrieb|vertriebs\w*|verkauf|einkauf|einkäufer(?:in)?|referent(?:in)?|sachbearbeiter(?:in)?|"
    r"berater(?:in)?|ingenieur(?:in)?|entwickler(?:in)?|prokurist(?:in)?|inhaber(?:in)?|"
    r"assistenz|assistent(?:in)?|kundenbetreuer(?:in)?|kundenservice|projektleiter(?:in)?|"
    r"teamleiter(?:in)?|key account|außendienst|innendienst|disponent(?:in)?|buchhaltung|"
    r"mitarbeiter(?:in)?|bereichsleiter(?:in)?|steuerberater(?:in)?|rechtsanwalt|rechtsanwältin|"
    # French
    r"directeur|directrice|président|présidente|gérant|gérante|responsable|chef de|chargé|"
    r"chargée|ingénieur|ingénieure|commercial|commerciale|conseiller|conseillère|assistante|"
    r"attaché|attachée|comptable|juriste|avocat|avocate|technicien|technicienne|acheteur|"
    r"acheteuse|fondateur|fondatrice|associé|associée|service client|administrateur|"
    # Spanish
    r"director|directora|gerente|jefe|jefa|responsable|coordinador|coordinadora|ingeniero|"
    r"ingeniera|asesor|asesora|consultor|consultora|comercial|administrativo|administrativa|"
    r"abogado|abogada|técnico|técnica|presidente|presidenta|fundador|fundadora|socio|socia|"
    r"atención al cliente|departamento|ventas|compras|"
    # Italian
    r"direttore|direttrice|amministratore|responsabile|ufficio|commerciale|ingegnere|"
    r"consulente|impiegato|impiegata|tecnico|avvocato|avvocata|socio|titolare|addetto|addetta|"
    r"vendite|acquisti|area manager|capo|presidente|segreteria|contabile|"
    # Dutch
    r"directeur|eigenaar|medewerker|medewerkster|adviseur|verkoper|inkoper|bedrijfsleider|"
    r"afdelingshoofd|hoofd|accountmanager|projectleider|teamleider|binnendienst|buitendienst|"
    r"klantenservice|verkoop|inkoop|commercieel|advocaat|oprichter|vennoot|"
    # Danish
    r"direktør|adm\. direktør|administrerende|chef|leder|salgschef|salgskonsulent|konsulent|"
    r"rådgiver|ingeniør|udvikler|sælger|indkøber|projektleder|afdelingsleder|kundeservice|"
    r"medarbejder|ejer|indehaver|partner|bogholder|salg|indkøb|"
    # Polish
    r"prezes|wiceprezes|dyrektor|kierownik|specjalista|specjalistka|menedżer|menadżer|"
    r"przedstawiciel|przedstawicielka|handlowy|handlowa|handlowiec|doradca|konsultant|"
    r"konsultantka|inżynier|księgowa|księgowy|asystent|asystentka|koordynator|koordynatorka|"
    r"właściciel|właścicielka|zarząd|członek zarządu|dział|sprzedaży|zakupów|obsługi klienta|"
    r"radca prawny|adwokat"
    r")(?=$|[\s,.)/|&:-])",
    _I,
)

# Compounds in German, Dutch and Danish end with the title word ("Indkøbschef", "Vertriebsleiter").
TITLE_COMPOUND = re.compile(
    r"\w{3,}(?:chef|leder|leiter|leiterin|manager|managerin|konsulent|direktør|medewerker|"
    r"adviseur|berater|beraterin|referent|referentin|ingenieur|ingeniør|assistent|assistentin|"
    r"sachbearbeiter|sachbearbeiterin|kaufmann|kauffrau|specialist|sælger|verkoper)\b",
    _I,
)

# --- Company legal forms, with the country they point to ("" when international).
LEGAL_FORMS: tuple[tuple[str, str], ...] = (
    ("GmbH & Co. KG", "DE"),
    ("GmbH & Co KG", "DE"),
    ("gGmbH", "DE"),
    ("GmbH", "DE"),
    ("UG (haftungsbeschränkt)", "DE"),
    ("e.K.", "DE"),
    ("e.V.", "DE"),
    ("KGaA", "DE"),
    ("mbH", "DE"),
    ("OHG", "DE"),
    ("GbR", "DE"),
    ("AG", "DE"),
    ("KG", "DE"),
    ("S.p.A.", "IT"),
    ("SpA", "IT"),
    ("S.r.l.", "IT"),
    ("Srl", "IT"),
    ("S.r.l.s.", "IT"),
    ("S.n.c.", "IT"),
    ("S.a.s.", "IT"),
    ("Sp. z o.o.", "PL"),
    ("sp. z o.o.", "PL"),
    ("Sp.z o.o.", "PL"),
    ("sp.j.", "PL"),
    ("Sp.j.", "PL"),
    ("Sp.k.", "PL"),
    ("Sp. j.", "PL"),
    ("S.K.A.", "PL"),
    ("sp.k.", "PL"),
    ("Sp. k.", "PL"),
    ("A/S", "DK"),
    ("ApS", "DK"),
    ("I/S", "DK"),
    ("P/S", "DK"),
    ("IVS", "DK"),
    ("B.V.", "NL"),
    ("BV", "NL"),
    ("N.V.", "NL"),
    ("NV", "NL"),
    ("V.O.F.", "NL"),
    ("VOF", "NL"),
    ("SARL", "FR"),
    ("S.A.R.L.", "FR"),
    ("SAS", "FR"),
    ("S.A.S.", "FR"),
    ("SASU", "FR"),
    ("EURL", "FR"),
    ("SCI", "FR"),
    ("SNC", "FR"),
    ("S.L.U.", "ES"),
    ("S.L.", "ES"),
    ("SL", "ES"),
    ("SLU", "ES"),
    ("S.Coop.", "ES"),
    ("S.A.", ""),
    ("SA", ""),
    ("Ltd.", "GB"),
    ("Ltd", "GB"),
    ("Limited", "GB"),
    ("PLC", "GB"),
    ("plc", "GB"),
    ("LLP", "GB"),
    ("LLC", "US"),
    ("L.L.C.", "US"),
    ("Inc.", "US"),
    ("Inc", "US"),
    ("Corp.", "US"),
    ("Corp", "US"),
    ("Corporation", "US"),
    ("Co.", ""),
    ("Company", ""),
    ("L.P.", "US"),
    ("LP", "US"),
    ("Group", ""),
    ("Gruppe", "DE"),
    ("Groupe", "FR"),
    ("Grupo", "ES"),
    ("Gruppo", "IT"),
    ("Groep", "NL"),
    ("Grupa", "PL"),
    ("Holding", ""),
)
LEGAL_FORM = re.compile(
    r"(?<![\w.])(?:"
    + "|".join(re.escape(f) for f, _ in sorted(LEGAL_FORMS, key=lambda x: -len(x[0])))
    + r")(?![\w])"
)
LEGAL_FORM_COUNTRY: dict[str, str] = dict(LEGAL_FORMS)

# Words that make a line an organisation name even without a legal form.
# A department written after a title ("Vice President, Research"; "Managing Director - Sales")
# belongs to the title, not the company.
DEPARTMENT_WORDS = re.compile(
    r"\b(?:research|sales|marketing|finance|legal|operations|engineering|settlements|"
    r"infrastructure|human resources|hr|it|support|development|procurement|purchasing|"
    r"logistics|accounting|compliance|risk|trading|treasury|tax|audit|communications|"
    r"customer service|public affairs|government affairs|administration|"
    r"vertrieb|einkauf|entwicklung|buchhaltung|personal|"
    r"ventes|achats|recherche|comptabilité|juridique|"
    r"ventas|compras|investigación|contabilidad|"
    r"vendite|acquisti|ricerca|contabilità|amministrazione|"
    r"verkoop|inkoop|onderzoek|financiën|"
    r"salg|indkøb|økonomi|forskning|"
    r"sprzedaż|zakupy|księgowość|badania)\b",
    _I,
)
ORGANISATION_WORDS = re.compile(
    r"\b(?:company|services|solutions|consulting|partners|associates|bank|energy|systems|"
    r"technologies|international|industries|enterprises|group|pipeline|foundation|university|"
    r"institute|agency|studio|law firm|office|desk|dept\.?|department|team|"
    r"gruppe|stiftung|verlag|werke|technik|universität|kanzlei|"
    r"groupe|société|cabinet|agence|université|"
    r"grupo|sociedad|servicios|soluciones|abogados|universidad|"
    r"gruppo|società|studio legale|servizi|università|"
    r"groep|diensten|advocaten|universiteit|"
    r"gruppen|rådgivning|advokatfirma|universitet|"
    r"grupa|spółka|kancelaria|usługi|uniwersytet)\b",
    _I,
)

# --- Phone labels, by kind. Matched on the text just before a number.
FAX_LABEL = re.compile(r"(?<!\w)(?:fax|telefax|facsimile|fx|téléc(?:opie)?)\b\.?", _I)
MOBILE_LABEL = re.compile(
    r"(?<!\w)(?:mobile|mobil|mob|cell|cellular|cel|handy|gsm|portable|port|móvil|movil|cellulare|"
    r"mobiel|komórka|kom|tel\.?\s*kom|wireless)\b\.?",
    _I,
)
WORK_LABEL = re.compile(
    r"(?<!\w)(?:tlf|tfno|tfn|telf|tel|tél|telefon|telephone|téléphone|teléfono|telefono|telefoon|phone|ph|direct|"
    r"direkte|dir|office|work|büro|zentrale|fixe|fijo|fisso|vast|kontor|voice|home)\b\.?",
    _I,
)
# One-letter labels ("T: ", "M. ", "F "), only when they are all the text before the number.
SHORT_LABEL = re.compile(r"^\W*(?P<letter>[tpodwmfch])\s*[:.]?\s*$", _I)
SHORT_LABEL_KIND: dict[str, str] = {
    "t": "work",
    "p": "work",
    "o": "work",
    "d": "work",
    "w": "work",
    "h": "work",
    "m": "mobile",
    "c": "mobile",
    "f": "fax",
}
# Identifiers that look like numbers but are not phones (VAT, registers, bank, postcodes).
NOT_A_PHONE = re.compile(
    r"(?<!\w)(?:vat|ust|ust-?id|ust\.?-?idnr|umsatzsteuer|steuer|st\.?-?nr|hrb|hra|amtsgericht|"
    r"registergericht|handelsregister|p\.?\s?iva|partita iva|c\.?f\.?|codice fiscale|rea|"
    r"cap\. soc|capitale sociale|cvr|se-nr|nip|regon|krs|bdo|siret|siren|rcs|tva|ape|naf|"
    r"nif|cif|n\.i\.f|btw|kvk|kvk-nummer|iban|bic|swift|konto|blz|company (?:no|number|reg)|"
    r"reg(?:istration)?\.? ?no|registered (?:in|office)|registro|rejestr|sąd|capital social|"
    r"tomo|folio|hoja|cod\.? fisc|kvk-nr|reg\.|r\.c\.s|nr\. rej)(?!\w)",
    _I,
)

# --- Country clues: names of countries (in the eight languages) and their ISO code.
COUNTRY_NAMES: dict[str, str] = {
    "germany": "DE",
    "deutschland": "DE",
    "allemagne": "DE",
    "alemania": "DE",
    "germania": "DE",
    "duitsland": "DE",
    "tyskland": "DE",
    "niemcy": "DE",
    "austria": "AT",
    "österreich": "AT",
    "autriche": "AT",
    "oostenrijk": "AT",
    "østrig": "AT",
    "switzerland": "CH",
    "schweiz": "CH",
    "suisse": "CH",
    "svizzera": "CH",
    "suiza": "CH",
    "zwitserland": "CH",
    "szwajcaria": "CH",
    "italy": "IT",
    "italia": "IT",
    "italien": "IT",
    "italie": "IT",
    "italië": "IT",
    "włochy": "IT",
    "denmark": "DK",
    "danmark": "DK",
    "dänemark": "DK",
    "danemark": "DK",
    "dinamarca": "DK",
    "danimarca": "DK",
    "denemarken": "DK",
    "dania": "DK",
    "poland": "PL",
    "polska": "PL",
    "polen": "PL",
    "pologne": "PL",
    "polonia": "PL",
    "france": "FR",
    "frankreich": "FR",
    "francia": "FR",
    "frankrijk": "FR",
    "frankrig": "FR",
    "francja": "FR",
    "spain": "ES",
    "españa": "ES",
    "espana": "ES",
    "spanien": "ES",
    "espagne": "ES",
    "spagna": "ES",
    "spanje": "ES",
    "hiszpania": "ES",
    "netherlands": "NL",
    "the netherlands": "NL",
    "nederland": "NL",
    "niederlande": "NL",
    "pays-bas": "NL",
    "países bajos": "NL",
    "paesi bassi": "NL",
    "holandia": "NL",
    "holland": "NL",
    "belgium": "BE",
    "belgië": "BE",
    "belgique": "BE",
    "belgien": "BE",
    "belgica": "BE",
    "united kingdom": "GB",
    "uk": "GB",
    "england": "GB",
    "usa": "US",
    "united states": "US",
    "sweden": "SE",
    "sverige": "SE",
    "norway": "NO",
    "norge": "NO",
}
COUNTRY_NAME = re.compile(r"(?<![\w])(?:" + _alternation(tuple(COUNTRY_NAMES)) + r")(?![\w])", _I)
# Website and email top-level domains that name a country.
TLD_COUNTRY: dict[str, str] = {
    "de": "DE",
    "at": "AT",
    "ch": "CH",
    "it": "IT",
    "dk": "DK",
    "pl": "PL",
    "fr": "FR",
    "es": "ES",
    "nl": "NL",
    "be": "BE",
    "uk": "GB",
    "se": "SE",
    "no": "NO",
    "ie": "IE",
    "pt": "PT",
    "lu": "LU",
}
# Postcode shapes that are distinctive enough to name a country ("00-950 Warszawa").
POSTCODE_COUNTRY: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"\b\d{2}-\d{3}\s+[A-ZŁŚŻŹĆ][a-ząćęłńóśźż]"), "PL"),
    (re.compile(r"\b\d{4}\s?[A-Z]{2}\s+[A-Z][a-z]"), "NL"),
    (re.compile(r"\b(?:DK-)?\d{4}\s+(?:København|Aarhus|Odense|Aalborg|Kbh)", _I), "DK"),
    (re.compile(r"\bD-\d{5}\b"), "DE"),
    (re.compile(r"\bI-\d{5}\b"), "IT"),
    (re.compile(r"\bF-\d{5}\b"), "FR"),
    (re.compile(r"\bE-\d{5}\b"), "ES"),
    (re.compile(r"\bNL-\d{4}\b"), "NL"),
    (re.compile(r"\b[A-Z]{2}\s?\d{5}(?:-\d{4})?\b"), "US"),
)
# Region of a valediction language, the weakest country clue.
VALEDICTION_COUNTRY: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"grüße|grüsse|gruß|gruss|mfg|viele|freundlich", _I), "DE"),
    (re.compile(r"saluti|cordiali|grazie|saluto", _I), "IT"),
    (re.compile(r"hilsen|mvh|venlig", _I), "DK"),
    (re.compile(r"pozdr|poważaniem|dziękuj|szacunku", _I), "PL"),
    (re.compile(r"cordialement|salutations|bien à|merci", _I), "FR"),
    (re.compile(r"saludo|atentamente|gracias", _I), "ES"),
    (re.compile(r"groet|mvg|bedankt|hoogachtend", _I), "NL"),
)

# Social and webmail hosts that are never the company's website.
NOT_A_WEBSITE_HOSTS: frozenset[str] = frozenset(
    {
        "linkedin.com",
        "twitter.com",
        "x.com",
        "facebook.com",
        "instagram.com",
        "xing.com",
        "youtube.com",
        "t.co",
        "bit.ly",
        "aka.ms",
        "goo.gl",
        "gmail.com",
        "outlook.com",
        "hotmail.com",
        "yahoo.com",
        "aol.com",
        "apple.com",
        "microsoft.com",
        "office.com",
        "google.com",
        "maps.google.com",
        "tiktok.com",
        "wa.me",
        "teams.microsoft.com",
        "auctions.yahoo.com",
        "mail.yahoo.com",
        "blackberry.com",
        "mobile.yahoo.com",
    }
)
