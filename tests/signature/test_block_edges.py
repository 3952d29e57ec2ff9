"""Where the signature block starts and ends: disclaimers, separators, sentences, extensions.

Each case is one a reader got wrong on real mail: a disclaimer counted as the sender's
signature, a pasted article under a "--", a phone number that ends the message's sentence, an
internal extension under a first-name sign-off, an American "LLP" read as British.
"""

from __future__ import annotations

from addin.signature import read_signature

DISCLAIMER = (
    "This e-mail message may contain legally privileged and/or confidential\n"
    "information. If you are not the intended recipient(s), you are hereby\n"
    "notified that any dissemination, distribution or copying of this e-mail\n"
    "message is strictly prohibited."
)


def _picked(body: str, lines: tuple[int, ...] | None) -> list[str]:
    text_lines = body.split("\n")
    return [text_lines[i] for i in lines or ()]


def test_a_disclaimer_is_not_part_of_the_signature() -> None:
    body = (
        "The draft is attached.\n\nSteve Howard\nMilbank LLP\n(212) 530-5000\n\n"
        + DISCLAIMER
        + "\n"
    )
    result = read_signature(body, from_name="Steve Howard", from_address="showard@milbank.com")
    assert _picked(body, result.signature_lines) == [
        "Steve Howard",
        "Milbank LLP",
        "(212) 530-5000",
    ]
    assert result.signature is not None and "privileged" not in result.signature


def test_a_disclaimer_alone_is_no_signature() -> None:
    body = "See the minutes below.\n\n" + "_" * 40 + "\n" + DISCLAIMER + "\n"
    result = read_signature(body, from_name="Steve Howard", from_address="showard@milbank.com")
    assert result.signature is None
    assert result.signature_lines is None or result.signature_lines == ()


def test_a_disclaimer_right_under_the_card_leaves_the_card() -> None:
    body = (
        "My best wishes for the new year.\n\nLuis Rivera\nDirector General\nENDESA\n"
        "Tel.: +34915668615\n" + "_" * 60 + "\n"
        "This message is for the named person's use only.  It may contain\n"
        "confidential, proprietary or legally privileged information. If you receive\n"
        "this message in error, please delete it.\n"
    )
    result = read_signature(body, from_name="Rivera Novo, Luis", from_address="l@endesa.es")
    assert _picked(body, result.signature_lines) == [
        "Luis Rivera",
        "Director General",
        "ENDESA",
        "Tel.: +34915668615",
    ]
    assert [p.e164 for p in result.phones] == ["+34915668615"]


def test_a_mobile_footer_stays_with_the_signature() -> None:
    body = "Fine by me.\n\nAnn Lee\nAcme Ltd\n+44 20 7946 0958\n\nSent from my iPhone\n"
    result = read_signature(body, from_name="Ann Lee", from_address="ann@acme.co.uk")
    assert _picked(body, result.signature_lines)[-1] == "Sent from my iPhone"


def test_prose_under_a_double_dash_is_not_a_signature() -> None:
    body = (
        "Interesting piece from today's paper.\n\n"
        "-- \n"
        "E-mail Lynda Gledhill at lgledhill@sfchronicle.com.\n"
        "These charts show what the state spent for electricity on the spot market and\n"
        "the average price paid. For the time frame of Jan. 17 through Feb. 14, only\n"
        "periodic totals and averages were given by the state's water department.\n"
    )
    result = read_signature(body, from_name="Jeff Dasovich", from_address="jeff@enron.com")
    assert result.signature is None


def test_a_tagline_under_a_double_dash_is_still_a_signature() -> None:
    body = (
        "See you Monday.\n\n-- \nAnn Lee | Acme Ltd | +44 20 7946 0958\n"
        "The best way to predict the future is to invent it.\n"
    )
    result = read_signature(body, from_name="Ann Lee", from_address="ann@acme.co.uk")
    assert _picked(body, result.signature_lines)[0] == "-- "


