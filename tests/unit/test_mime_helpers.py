"""The parser's building blocks: charset decoding, RFC 2047 words, RFC 2231 parameters, flowed text, addresses."""

from __future__ import annotations

import pytest

from postroom.mime.addresses import display_form, display_list, sender
from postroom.mime.charset import clean_text, decode_text, fix_surrogates, normalize_charset, sniff_html_charset
from postroom.mime.encoded_words import decode_words
from postroom.mime.flowed import unflow
from postroom.mime.headers import decode_value, message_ids
from postroom.mime.params import parse_params


@pytest.mark.parametrize(
    ("label", "codec"),
    [
        ("UTF-8", "utf-8"),
        (' "utf8" ', "utf-8"),
        ("us-ascii", "cp1252"),
        ("ISO-8859-1", "cp1252"),
        ("latin1", "cp1252"),
        ("gb2312", "gb18030"),
        ("GBK", "gb18030"),
        ("Shift_JIS", "cp932"),
        ("x-sjis", "cp932"),
        ("ks_c_5601-1987", "cp949"),
        ("euc-kr", "cp949"),
        ("big5", "big5hkscs"),
        ("iso-8859-8-i", "iso8859-8"),
        ("windows-874", "cp874"),
        ("cp-1250", "cp1250"),
        ("x-mac-cyrillic", "mac-cyrillic"),
        ("koi8-r", "koi8-r"),
        ("ISO-2022-JP", "iso2022_jp"),
        ("utf-8*en", "utf-8"),
        ("x-unknown", None),
        ("unknown-8bit", None),
        ("", None),
        (None, None),
        ("base64", None),
        ("rot13", None),
        ("idna", None),
        ("definitely-not-a-charset", None),
        ("x" * 100, None),
    ],
)
def test_normalize_charset(label: str | None, codec: str | None) -> None:
    assert normalize_charset(label) == codec


def test_decode_text_never_raises_on_any_byte() -> None:
    data = bytes(range(256)) * 4
    for label in (None, "utf-8", "us-ascii", "shift_jis", "iso-2022-jp", "utf-16", "x-unknown", "utf-7", "cp037"):
        assert isinstance(decode_text(data, label), str)


def test_decode_text_strips_a_byte_order_mark() -> None:
    assert decode_text(b"\xef\xbb\xbfhello", "utf-8") == "hello"


def test_decode_text_prefers_utf8_with_a_stray_byte_over_mojibake() -> None:
    text = "\u00fc\u00f6\u00e4 " * 20
    assert decode_text(text.encode() + b"\xff", "utf-8") == text + "\ufffd"


def test_sniff_html_charset() -> None:
    assert sniff_html_charset(b'<meta http-equiv="Content-Type" content="text/html; charset=windows-1251">') == (
        "windows-1251"
    )
    assert sniff_html_charset(b"<meta charset='utf-8'>") == "utf-8"
    assert sniff_html_charset(b"<p>no meta</p>") is None


