"""Names of organizations and contracts: how long they may be, when two names are the same, and
the readable ASCII that keys and slugs are made from.

Models, forms and services all ask here, so the rules are written once.
"""

import unicodedata

from unidecode import unidecode
from wagtail.models import Page

# A name is a page title.
NAME_MAX_LENGTH: int = Page._meta.get_field("title").max_length


def name_key(name: str) -> str:
    """The form in which two names are compared: Unicode compatibility forms folded (NFKC), case
    folded, runs of white space made one space, and no space at either end. "ACME  university"
    and "Acme University" have the same key."""
    folded = unicodedata.normalize("NFKC", name).casefold()
    return " ".join(folded.split())[:NAME_MAX_LENGTH]


def name_too_long(name: str, *, what: str) -> str | None:
    """Why ``name`` cannot be the name of a ``what`` (organization, contract), or None."""
    if len(name) > NAME_MAX_LENGTH:
        return f"The {what} name has {len(name)} characters; at most {NAME_MAX_LENGTH} fit"
    return None


def ascii_text(text: str) -> str:
    """``text`` transliterated to ASCII ("Zürich" -> "Zurich", "東京" -> "Dong Jing "), for
    keys and slugs that stay readable whatever the script of the name."""
    return unidecode(text)
