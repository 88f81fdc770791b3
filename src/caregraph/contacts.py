"""How to reach a body: its telephone number and website, as the registers give them.

Numbers are kept as `tel:` IRIs in international form (`foaf:phone <tel:+441616653185>`,
RFC 3966) and shown the British way (`0161 665 3185`); websites as `foaf:homepage` IRIs.
A council's `foaf:page` is GOV.UK's "find your local council" page for it, which links to
the council's own website: caregraph says so wherever it shows one.
Parsing and formatting numbers is left to `phonenumbers` (Google's libphonenumber rules).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import urlsplit

import phonenumbers

from caregraph.store import Store, iri

GOV_UK_FINDER = "https://www.gov.uk/find-local-council/"
_HOST = re.compile(r"^(?=.{4,253}$)([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$")


def phone_iri(text: str) -> str | None:
    """A UK telephone number as a `tel:` IRI (`tel:+441616653185`), or None when it is not one.

    Registers write numbers with or without spaces, and some (CQC's 2016 directory) drop the
    leading 0 (`1424716303`); both are read. Anything that is not a valid UK number is None."""
    digits = re.sub(r"[\s().-]", "", text.strip())
    if not digits or not re.fullmatch(r"\+?\d{9,13}", digits):
        return None
    if len(digits) in (9, 10) and digits[0] in "123578":
        digits = "0" + digits          # a spreadsheet dropped the trunk 0
    try:
        number = phonenumbers.parse(digits, "GB")
    except phonenumbers.NumberParseException:
        return None
    if number.country_code != 44 or not phonenumbers.is_valid_number(number):
        return None
    return "tel:" + phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def phone_display(tel: str) -> str:
    """A `tel:` IRI written as people in the UK dial it: `0161 665 3185`."""
    number = phonenumbers.parse(tel.removeprefix("tel:"), "GB")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.NATIONAL)


def website_iri(text: str) -> str | None:
    """A website as an http(s) IRI, or None when it is not one. A bare `www.example.co.uk`
    gets `https://`; a scheme the register gives is kept."""
    text = text.strip()
    if not text or any(c.isspace() for c in text) or any(c in text for c in '<>"{}|\\^`'):
        return None
    if not re.match(r"^https?://", text, re.I):
        if "://" in text:
            return None
        text = "https://" + text
    try:
        parts = urlsplit(text)
    except ValueError:
        return None
    host = (parts.hostname or "").lower()
    if not _HOST.match(host) or parts.username or parts.password or parts.port:
        return None
    rest = text[len(parts.scheme) + 3 + len(parts.netloc):]
    return f"{parts.scheme.lower()}://{host}{rest or '/'}"


@dataclass(frozen=True)
class Contact:
    """A body's telephone number and website, as far as caregraph knows them."""

    phone: str | None = None            # a tel: IRI
    website: str | None = None          # the body's own website
    finder: str | None = None           # GOV.UK's page for a council, which links to its website

    def __bool__(self) -> bool:
        return bool(self.phone or self.website or self.finder)

    @property
    def phone_text(self) -> str | None:
        return phone_display(self.phone) if self.phone else None

    @property
    def website_text(self) -> str | None:
        """The website without its scheme and trailing slash, as it is read aloud."""
        if not self.website:
            return None
        return re.sub(r"^https?://", "", self.website).removesuffix("/")

    def as_json(self) -> dict:
        return {"telephone": self.phone_text, "telephone_uri": self.phone,
                "website": self.website, "gov_uk_find_council_page": self.finder}


def contacts(store: Store, uris: list[str]) -> dict[str, Contact]:
    """The contact details of each of `uris` that has any. Where imports disagree (an older
    and a newer register), the newest import's record is used; curated knowledge counts as
    newest (it is kept by hand)."""
    wanted = [u for u in dict.fromkeys(uris) if u]
    known: dict[str, Contact] = store.cached("contacts", dict)
    missing = [u for u in wanted if u not in known]
    if missing:
        found: dict[str, dict[str, tuple]] = {}
        for row in store.select("contact_details", [{"body": iri(u)} for u in missing]):
            body, kind = row["body"].value, row["kind"].value
            as_of = row["asOf"].value if row["asOf"] is not None else "9999"   # curated: newest
            if kind == "page" and not row["value"].value.startswith(GOV_UK_FINDER):
                continue  # only GOV.UK's council finder is shown as a council's way to its website
            entry = found.setdefault(body, {})
            rank = (as_of, row["value"].value)
            if kind not in entry or rank > entry[kind]:
                entry[kind] = rank
        for u in missing:
            entry = found.get(u, {})
            known[u] = Contact(*(entry[k][1] if k in entry else None for k in ("phone", "homepage", "page")))
    return {u: known[u] for u in wanted if known[u]}
