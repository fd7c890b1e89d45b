"""A snippet as HTML: the document's text escaped, matches in ``<mark>``.

The one place the site builds markup from document text: every piece of text goes
through ``escape`` and only the ``<mark>`` tags are ours, so a document holding HTML
shows as text.
"""

from __future__ import annotations

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

from .site import Fragment

ELLIPSIS = "\u2026"


def fragment_html(fragment: Fragment) -> SafeString:
    text, out, at = fragment.text, [], 0
    if fragment.cut_before:
        out.append(ELLIPSIS)
    for s, e in fragment.marks:
        out += [escape(text[at:s]), "<mark>", escape(text[s:e]), "</mark>"]
        at = e
    out.append(escape(text[at:]))
    if fragment.cut_after:
        out.append(ELLIPSIS)
    return mark_safe("".join(out))  # noqa: S308 - every piece of text escaped above