def test_a_number_that_ends_the_sentence_is_not_a_signature() -> None:
    body = (
        "The survey covers over 700 energy decision-makers in the U.S. and Canada.\n\n"
        'For further information about "Energy Pricing and Load Management," please\n'
        "call Bill LeBlanc at 720-548-5476 or Tia Hensler, market research director, at\n"
        "720-548-5614.\n\n"
        "SOURCE  E SOURCE\n\n"
        "CONTACT:  Bill LeBlanc, 720-548-5476, or Tia Hensler, market research\n"
        "director, 720-548-5614, both for E SOURCE\n"
        "Web site:  http://www.esource.com\n"
    )
    result = read_signature(body, from_name="Karen Denne", from_address="karen@enron.com")
    assert result.signature is None
    assert result.phones == ()


def test_an_internal_extension_goes_with_the_sign_off() -> None:
    body = "I need the term and the strike price.\n\nThanks,\nEric\nx3-0977\n"
    result = read_signature(body, from_name="Eric Bass", from_address="eric.bass@enron.com")
    lines = body.split("\n")
    assert [lines[i] for i in result.signoff_lines] == ["Thanks,", "Eric", "x3-0977"]
    assert result.phones == ()


def test_a_dialable_number_under_the_sign_off_is_a_card() -> None:
    body = "I need the term.\n\nThanks,\nEric\n713-853-0977\n"
    result = read_signature(body, from_name="Eric Bass", from_address="eric.bass@enron.com")
    lines = body.split("\n")
    assert "713-853-0977" not in [lines[i] for i in result.signoff_lines]
    assert [p.e164 for p in result.phones] == ["+17138530977"]


def test_an_american_llp_keeps_its_american_numbers() -> None:
    # "LLP" points to Britain, where this number is not valid; the next clue (the fallback,
    # the United States) is where it is.
    body = (
        "Attached is the complaint.\n\nChris Healey\nLuce, Forward, Hamilton & Scripps LLP\n"
        "600 West Broadway, San Diego, CA 92101-3391\n(619) 236-1414\n"
    )
    result = read_signature(body, from_name="Healey, Chris", from_address="chealey@luce.com")
    assert [p.e164 for p in result.phones] == ["+16192361414"]
    assert result.company == "Luce, Forward, Hamilton & Scripps LLP"


def test_a_british_llp_keeps_its_british_numbers() -> None:
    body = "Noted.\n\nAnn Lee\nHarwick & Co LLP\nT: 020 7946 0958\n"
    result = read_signature(body, from_name="Ann Lee", from_address="ann@harwick.com")
    assert [p.e164 for p in result.phones] == ["+442079460958"]


def test_a_webmail_advert_is_a_client_footer() -> None:
    body = (
        "Here is today's report.\n\n"
        "_________________________________________________________________\n"
        "Get your FREE download of MSN Explorer at http://explorer.msn.com/intl.asp\n"
    )
    result = read_signature(body, from_name="Brad Galante", from_address="strat@hotmail.com")
    assert _picked(body, result.signature_lines) == body.split("\n")[2:4]
    assert result.website is None  # the advert's link is not the sender's website


def test_a_card_whose_phones_come_after_its_address() -> None:
    body = (
        "Bernard,\n\nMy coordinates:\n\n"
        "Vincent Kaminski\nManaging Director - Research\nEnron Corp.\n1400 Smith Street\n"
        "Room EB1962\nHouston, TX 77002-7361\n\nPhone: (713) 853 3848\n"
        "Fax  :  (713) 646 2503\n\n"
        "Yes, we are going into a very interesting summer both here and in the UK.\n\nVince\n"
    )
    result = read_signature(
        body, from_name="Vince J Kaminski", from_address="vince.kaminski@enron.com"
    )
    assert _picked(body, result.signature_lines)[:2] == [
        "Vincent Kaminski",
        "Managing Director - Research",
    ]
    assert [(p.kind, p.e164) for p in result.phones] == [
        ("work", "+17138533848"),
        ("fax", "+17136462503"),
    ]


