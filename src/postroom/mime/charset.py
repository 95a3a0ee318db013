"""Bytes to text for mail: charset names as mailers write them, and a decode that never raises.

Declared charset first (widened to the superset mailers really mean), then UTF-8, then windows-1252 with replacement.
"""

from __future__ import annotations

import codecs
import re

# Names mailers use that Python does not know, or that mean a wider charset in practice (WHATWG encoding table).
_ALIASES: dict[str, str] = {
    "us-ascii": "cp1252",
    "ascii": "cp1252",
    "ansi_x3.4-1968": "cp1252",
    "iso-8859-1": "cp1252",
    "iso8859-1": "cp1252",
    "iso_8859-1": "cp1252",
    "latin1": "cp1252",
    "latin-1": "cp1252",
    "l1": "cp1252",
    "iso-8859-9": "cp1254",
    "iso-8859-11": "cp874",
    "tis-620": "cp874",
    "windows-874": "cp874",
    "gb2312": "gb18030",
    "gbk": "gb18030",
    "x-gbk": "gb18030",
    "euc-cn": "gb18030",
    "cp936": "gb18030",
    "big5": "big5hkscs",
    "x-big5": "big5hkscs",
    "shift_jis": "cp932",
    "shift-jis": "cp932",
    "sjis": "cp932",
    "x-sjis": "cp932",
    "ms_kanji": "cp932",
    "windows-31j": "cp932",
    "euc-kr": "cp949",
    "euc_kr": "cp949",
    "ks_c_5601-1987": "cp949",
    "ks_c_5601": "cp949",
    "ksc5601": "cp949",
    "windows-949": "cp949",
    "x-mac-roman": "mac_roman",
    "x-mac-cyrillic": "mac_cyrillic",
    "x-mac-greek": "mac_greek",
    "x-mac-turkish": "mac_turkish",
    "x-mac-ce": "mac_latin2",
    "unicode-1-1-utf-7": "utf-7",
}

# Stateful encodings whose mail often uses an extension of the declared set (half-width kana, JIS X 0212/0213).
_WIDER: dict[str, tuple[str, ...]] = {
    "iso2022_jp": ("iso2022_jp_ext", "iso2022_jp_2", "iso2022_jp_3"),
    "iso2022_kr": ("cp949",),
}

# Labels that say "I do not know": decode by guessing instead.
_UNKNOWN = frozenset({"", "unknown", "x-unknown", "unknown-8bit", "x-user-defined", "8bit", "default", "charset"})
# Text codecs that are not character sets a mail body can be written in.
_REFUSED = frozenset({"undefined", "unicode-escape", "raw-unicode-escape", "punycode", "idna", "mbcs", "oem"})
# Western labels whose mail is often UTF-8 in truth (the "lying charset").
_WESTERN = frozenset({"cp1252", "ascii", "iso8859-1"})

_META_CHARSET = re.compile(rb"""<meta[^>]{0,200}?charset\s*=\s*["']?\s*([A-Za-z0-9_.:-]{1,40})""", re.IGNORECASE)
_SURROGATE = re.compile("[\ud800-\udfff]")
_NON_ASCII = re.compile("[^\x00-\x7f\ufffd]")


def normalize_charset(name: str | None) -> str | None:
    """Python codec name for a charset label from a header, or None when it is unknown or not a text charset."""
    if not name:
        return None
    label = name.strip().strip("\"'").strip().lower().split("*", 1)[0]
    if label in _UNKNOWN or len(label) > 40:
        return None
    label = _ALIASES.get(label, label)
    candidates = [label, label.removeprefix("x-"), label.removesuffix("-i").removesuffix("-e")]
    candidates.append(label.replace("-", "").replace("_", ""))
    for candidate in candidates:
        try:
            info = codecs.lookup(candidate)
        except (LookupError, ValueError):
            continue
        if not getattr(info, "_is_text_encoding", True) or info.name in _REFUSED:
            return None
        return _ALIASES.get(info.name, info.name)
    return None


def sniff_html_charset(data: bytes) -> str | None:
    """The charset an HTML document names in its own <meta> tag (first 4 KB), if any."""
    match = _META_CHARSET.search(data[:4096])
    return match.group(1).decode("ascii") if match else None


def _strict(data: bytes, codec: str) -> str | None:
    try:
        return data.decode(codec)
    except Exception:  # UnicodeDecodeError, LookupError, or whatever an exotic codec raises
        return None


def _looks_like_utf8(data: bytes) -> bool:
    return not data.isascii() and _strict(data, "utf-8") is not None


def decode_text(data: bytes, charset: str | None, *, hint: str | None = None) -> str:
    """Decode mail bytes to text; never raises.

    `charset` is the declared label, `hint` a second guess (an HTML <meta> charset). Order: the declared charset
    (and its wider relatives), UTF-8, the declared charset with a few replacement characters, UTF-8 with fewer broken
    sequences than good ones, and finally windows-1252 with replacement. A western label on bytes that are valid
    UTF-8 with non-ASCII characters is taken to be lying, and UTF-8 wins.
    """
    declared = normalize_charset(charset) or normalize_charset(hint)
    if declared is None or (declared in _WESTERN and _looks_like_utf8(data)):
        declared = "utf-8"
    for codec in (declared, *_WIDER.get(declared, ()), "utf-8"):
        text = _strict(data, codec)
        if text is not None:
            return text.removeprefix("\ufeff")
    if declared not in _WESTERN and declared != "utf-8":
        text = _lenient(data, declared)
        if text is not None:
            return text.removeprefix("\ufeff")
    text = _mostly_utf8(data)
    if text is not None:
        return text.removeprefix("\ufeff")
    return data.decode("cp1252", errors="replace")


def _lenient(data: bytes, codec: str) -> str | None:
    """Decoded with replacement characters, when at most one character in twenty (or two) had to be replaced."""
    try:
        text = data.decode(codec, errors="replace")
    except Exception:  # a codec that cannot even replace
        return None
    return text if text.count("\ufffd") <= max(2, len(text) // 20) else None


def _mostly_utf8(data: bytes) -> str | None:
    """UTF-8 with a few broken sequences (more valid non-ASCII characters than broken ones), else None."""
    text = data.decode("utf-8", errors="replace")
    return text if len(_NON_ASCII.findall(text)) > text.count("\ufffd") else None


def fix_surrogates(value: str) -> str:
    """Text for a str the email package built from raw 8-bit bytes (surrogate escapes): UTF-8, else windows-1252."""
    if not _SURROGATE.search(value):
        return value
    try:
        data = value.encode("utf-8", "surrogateescape")
    except UnicodeEncodeError:
        return _SURROGATE.sub("\ufffd", value)
    return decode_text(data, None)


def clean_text(value: str) -> str:
    """Text safe for every store and JSON: no NUL characters, no lone surrogates."""
    return _SURROGATE.sub("\ufffd", value.replace("\x00", ""))
