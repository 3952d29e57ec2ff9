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
        "DE",
    )
    assert [(p.kind, p.e164) for p in phones] == [("work", "+498912345678")]


def test_mobile_footer_only_is_not_a_contact_card() -> None:
    result = read_signature("ok, see you then\n\nSent from my iPhone\n", from_name="Ann Lee")
    assert result.signature == "Sent from my iPhone"
    assert result.job_title is None and result.phones == ()
