"""Focused behaviours of the reader's steps: HTML lines, quotes, names, phones."""

from __future__ import annotations

from addin.signature import read_signature
from addin.signature.message import html_to_text
from addin.signature.names import read_sender, split_name
from addin.signature.phones import read_phones


def test_html_lines_entities_and_links() -> None:
    text = html_to_text(
        "<div>Jan&nbsp;de&nbsp;Vries</div><div>De Vries &amp; Zn B.V.</div>"
        '<div>T: <a href="tel:+31201234567"></a></div>'
        '<div><a href="mailto:jan@devries.nl">Mail</a></div>'
        '<div class="gmail_quote">Op di schreef X:<blockquote>old</blockquote></div>'
    )
    assert text.split("\n") == [
        "Jan de Vries",
        "De Vries & Zn B.V.",
        "T: +31201234567",
        "Mail jan@devries.nl",
    ]


def test_sender_shapes() -> None:
    assert (
        read_sender("García López, José", "").first,
        read_sender("García López, José", "").last,
    ) == (
        "José",
        "García López",
    )
    notes = read_sender("Kim Ward/HOU/ECT@ECT", "")
    assert (notes.first, notes.last) == ("Kim", "Ward")
    assert split_name("Prof. Dr. Ludwig van Beethoven") == ("Ludwig", "van Beethoven")


def test_block_spelling_beats_header_without_diacritics() -> None:
    body = "Ciao,\n\nva bene.\n\nCordiali saluti\nNicolò Di Marco\nTel. 02 1234 5678\n"
    result = read_signature(body, from_name="Nicolo Di Marco", from_address="n@dimarco.it")
    assert (result.first_name, result.last_name) == ("Nicolò", "Di Marco")
    assert [p.e164 for p in result.phones] == ["+390212345678"]


def test_identifiers_are_not_phones() -> None:
    phones = read_phones(
        ["USt-IdNr.: DE 123456789", "Amtsgericht München HRB 123456", "Tel.: 089 1234 5678"],
        lambda: ("DE",),
    )
    assert [(p.kind, p.e164) for p in phones] == [("work", "+498912345678")]


def test_mobile_footer_only_is_not_a_contact_card() -> None:
    result = read_signature("ok, see you then\n\nSent from my iPhone\n", from_name="Ann Lee")
    assert result.signature == "Sent from my iPhone"
    assert result.job_title is None and result.phones == ()


def test_bare_forward_reads_the_forwarded_message() -> None:
    body = "\n".join(
        [
            "",
            "-----Original Message-----",
            "From: Paul, Judy [mailto:judy.paul@ice.com]",
            "Sent: Monday, February 26, 2001 8:46 AM",
            "To: beth.cherry@enform.com",
            "Subject: RE: General Mailbox",
            "",
            "Thank you very much for your keen observation.",
            "",
            "Judy Paul",
            "Customer Service Representative",
            "Phone: (713) 555-0142",
        ]
    )
    result = read_signature(body, from_name="Cherry, Beth", from_address="beth.cherry@enform.com")
    assert (result.first_name, result.last_name) == ("Judy", "Paul")
    assert result.job_title == "Customer Service Representative"
    assert result.email == "judy.paul@ice.com"
    assert result.signature_lines == (9, 10, 11)


def test_notes_one_line_forward_header() -> None:
    body = "\n".join(
        [
            "----- Forwarded by Ann Lee/HOU/ECT on 05/31/2001 10:51 AM -----",
            "",
            "\tBrent Hendry@ENRON 05/30/2001 05:02 PM \t   To: Ann Lee/HOU/ECT@ECT  cc:  "
            "Subject: Comment",
            "",
            "Ann, below is the one comment I had.",
            "",
            "Brent Hendry",
            "Fax:      713/853-9252",
        ]
    )
    result = read_signature(body, from_name="Ann Lee", from_address="ann.lee@enron.com")
    assert (result.first_name, result.last_name) == ("Brent", "Hendry")
    assert [(p.kind, p.e164) for p in result.phones] == [("fax", "+17138539252")]


def test_phone_list_under_signoff_is_not_a_card() -> None:
    people = [f"Desk {n}:  Person {n}  713-555-01{n:02d}" for n in range(6)]
    body = "Please call them.\n\nThanks\n\nChris\n\n" + "\n".join(people)
    result = read_signature(body, from_name="Chris Meyer", from_address="chris.meyer@enron.com")
    assert result.signature_lines == (2, 4)
    assert result.phones == ()


def test_pasted_transport_headers_open_a_quote() -> None:
    body = "\n".join(
        [
            "See below.",
            "",
            "Jen",
            "Content-Transfer-Encoding: 7bit",
            "Received: from mail.example.com by mx.example.com",
            "From: someone@example.com",
            "Kim Lee",
            "Phone: 713-555-0100",
        ]
    )
    result = read_signature(body, from_name="Jen Sanders", from_address="jen@example.com")
    assert result.signature_lines == (2,)


def test_single_part_fast_path_matches_the_stdlib_parser() -> None:
    from addin.signature import message

    raw = (
        b"From: =?utf-8?q?J=C3=BCrgen_M=C3=BCller?= <j@x.de>\r\n"
        b"Subject: Hallo\r\n"
        b'Content-Type: text/plain;\r\n\tcharset="iso-8859-1"\r\n'
        b"Content-Transfer-Encoding: quoted-printable\r\n"
        b"\r\n"
        b"Gr=FC=DFe,\r\nJ=FCrgen\r\n"
    )
    fast = message._parse_single_part(raw)
    assert fast is not None
    assert fast.text == "Grüße,\r\nJürgen\r\n"
    assert (fast.from_name, fast.from_address) == ("Jürgen Müller", "j@x.de")
    assert message._parse_single_part(b"Content-Type: multipart/mixed\n\nx") is None
