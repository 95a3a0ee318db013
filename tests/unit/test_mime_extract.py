"""Reply extraction (spec §5.3): quoted history, forwards and signatures stripped from text and HTML bodies."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from postroom.mime.extract import extract_html, extract_text

GMAIL_INTRO = "On Mon, Jan 6, 2025 at 10:00 AM Jane Doe <jane@example.com> wrote:"
OUTLOOK_HEADERS = (
    "From: Jane Doe <jane@example.com>\n"
    "Sent: Monday, January 6, 2025 10:00 AM\n"
    "To: Bob Smith <bob@example.com>\n"
    "Subject: Meeting\n"
)
QUOTE = "> Can we meet on Thursday?\n> Anything after 1pm works.\n>\n> Jane\n"

TEXT_CASES: list[tuple[str, str, str]] = [
    ("gmail", f"Thursday works.\n\n{GMAIL_INTRO}\n\n{QUOTE}", "Thursday works."),
    (
        "gmail_wrapped_intro",
        "Thursday works.\n\nOn Mon, Jan 6, 2025 at 10:00 AM Jane Doe <\njane@example.com> wrote:\n\n" + QUOTE,
        "Thursday works.",
    ),
    (
        "gmail_wrapped_before_wrote_crlf",
        "Thursday works.\r\n\r\nOn Mon, Jan 6, 2025 at 10:00 AM Jane Doe <jane@example.com>\r\nwrote:\r\n\r\n> Hi\r\n",
        "Thursday works.",
    ),
    (
        "gmail_wrapped_before_address",
        "Thursday works.\n\nOn Mon, Jan 6, 2025 at 10:00 AM Jane Doe\n<jane@example.com> wrote:\n\n" + QUOTE,
        "Thursday works.",
    ),
    (
        "gmail_nested_history",
        f"Yes.\n\n{GMAIL_INTRO}\n> Sure?\n>\n> On Sun, Jan 5, 2025 at 9:00 AM Bob <bob@example.com> wrote:\n"
        ">> Lunch?\n",
        "Yes.",
    ),
    (
        "agentmail_docs_example",
        "Thursday at 2pm works. I'll send an invite.\nSent from my iPhone\n"
        "On Tue, Sep 22, 2026 at 9:14 AM Priya Shah <priya@acme.com> wrote:\n"
        "> Can we move the demo to Thursday?\n> Anything after 1pm works for us.\n",
        "Thursday at 2pm works. I'll send an invite.",
    ),
    ("old_gmail_dated", "Ok.\n\n2014-10-17 11:28 GMT+03:00 Bob <bob@example.com>:\n> Hello\n", "Ok."),
    ("bare_attribution", "Ok.\n\nJane Doe <jane@example.com> wrote:\n> Hello\n", "Ok."),
    ("intro_at_end", f"See you then.\n\n{GMAIL_INTRO}\n\n", "See you then."),
    (
        "outlook_original_message",
        f"Approved.\n\nBob\n\n-----Original Message-----\n{OUTLOOK_HEADERS}\nHi Bob, please approve.\n",
        "Approved.\n\nBob",
    ),
    (
        "outlook_underscore_rule",
        f"Approved.\n\n________________________________\n{OUTLOOK_HEADERS}\nHi Bob, please approve.\n",
        "Approved.",
    ),
    ("outlook_header_block", f"Approved.\n\nThanks,\nBob\n\n{OUTLOOK_HEADERS}\nHi Bob.\n", "Approved.\n\nThanks,\nBob"),
    (
        "outlook_bold_headers",
        "Approved.\n\n*From:* Jane Doe <jane@example.com>\n*Sent:* Monday, January 6, 2025 10:00 AM\n"
        "*To:* Bob <bob@example.com>\n*Subject:* Meeting\n\nHi Bob.\n",
        "Approved.",
    ),
    (
        "outlook_one_line_headers",
        "Approved.\n\nFrom: Jane Doe Sent: Monday, January 6, 2025 10:00 AM To: Bob Subject: Meeting\n\nHi Bob.",
        "Approved.",
    ),
    (
        "outlook_mobile",
        "Reply here\n\nGet Outlook for iOS<https://aka.ms/o0ukef>\n________________________________\n"
        f"{OUTLOOK_HEADERS}\nHi Bob\n",
        "Reply here",
    ),
    ("apple_mail", "Sure.\n\n> On 6 Jan 2025, at 10:00, Jane <jane@x.com> wrote:\n>\n> Hi\n", "Sure."),
    ("apple_mail_unquoted_intro", "Sure.\n\nOn 6 Jan 2025, at 10:00, Jane <jane@x.com> wrote:\n\n> Hi\n", "Sure."),
    ("thunderbird", "Sounds good.\n\nOn 1/6/25 10:00 AM, Jane Doe wrote:\n> Can we meet?\n", "Sounds good."),
    ("plain_quote_without_intro", "Agreed.\n\n> Shall we ship?\n> Friday?\n", "Agreed."),
    ("only_quotes", "> nothing new here\n", ""),
    (
        "interleaved",
        f"{GMAIL_INTRO}\n> Can you do Thursday?\n\nYes, Thursday works.\n\n> And lunch?\n\nSure.\n\n> Thanks\n> Jane\n",
        f"{GMAIL_INTRO}\n> Can you do Thursday?\n\nYes, Thursday works.\n\n> And lunch?\n\nSure.",
    ),
    (
        "interleaved_without_intro",
        "> first question\nfirst answer\n> second question\nsecond answer\n> closing\n",
        "> first question\nfirst answer\n> second question\nsecond answer",
    ),
    (
        "bottom_post",
        "Bob wrote on the list:\n> the build is red\n\nFixed in main.\n",
        "Bob wrote on the list:\n> the build is red\n\nFixed in main.",
    ),
    (
        "gmail_forward",
        "FYI, see below.\n\n---------- Forwarded message ---------\nFrom: Jane Doe <jane@example.com>\n"
        "Date: Mon, Jan 6, 2025 at 10:00 AM\nSubject: Plan\nTo: <bob@example.com>\n\nThe plan.\n",
        "FYI, see below.",
    ),
    (
        "apple_forward",
        "Look at this.\n\nBegin forwarded message:\n\nFrom: Jane Doe <jane@example.com>\nSubject: Plan\n"
        "Date: 6 January 2025 at 10:00:00 GMT\nTo: Bob <bob@example.com>\n\nThe plan.\n",
        "Look at this.",
    ),
    (
        "thunderbird_original",
        "See below.\n\n-------- Original Message --------\nSubject: Plan\nDate: Mon, 6 Jan 2025 10:00:00 +0000\n"
        "From: Jane Doe <jane@example.com>\nTo: bob@example.com\n\nThe plan.\n",
        "See below.",
    ),
    (
        "thunderbird_forward",
        "FYI\n\n-------- Forwarded Message --------\nSubject: Plan\nFrom: Jane <jane@example.com>\n\nThe plan.\n",
        "FYI",
    ),
    ("pure_forward", "---------- Forwarded message ---------\nFrom: Jane <jane@example.com>\n\nThe plan.\n", ""),
    ("french", "Oui.\n\nLe lun. 6 janv. 2025 à 10:00, Jane <jane@x.com> a écrit :\n> Salut\n", "Oui."),
    ("german", "Ja.\n\nAm 06.01.2025 um 10:00 schrieb Jane <jane@x.com>:\n> Hallo\n", "Ja."),
    ("spanish", "Sí.\n\nEl lun, 6 ene 2025 a las 10:00, Jane (<jane@x.com>) escribió:\n> Hola\n", "Sí."),
    ("dutch", "Ja.\n\nOp ma 6 jan. 2025 om 10:00 schreef Jane <jane@x.com>:\n> Hoi\n", "Ja."),
    ("italian", "Sì.\n\nIl giorno lun 6 gen 2025 alle ore 10:00 Jane <jane@x.com> ha scritto:\n> Ciao\n", "Sì."),
    ("portuguese", "Sim.\n\nEm seg., 6 de jan. de 2025 às 10:00, Jane <jane@x.com> escreveu:\n> Olá\n", "Sim."),
    ("swedish", "Ja.\n\nDen mån 6 jan. 2025 kl 10:00 skrev Jane <jane@x.com>:\n> Hej\n", "Ja."),
    (
        "german_outlook",
        "Passt.\n\nVon: Jane Doe <jane@x.com>\nGesendet: Montag, 6. Januar 2025 10:00\nAn: Bob <bob@x.com>\n"
        "Betreff: Termin\n\nHallo Bob\n",
        "Passt.",
    ),
    (
        "french_outlook",
        "D'accord.\n\nDe : Jane Doe <jane@x.com>\nEnvoyé : lundi 6 janvier 2025 10:00\nÀ : Bob <bob@x.com>\n"
        "Objet : Réunion\n\nBonjour Bob\n",
        "D'accord.",
    ),
    ("german_original_message", "Ok.\n\n-----Ursprüngliche Nachricht-----\nVon: Jane\n\nText\n", "Ok."),
    ("sig_dash", "See attached.\n\n-- \nBob Smith\nACME Corp | +1 555 0100\n", "See attached."),
    ("sig_dash_without_space", "See attached.\n--\nBob\n", "See attached."),
    ("sig_dash_then_history", f"Yes.\n-- \nBob\n\n{GMAIL_INTRO}\n{QUOTE}", "Yes."),
    ("iphone", "On my way.\n\nSent from my iPhone\n", "On my way."),
    ("ipad", "On my way.\n\nSent from my iPad", "On my way."),
    ("outlook_ios", "Done.\n\nSent from Outlook for iOS", "Done."),
    ("outlook_android", "Done.\n\nSent from Outlook for Android", "Done."),
    ("get_outlook", "Done.\n\nGet Outlook for iOS<https://aka.ms/o0ukef>\n", "Done."),
    ("mail_for_windows", "Done.\n\nSent from Mail for Windows\n", "Done."),
    ("samsung", "Done.\n\nSent from my Samsung Galaxy smartphone.\n", "Done."),
    ("german_iphone", "Erledigt.\n\nVon meinem iPhone gesendet\n", "Erledigt."),
    ("french_iphone", "Fait.\n\nEnvoyé de mon iPhone\n", "Fait."),
    ("spanish_iphone", "Hecho.\n\nEnviado desde mi iPhone\n", "Hecho."),
    ("tagline_after_quote", f"Yes.\n\n{GMAIL_INTRO}\n{QUOTE}\nSent from my iPhone\n", "Yes."),
    ("leading_and_trailing_blank_lines", "\n\n  Indented hello.\n\n\n", "  Indented hello."),
]

UNCHANGED_TEXT: list[tuple[str, str]] = [
    ("prose", "Hi team,\n\nThe deploy is done.\n\nBob"),
    ("intro_like_prose", "On the other hand, I wrote:\n\nthe code is fine and the tests pass."),
    ("intro_like_mid_line", "On the other hand, I wrote: the code is fine.\nMore text follows."),
    ("weak_intro_at_end", "Some context.\n\nOn Monday we wrote:"),
    ("tagline_not_closing", "Sent from my iPhone, so excuse typos.\nThe meeting is at 3."),
    ("tagline_phrase_mid_message", "Sent from my iPhone\n\nThe meeting is at 3."),
    ("from_line_alone", "From: the marketing team\nPlease review the launch plan."),
    ("mailing_list_footer", "Hello\n\n_______________________________________________\nlist mailing list\nlist@x.org"),
    ("separator_lookalike", "--- Original plan ---\nWe ship Friday."),
    ("markdown_rule", "Part one\n\n---\n\nPart two"),
    ("inline_quote_then_answer", "> Can we ship?\nYes, we can ship today."),
    ("long_dash_divider", "Intro\n--\n" + "\n".join(f"line {n}" for n in range(40))),
    ("empty", ""),
]


@pytest.mark.parametrize(("body", "expected"), [case[1:] for case in TEXT_CASES], ids=[c[0] for c in TEXT_CASES])
def test_extract_text(body: str, expected: str) -> None:
    assert extract_text(body) == expected
    assert extract_text(extract_text(body)) == expected


@pytest.mark.parametrize("body", [case[1] for case in UNCHANGED_TEXT], ids=[case[0] for case in UNCHANGED_TEXT])
def test_extract_text_leaves_plain_messages_alone(body: str) -> None:
    assert extract_text(body) == body


GMAIL_HTML = (
    '<div dir="ltr">Sounds good, see you Thursday.<div><br></div><div>Bob</div></div><br>'
    '<div class="gmail_quote gmail_quote_container"><div dir="ltr" class="gmail_attr">On Mon, Jan 6, 2025 at 10:00 AM'
    ' Jane Doe &lt;<a href="mailto:jane@example.com">jane@example.com</a>&gt; wrote:<br></div>'
    '<blockquote class="gmail_quote" style="margin:0px 0px 0px 0.8ex;border-left:1px solid rgb(204,204,204);'
    'padding-left:1ex"><div dir="ltr">Can we meet Thursday?</div></blockquote></div>\n'
)
OUTLOOK_BLOCK = (
    '<div style="border:none;border-top:solid #E1E1E1 1.0pt;padding:3.0pt 0in 0in 0in"><p class="MsoNormal">'
    "<b>{0}</b> Jane Doe &lt;jane@example.com&gt;<br><b>{1}</b> Monday, January 6, 2025 10:00 AM<br>"
    "<b>{2}</b> Bob &lt;bob@example.com&gt;<br><b>{3}</b> Meeting<o:p></o:p></p></div>"
)
OUTLOOK_DESKTOP = (
    '<html xmlns:o="urn:schemas-microsoft-com:office:office"><head><style>p.MsoNormal{{margin:0cm;}}</style></head>'
    '<body lang="EN-US"><div class="WordSection1"><p class="MsoNormal">{4}<o:p></o:p></p>'
    '<p class="MsoNormal"><o:p>&nbsp;</o:p></p><div>' + OUTLOOK_BLOCK + '</div><p class="MsoNormal"><o:p>&nbsp;</o:p>'
    '</p><p class="MsoNormal">Can we meet?<o:p></o:p></p></div></body></html>'
)

HTML_CASES: list[tuple[str, str, str]] = [
    ("gmail", GMAIL_HTML, '<div dir="ltr">Sounds good, see you Thursday.<div><br></div><div>Bob</div></div>'),
    (
        "gmail_signature",
        '<div dir="ltr">Hi<br clear="all"><div><br></div><span class="gmail_signature_prefix">-- </span><br>'
        '<div dir="ltr" class="gmail_signature" data-smartmail="gmail_signature">Bob Smith<br>ACME</div></div>',
        '<div dir="ltr">Hi</div>',
    ),
    (
        "gmail_forward",
        '<div dir="ltr">FYI, see below.<br><br><div class="gmail_quote"><div dir="ltr" class="gmail_attr">'
        "---------- Forwarded message ---------<br>From: <strong>Jane Doe</strong> &lt;jane@example.com&gt;<br>"
        'Date: Mon, Jan 6, 2025 at 10:00 AM<br>Subject: Plan<br></div><br><div dir="ltr">The plan.</div></div></div>',
        '<div dir="ltr">FYI, see below.</div>',
    ),
    (
        "gmail_attr_only",
        '<div>Ok</div><div class="gmail_attr">On Mon, Jan 6, 2025 Jane wrote:</div>',
        "<div>Ok</div>",
    ),
    (
        "outlook_web",
        '<html><head><style type="text/css"> P {margin-top:0;} </style></head><body dir="ltr">'
        '<div class="elementToProof">Works for me.</div><div id="appendonsend"></div>'
        '<hr style="display:inline-block;width:98%" tabindex="-1"><div id="divRplyFwdMsg" dir="ltr">'
        '<font face="Calibri, sans-serif" style="font-size:11pt"><b>From:</b> Jane Doe &lt;jane@example.com&gt;<br>'
        "<b>Sent:</b> Monday, January 6, 2025 10:00 AM<br><b>To:</b> Bob<br><b>Subject:</b> Meeting</font>"
        '<div>&nbsp;</div></div><div><div dir="ltr">Can we meet?</div></div></body></html>',
        '<div class="elementToProof">Works for me.</div>',
    ),
    (
        "outlook_reply_header_without_appendonsend",
        '<div>Works.</div><hr tabindex="-1"><div id="divRplyFwdMsg"><b>From:</b> Jane</div><div>Old</div>',
        "<div>Works.</div>",
    ),
    (
        "outlook_desktop",
        OUTLOOK_DESKTOP.format("From:", "Sent:", "To:", "Subject:", "Works for me."),
        '<div class="WordSection1"><p class="MsoNormal">Works for me.</p></div>',
    ),
    (
        "outlook_desktop_german",
        OUTLOOK_DESKTOP.format("Von:", "Gesendet:", "An:", "Betreff:", "Passt."),
        '<div class="WordSection1"><p class="MsoNormal">Passt.</p></div>',
    ),
    (
        "outlook_desktop_french",
        OUTLOOK_DESKTOP.format("De&nbsp;:", "Envoyé&nbsp;:", "À&nbsp;:", "Objet&nbsp;:", "D'accord."),
        '<div class="WordSection1"><p class="MsoNormal">D\'accord.</p></div>',
    ),
    (
        "outlook_empty_border_divider",
        '<p>Approved.</p><div style="border:none;border-top:solid #B5C4DF 1.0pt"></div>'
        "<p><b>From:</b> Jane</p><p>Old text</p>",
        "<p>Approved.</p>",
    ),
    (
        "outlook_header_without_border",
        "<p>Approved.</p><p><b>From:</b> Jane<br><b>Sent:</b> Monday<br><b>To:</b> Bob<br><b>Subject:</b> X</p>"
        "<p>Old text</p>",
        "<p>Approved.</p>",
    ),
    (
        "original_message_text",
        "<div>Fine.</div><div>-----Original Message-----<br>From: Jane<br>Sent: Monday</div><div>Old</div>",
        "<div>Fine.</div>",
    ),
    (
        "outlook_mobile",
        '<div dir="ltr">Done.</div><div id="ms-outlook-mobile-signature"><div style="direction:ltr">Get '
        '<a href="https://aka.ms/o0ukef">Outlook for iOS</a></div></div><div id="appendonsend"></div><hr>'
        '<div id="divRplyFwdMsg"><b>From:</b> Jane</div><div>Old</div>',
        '<div dir="ltr">Done.</div>',
    ),
    (
        "apple_mail_macos",
        '<html><head><meta charset="utf-8"></head><body style="overflow-wrap: break-word;">Sure thing.'
        '<br id="lineBreakAtBeginningOfMessage"><div><br><blockquote type="cite"><div>On 6 Jan 2025, at 10:00, '
        'Jane Doe &lt;jane@example.com&gt; wrote:</div><br class="Apple-interchange-newline"><div><div>Can we meet?'
        "</div></div></blockquote></div><br></body></html>",
        "Sure thing.",
    ),
    (
        "apple_mail_ios",
        '<html><body dir="auto"><div dir="ltr">Sure thing.</div><div dir="ltr"><br><div dir="ltr">Sent from my iPhone'
        '</div><div dir="ltr"><br><blockquote type="cite">On 6 Jan 2025, at 10:00, Jane Doe &lt;jane@example.com&gt; '
        'wrote:<br><br></blockquote></div></div><blockquote type="cite"><div dir="ltr">Can we meet?</div></blockquote>'
        "</body></html>",
        '<div dir="ltr">Sure thing.</div>',
    ),
    (
        "apple_forward",
        '<div dir="ltr">FYI</div><div dir="ltr"><br><blockquote type="cite">Begin forwarded message:<br><br>'
        '</blockquote></div><blockquote type="cite"><div dir="ltr"><b>From:</b> Jane</div><div>Plan</div></blockquote>',
        '<div dir="ltr">FYI</div>',
    ),
    (
        "thunderbird",
        '<html><body><p>Sounds good.</p><div class="moz-cite-prefix">On 1/6/25 10:00 AM, Jane Doe wrote:<br></div>'
        '<blockquote type="cite" cite="mid:abc@example.com"><p>Can we meet?</p></blockquote><br></body></html>',
        "<p>Sounds good.</p>",
    ),
    (
        "thunderbird_forward",
        '<p>FYI</p><div class="moz-forward-container"><br><br>-------- Forwarded Message --------'
        '<table class="moz-email-headers-table"><tr><th>Subject:</th><td>Plan</td></tr></table><p>Plan</p></div>',
        "<p>FYI</p>",
    ),
    (
        "thunderbird_interleaved",
        '<div class="moz-cite-prefix">On 1/6/25 10:00 AM, Jane Doe wrote:<br></div><blockquote type="cite"><p>Thursday?'
        '</p></blockquote><p>Yes.</p><blockquote type="cite"><p>Lunch?</p></blockquote><p>Sure.</p>'
        '<blockquote type="cite"><p>Thanks, Jane</p></blockquote>',
        '<div class="moz-cite-prefix">On 1/6/25 10:00 AM, Jane Doe wrote:<br></div><blockquote type="cite"><p>Thursday?'
        '</p></blockquote><p>Yes.</p><blockquote type="cite"><p>Lunch?</p></blockquote><p>Sure.</p>',
    ),
    (
        "bare_blockquote_after_intro_text",
        "<div>Agreed.<br>On Mon, Jan 6, 2025 at 10:00 AM Jane &lt;jane@x.com&gt; wrote:<br></div><blockquote>q"
        "</blockquote>",
        "<div>Agreed.</div>",
    ),
    (
        "yahoo",
        '<div>Thanks!</div><div class="yahoo_quoted"><div>On Monday, Jane wrote:</div><div>Old</div></div>',
        "<div>Thanks!</div>",
    ),
    ("mobile_tagline_only", "<div>Ok.</div><div><br></div><div>Sent from my iPhone</div>", "<div>Ok.</div>"),
    ("pure_forward", '<div class="gmail_quote">---------- Forwarded message ---------<br>body</div>', ""),
]

UNCHANGED_HTML: list[tuple[str, str]] = [
    ("plain", '<div dir="ltr"><p>Hello <b>team</b>,</p><p>The deploy is done.</p></div>'),
    ("document", "<html><head><title>x</title></head><body><p>Hi</p></body></html>"),
    ("bare_blockquote", "<p>As the poet said:</p><blockquote>Less is more.</blockquote>"),
    ("cite_with_answer_after", '<p>You asked:</p><blockquote type="cite">Ship?</blockquote><p>Yes, today.</p>'),
    ("border_top_without_header", '<p>Hi</p><div style="border-top:1px solid #ccc"></div><p>Footer</p>'),
    ("from_in_prose", "<p>From: the marketing team, with love.</p><p>Enjoy.</p>"),
    ("tagline_not_closing", "<div>Sent from my iPhone</div><div>The meeting is at 3.</div>"),
    ("empty", ""),
    ("text_only", "just some text"),
]


@pytest.mark.parametrize(("html", "expected"), [case[1:] for case in HTML_CASES], ids=[c[0] for c in HTML_CASES])
def test_extract_html(html: str, expected: str) -> None:
    assert extract_html(html) == expected


@pytest.mark.parametrize("html", [case[1] for case in UNCHANGED_HTML], ids=[case[0] for case in UNCHANGED_HTML])
def test_extract_html_leaves_unquoted_html_alone(html: str) -> None:
    assert extract_html(html) == html


def test_large_hostile_bodies_are_handled() -> None:
    """Shapes that once cost quadratic time; a regression shows up as a very slow test (no timed assertion)."""
    text = "".join(
        f"On {n} Jane wrote:\n> q{n}\nanswer {n}\n--\nFrom: x Sent: " + "Sent: y " * 50 + "\n" for n in range(2000)
    )
    html = "<p>x</p>" * 5000 + '<div class="gmail_quote">q</div>' * 5000 + "<div><p>From: a</p>" * 1000
    assert extract_text(text).endswith("answer 1999")
    assert extract_html(html) == "<p>x</p>" * 5000 + "<div><p>From: a</p>" * 1000 + "</div>" * 1000


HTML_TOKENS = st.sampled_from(
    [
        "<div>",
        "</div>",
        "<p>",
        "</p>",
        "<br>",
        "<hr>",
        '<blockquote type="cite">',
        "<blockquote>",
        "</blockquote>",
        '<div class="gmail_quote">',
        '<div class="moz-cite-prefix">',
        '<div id="divRplyFwdMsg">',
        '<div id="appendonsend">',
        '<div style="border-top:solid 1pt">',
        '<div class="gmail_signature">',
        "<b>From:</b> x",
        "Sent: y",
        "To: z",
        "-----Original Message-----",
        "Sent from my iPhone",
        "On Mon, Jan 6, 2025 Jane <j@x> wrote:",
        "&nbsp;",
        "<img src=x>",
        "<!-- c -->",
    ]
)
TEXT_LINES = st.sampled_from(
    [
        *("", "> q", ">> qq", "On 1/6/25 Jane wrote:", "On Mon, Jan 6", "wrote:", "-- ", "From: a", "Sent: b"),
        *("To: c", "________________", "-----Original Message-----", "Begin forwarded message:", "hi"),
        "Sent from my iPhone",
    ]
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(st.text(), st.lists(TEXT_LINES | st.text(max_size=20), max_size=30).map("\n".join)))
def test_extract_text_never_raises(text: str) -> None:
    result = extract_text(text)
    assert isinstance(result, str)
    assert result == result.rstrip()


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(st.text(), st.lists(HTML_TOKENS | st.text(max_size=10), max_size=30).map("".join)))
def test_extract_html_never_raises(html: str) -> None:
    assert isinstance(extract_html(html), str)
