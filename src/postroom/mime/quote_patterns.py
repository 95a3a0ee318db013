"""Line patterns for reply extraction: attribution ("On … wrote:") lines, separators, header blocks, mobile taglines.

Written by hand; the rules are modelled on mailgun talon's quotation markers, GitHub's email_reply_parser and
AgentMail's agentextract, in English, French, German, Spanish, Dutch, Italian, Portuguese, Swedish and Polish.
"""

from __future__ import annotations

import re

_I = re.IGNORECASE
_MAX_LINE = 1000  # longer lines are prose, never an attribution or header; also bounds regex work

_INTRO_START = r"(?:on|le|am|el|op|il|em|den|w\s+dniu)"
_INTRO_VERB = r"(?:wrote|a\s+écrit|schrieb|escribió|escribio|schreef|ha\s+scritto|escreveu|skrev|napisała?)"
# "On <date>, <who> wrote:" / "Am <date> schrieb <who>:" / "Le <date>, <who> a écrit :" — the colon ends the line.
_INTRO = re.compile(rf"^\s*{_INTRO_START}\s.{{0,300}}?(?<!\w){_INTRO_VERB}(?!\w).{{0,300}}?[ \u00a0]?:\s*$", _I)
# "Jane Doe <jane@example.com> wrote:" — no opening word, so a date digit or an address must vouch for it.
_BARE_INTRO = re.compile(rf"^\s*\S.{{0,300}}?(?<!\w){_INTRO_VERB}[ \u00a0]?:\s*$", _I)
# Old Gmail: "2014-10-17 11:28 GMT+03:00 Bob <bob@example.com>:".
_DATED_INTRO = re.compile(r"^\s*\d{4}[-/.]\d{1,2}[-/.]\d{1,2}\b.{0,120}@[^\s>]+>?\s*:\s*$")
_INTRO_OPENING = re.compile(rf"^\s*{_INTRO_START}\s", _I)

_SEPARATOR_WORDS = (
    r"(?:original\s+message|ursprüngliche\s+nachricht|original-nachricht|message\s+d['\u2019]origine"
    r"|mensaje\s+original|oorspronkelijk\s+bericht|messaggio\s+originale|mensagem\s+original"
    r"|ursprungligt\s+meddelande|oryginalna\s+wiadomość|forwarded\s+message|weitergeleitete\s+nachricht"
    r"|message\s+transféré|mensaje\s+reenviado|doorgestuurd\s+bericht|messaggio\s+inoltrato"
    r"|mensagem\s+encaminhada|vidarebefordrat\s+meddelande|wiadomość\s+przekazana\s+dalej|reply\s+message)"
)
# "-----Original Message-----", "---------- Forwarded message ---------", "-------- Original Message --------".
_SEPARATOR = re.compile(rf"^\s*[-=_*]{{2,}}\s*{_SEPARATOR_WORDS}\s*[-=_*]{{2,}}\s*$", _I)
# Apple Mail and friends: "Begin forwarded message:".
_FORWARD_INTRO = re.compile(
    r"^\s*(?:begin\s+forwarded\s+message|début\s+du\s+message\s+réexpédié|anfang\s+der\s+weitergeleiteten\s+nachricht"
    r"|inicio\s+del\s+mensaje\s+reenviado|begin\s+doorgestuurd\s+bericht|inizio\s+messaggio\s+inoltrato"
    r"|início\s+da\s+mensagem\s+(?:reencaminhada|encaminhada)|vidarebefordrat\s+brev)[ \u00a0]?:\s*$",
    _I,
)
_UNDERSCORES = re.compile(r"^\s*_{10,}\s*$")
_QUOTED = re.compile(r"^[ \t]*>")
_SIG_DASH = re.compile(r"^--[ \t]*$")


def _label(words: str) -> str:
    """A header label such as "From:", "*From:*" (bold in text), "De :" (French spacing)."""
    return rf"[*_]?(?:{words})[*_]?[ \u00a0]?:[*_]?"


_FROM = _label(r"from|von|de|van|da|från|fra|od")
_SENT = _label(r"sent|date|gesendet|datum|envoyé|enviado|fecha|verzonden|inviato|data|skickat|sendt|wysłano")
_TO = _label(r"to|an|à|a|para|aan|till|til|do|per")
_SUBJECT = _label(r"subject|betreff|objet|asunto|onderwerp|oggetto|assunto|ämne|emne|temat")
_FROM_LINE = re.compile(rf"^\s*{_FROM}(?:\s|$)", _I)
_SENT_LINE = re.compile(rf"^\s*{_SENT}(?:\s|$)", _I)
_TO_OR_SUBJECT_LINE = re.compile(rf"^\s*(?:{_TO}|{_SUBJECT})(?:\s|$)", _I)
# Outlook's header run flattened onto one line: "From: Jane Sent: Monday … To: Bob Subject: Hi".
_SENT_INSIDE = re.compile(rf"(?<!\w){_SENT}\s", _I)
_TO_OR_SUBJECT_INSIDE = re.compile(rf"(?<!\w)(?:{_TO}|{_SUBJECT})\s", _I)
_HEADER_WINDOW = 8