def test_fix_surrogates_and_clean_text() -> None:
    assert fix_surrogates("caf\udcc3\udca9") == "caf\u00e9"
    assert fix_surrogates("caf\udce9") == "caf\u00e9"
    assert fix_surrogates("plain") == "plain"
    assert clean_text("a\x00b\ud800c") == "ab\ufffdc"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("=?utf-8?Q?Caf=C3=A9?=", "Caf\u00e9"),
        ("=?UTF-8?b?Q2Fmw6k=?=", "Caf\u00e9"),
        ("=?utf-8?B?Q2Fmw6k?=", "Caf\u00e9"),  # missing padding
        ("Re:=?utf-8?q?caf=C3=A9?=", "Re:caf\u00e9"),  # no space before the word
        ("=?utf-8?q?caf=C3?= =?utf-8?q?=A9?=", "caf\u00e9"),  # a character split across words
        ("=?utf-8?q?a?=\r\n =?utf-8?q?b?= c =?utf-8?q?d?=", "ab c d"),
        ("=?utf-8?q?hello world?=", "hello world"),  # illegal space inside a Q word
        ("=?x-unknown?q?caf=E9?=", "caf\u00e9"),
        ("=?utf-8*en?q?hi?=", "hi"),
        ("=?utf-8?q?abc", "=?utf-8?q?abc"),  # unterminated
        ("=?utf-8?B?!!!?=", "=?utf-8?B?!!!?="),  # not base64
        ("=?utf-8?x?abc?=", "=?utf-8?x?abc?="),  # unknown encoding
        ("=?koi8-r?B?8NLJ18XU?=", "\u041f\u0440\u0438\u0432\u0435\u0442"),
        ("=?iso-2022-jp?B?GyRCJEskWyRzJDQbKEI=?=", "\u306b\u307b\u3093\u3054"),
        ("no words at all", "no words at all"),
        ("=?utf-8?q?=?=", ""),
    ],
)
def test_decode_words(value: str, expected: str) -> None:
    assert decode_words(value) == expected


def test_decode_value_unfolds_and_collapses() -> None:
    assert decode_value("one\r\n two\r\n\tthree  \x01 four\x00") == "one two three four"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (
            "attachment; filename*0*=utf-8''r%C3%A9sum; filename*1*=%C3%A9.pdf",
            ("attachment", {"filename": "r\u00e9sum\u00e9.pdf"}),
        ),
        ("attachment; filename*=x-unknown''caf%E9.txt", ("attachment", {"filename": "caf\u00e9.txt"})),
        ('attachment; filename*0="long "; filename*1="name.txt"', ("attachment", {"filename": "long name.txt"})),
        ("Text/HTML ; Charset = utf-8", ("text/html", {"charset": "utf-8"})),
        ("inline", ("inline", {})),
        ("", ("", {})),
        (";;;", ("", {})),
    ],
)
def test_parse_params(value: str, expected: tuple[str, dict[str, str]]) -> None:
    assert parse_params(value) == expected


def test_unflow() -> None:
    text = "Hello this is a \nlong paragraph that \nwraps.\n\n> quoted line that \n> continues\n>> deeper\n"
    text += "-- \nSig\n From\n"
    assert unflow(text) == (
        "Hello this is a long paragraph that wraps.\n\n> quoted line that continues\n>> deeper\n-- \nSig\nFrom\n"
    )
    assert unflow("ab \ncd\n", delsp=True) == "abcd\n"
    assert unflow("ends flowed ") == "ends flowed "


@pytest.mark.parametrize(
    ("name", "address", "expected"),
    [
        ("", "a@x", "a@x"),
        ("Ann", "a@x", "Ann <a@x>"),
        ("Doe, John", "j@x", '"Doe, John" <j@x>'),
        ('Say "hi"', "s@x", '"Say \\"hi\\"" <s@x>'),
        ("J\u00f6rg", "j@x", "J\u00f6rg <j@x>"),
        ("a@x", "a@x", "a@x"),
    ],
)
def test_display_form(name: str, address: str, expected: str) -> None:
    assert display_form(name, address) == expected


def test_display_list_and_sender() -> None:
    assert display_list(["=?utf-8?q?Doe=2C_John?= <j@x.example>, junk, <>", "b@y.example"]) == [
        '"Doe, John" <j@x.example>',
        "b@y.example",
    ]
    assert sender(["Ann <Ann@X.Example>"]) == ("Ann <Ann@X.Example>", "ann@x.example")
    assert sender([]) == (None, None)
    assert sender(["   "]) == (None, None)


def test_message_ids() -> None:
    assert message_ids("<a@x> <b@x> <a@x>") == ["<a@x>", "<b@x>"]
    assert message_ids("<a @x>") == ["<a@x>"]
    assert message_ids("a@x, b@y") == ["<a@x>", "<b@y>"]
    assert message_ids("<> <" + "x" * 1000 + "@y>") == []
    assert message_ids("") == []