def test_a_quoted_message_with_nothing_written_above_is_read_as_a_forward() -> None:
    body = "\n".join(
        [
            "> -----Original Message-----",
            "> From: Granville, Sue [mailto:sue.granville@gpc.example]",
            "> Sent: Thursday, November 23, 2000 9:00 AM",
            "> To: Jacob, Sasha",
            "> Subject: Project Stanley",
            ">",
            "> Report for November 23, 2000",
            ">",
            "> Sue Granville",
            "> Project Coordinator",
            "> GPC Canada",
            "> T:(613) 238-2747 ex239",
            "> F:(613) 613-1223",
            ">",
        ]
    )
    result = read_signature(body, from_name="Jacob, Sasha", from_address="sjacob@gpc.example")
    assert result.signature_lines == (8, 9, 10, 11, 12)
    assert result.signature is not None and result.signature.startswith("Sue Granville\n")
    assert (result.first_name, result.last_name) == ("Sue", "Granville")
    assert result.email == "sue.granville@gpc.example"
    assert [(p.kind, p.e164) for p in result.phones] == [
        ("work", "+16132382747"),
        ("fax", "+16136131223"),
    ]


def test_a_reply_above_a_quote_keeps_the_senders_own_message() -> None:
    body = "Agreed, go ahead.\n\nSasha\n\n> Sue Granville\n> Project Coordinator\n"
    result = read_signature(body, from_name="Jacob, Sasha", from_address="sjacob@gpc.example")
    assert result.email == "sjacob@gpc.example"
    assert result.job_title is None


def test_a_bare_thanks_is_no_signature() -> None:
    body = "This was completed in case I did not send you an email.\n\nThanks\n"
    result = read_signature(body, from_name="Warren, Davette", from_address="dw@enron.com")
    assert result.signature is None
    assert (result.first_name, result.last_name) == ("Davette", "Warren")


def test_thanks_with_a_name_is_still_a_sign_off() -> None:
    body = "Done.\n\nThanks,\nDavette\n"
    result = read_signature(body, from_name="Warren, Davette", from_address="dw@enron.com")
    assert result.signature == "Thanks,\nDavette"


def test_a_postscript_is_not_part_of_the_signature() -> None:
    body = (
        "Hope this finds you and Dick doing well.\n"
        "Love, Aunt Mary Lou\nP.S. Uncle Bob sends his love.\nP.P.S. Come see us anytime!\n"
    )
    result = read_signature(body, from_name="Mary Lou", from_address="robary@cs.example")
    assert result.signature == "Love, Aunt Mary Lou"


def test_numbers_a_sentence_introduces_are_the_message() -> None:
    body = (
        "I am taking the balance of my vacation on Thursday and Friday.\n"
        "If you need to reach me, contact me at the following numbers...\n"
        "December 20+21\t281-358-8576\nDecember 22-26\t\t972-418-0683\nCell\t\t\t713-412-8730\n"
    )
    result = read_signature(body, from_name="Goodell, Scott", from_address="sg@enron.com")
    assert result.signature is None
    assert result.phones == ()


def test_a_department_after_the_title_stays_in_the_title() -> None:
    body = "See attached.\n\nTheresa Staab\nSpecialist, Gas Settlements\nEnron Net Works LLC\n"
    result = read_signature(body, from_name="Staab, Theresa", from_address="ts@enron.com")
    assert result.job_title == "Specialist, Gas Settlements"
    assert result.company == "Enron Net Works LLC"
    body = "Noted.\n\nAnn Lee\nManaging Director - Research\nAcme Corp.\n"
    result = read_signature(body, from_name="Ann Lee", from_address="ann@acme.example")
    assert (result.job_title, result.company) == ("Managing Director - Research", "Acme Corp.")


def test_a_company_after_the_title_is_still_the_company() -> None:
    body = "Noted.\n\nAnn Lee\nSales Manager, Harwick Engineering\n+44 20 7946 0958\n"
    result = read_signature(body, from_name="Ann Lee", from_address="ann@harwick.example")
    assert (result.job_title, result.company) == ("Sales Manager", "Harwick Engineering")


def test_a_company_called_ps_is_not_a_postscript() -> None:
    body = "Noted.\n\nAnn Lee\nPS Logistics Ltd\n+44 20 7946 0958\n"
    result = read_signature(body, from_name="Ann Lee", from_address="ann@ps-logistics.example")
    assert result.company == "PS Logistics Ltd"
