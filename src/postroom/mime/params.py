"""Content-Type / Content-Disposition values and parameters (RFC 2045, RFC 2231), bounded against quadratic parsing.

Uses the standard library's lenient compat32 parameter parser (`filename=my file.pdf` keeps its space).
"""

from __future__ import annotations

import re
from email import policy
from email.message import Message
from email.utils import unquote

from postroom.mime.charset import decode_text
from postroom.mime.headers import collapse

MAX_VALUE_LENGTH = 8192
MAX_PARAMETERS = 200
_LINE_BREAKS = re.compile(r"[\r\n]+")


def bounded(value: str) -> str:
    """A structure header value cut to MAX_VALUE_LENGTH characters and MAX_PARAMETERS ";"-separated pieces.

    The standard library's parameter splitter is quadratic in the number of pieces; real headers stay far below both
    limits (an RFC 2231 filename of 255 CJK characters takes about 2.5 KB).
    """
    value = _LINE_BREAKS.sub("", value[: MAX_VALUE_LENGTH * 2])[:MAX_VALUE_LENGTH]
    return value if value.count(";") < MAX_PARAMETERS else ";".join(value.split(";", MAX_PARAMETERS)[:MAX_PARAMETERS])


def _param_text(value: str | tuple[str | None, str | None, str]) -> str:
    if isinstance(value, tuple):
        charset, _language, text = value
        return decode_text(bytes(unquote(text), "raw-unicode-escape"), charset)
    return unquote(value)


def parse_params(value: str) -> tuple[str, dict[str, str]]:
    """The lower-cased main value ("text/plain", "attachment") and the parameters, names lower-cased.

    `value` is an unfolded header value; parameter values are RFC 2231-decoded but not RFC 2047-decoded.
    """
    value = bounded(value)
    shell: Message = Message(policy=policy.compat32)
    shell["Content-Type"] = value
    try:
        pairs = shell.get_params(header="content-type") or []
    except Exception:  # a parameter list the parser cannot take apart: keep the main value only
        return collapse(value.split(";", 1)[0]).lower(), {}
    if not pairs:
        return "", {}
    main = collapse(pairs[0][0]).lower()
    params: dict[str, str] = {}
    for name, raw in pairs[1:]:
        key = collapse(name).lower()
        if key and key not in params:
            try:
                params[key] = _param_text(raw)
            except Exception:  # an RFC 2231 value with bytes no codec takes: keep it as written
                params[key] = str(raw[2] if isinstance(raw, tuple) else raw)
    return main, params
