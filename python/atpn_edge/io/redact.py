"""Credentials out of everything the program prints or writes.

``rtsp://admin:secret@10.0.0.5/live`` becomes ``rtsp://***@10.0.0.5/live`` in messages, log lines,
the summary JSON and the JSON-lines header: user name and password both go (a user name alone can
be half of a secret). Any ``scheme://userinfo@`` in a text is replaced, so an error message from a
library that quotes the URL is cleaned as well. GStreamer pipelines carry credentials as element
properties (``rtspsrc user-id=admin user-pw=secret``): their values are masked too.
"""
from __future__ import annotations

import re

# scheme://userinfo@host: userinfo has no '/', '?', '#' or whitespace (RFC 3986), '@' ends it (the last
# '@' before the host, so a password containing '@' is removed whole).
_USERINFO = re.compile(r"(?P<scheme>\b[a-zA-Z][a-zA-Z0-9+.\-]*://)(?P<userinfo>[^/?#\s]*@)(?=[^/?#\s@]*(?:[/?#\s]|$))")
MASK = "***@"
_PROPERTY = re.compile(r"\b(?P<key>user-id|user-pw|proxy-id|proxy-pw|password|passwd)=(?P<value>\"[^\"]*\"|'[^']*'|[^\s!]+)")


def redact(text: object) -> str:
    """``text`` (a URL, a path, a pipeline, a message) with every ``user[:password]@`` of a URL and
    every credential property of a GStreamer element masked."""
    text = _USERINFO.sub(lambda m: m.group("scheme") + MASK, str(text))
    return _PROPERTY.sub(lambda m: m.group("key") + "=***", text)