_MOBILE_SIGNATURE = re.compile(
    r"^\s*(?:sent\s+from\s+my\s+.{1,40}"
    r"|sent\s+from\s+(?:outlook|mail|yahoo\s+mail|aol\s+mail|gmail|proton\s*mail)(?:\s+(?:for|on)\s+.{1,30})?"
    r"|get\s+outlook\s+for\s+.{1,30}"
    r"|von\s+meinem\s+.{1,40}\s+gesendet"
    r"|envoyé\s+(?:de|depuis)\s+mon\s+.{1,40}"
    r"|enviado\s+desde\s+mi\s+.{1,40}"
    r"|enviado\s+do\s+meu\s+.{1,40}"
    r"|(?:verzonden|verstuurd)\s+(?:vanaf|met)\s+(?:mijn\s+)?.{1,40}"
    r"|inviato\s+da(?:l\s+mio)?\s+.{1,40}"
    r"|skickat\s+från\s+min\s+.{1,40}"
    r")\s*(?:<[^<>\s]+>)?\s*$",
    _I,
)


def is_blank(line: str) -> bool:
    return not line.strip()


def is_quoted(line: str) -> bool:
    return _QUOTED.match(line) is not None


def is_sig_dash(line: str) -> bool:
    return _SIG_DASH.match(line) is not None


def is_mobile_signature(line: str) -> bool:
    return len(line) <= 200 and _MOBILE_SIGNATURE.match(line) is not None


def is_separator(line: str) -> bool:
    """An "Original Message" / "Forwarded message" rule or a "Begin forwarded message:" line."""
    return len(line) <= 200 and (_SEPARATOR.match(line) is not None or _FORWARD_INTRO.match(line) is not None)


def is_underscore_rule(line: str) -> bool:
    return _UNDERSCORES.match(line) is not None


def is_intro(line: str) -> bool:
    """An attribution line that introduces quoted text, such as "On Mon, Jan 6, 2025 … Jane wrote:"."""
    if len(line) > _MAX_LINE or not line.rstrip().endswith(":"):  # every form ends in a colon: skip the regexes
        return False
    if _INTRO.match(line) or _DATED_INTRO.match(line):
        return True
    return _BARE_INTRO.match(line) is not None and any(c == "@" or c.isdigit() for c in line)


def is_strong_intro(line: str) -> bool:
    """An attribution that carries a date or an address, trustworthy even with nothing quoted after it."""
    return is_intro(line) and any(c == "@" or c.isdigit() for c in line)


def intro_end(lines: list[str], start: int) -> int | None:
    """Index of the last line of an attribution beginning at `start` (clients wrap it over up to three lines)."""
    if is_intro(lines[start]):
        return start
    if not _INTRO_OPENING.match(lines[start]) or lines[start].rstrip().endswith((".", "!", "?")):
        return None
    joined = lines[start].strip()
    for end in range(start + 1, min(start + 3, len(lines))):
        line = lines[end]
        if is_blank(line) or is_quoted(line):
            return None
        joined = f"{joined} {line.strip()}"
        if is_intro(joined):
            return end
    return None


def is_from_line(line: str) -> bool:
    """A "From:" header line in any supported language ("Von:", "De :", "*From:*", …)."""
    return len(line) <= _MAX_LINE and _FROM_LINE.match(line) is not None


def is_header_block(lines: list[str], start: int) -> bool:
    """True when a From:/Sent:/To:/Subject: block (any supported language) begins at `start`."""
    first = lines[start]
    label = _FROM_LINE.match(first) if len(first) <= _MAX_LINE else None
    if label is None:
        return False
    sent = _SENT_INSIDE.search(first, label.end())
    if sent is not None and _TO_OR_SUBJECT_INSIDE.search(first, sent.end()) is not None:
        return True
    seen_sent = seen_to = False
    for line in lines[start + 1 : start + 1 + _HEADER_WINDOW]:
        if len(line) > _MAX_LINE:
            return False
        seen_sent = seen_sent or _SENT_LINE.match(line) is not None
        seen_to = seen_to or _TO_OR_SUBJECT_LINE.match(line) is not None
        if seen_sent and seen_to:
            return True
    return False
