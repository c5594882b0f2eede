"""Read a rendered HTML form the way a browser submits it, so a test posts only what a page shows.

``BrowserForm(html, form_id=...)`` holds the name/value pairs a browser would send when the form
is submitted: enabled fields only, checked checkboxes and radios only, the selected options of
each ``<select>`` (the first option when none is marked, as browsers do for a single select),
textareas' text, and the one submit button clicked (an ``<input>`` or a ``<button>``).
Read-only values (plain text in the page) are not fields, so they are not sent.
"""

from __future__ import annotations

from bs4 import BeautifulSoup, Tag

_NOT_SENT = {"submit", "button", "reset", "image", "file"}


class BrowserForm:
    """The fields of one form, as a browser holds them before submission."""

    def __init__(self, html: str, *, form_id: str | None = None, action: str | None = None):
        """The form with id ``form_id``, or (for a form without an id) the one posting to
        ``action``."""
        wanted = {"id": form_id} if form_id is not None else {"action": action}
        form = BeautifulSoup(html, "html.parser").find("form", attrs=wanted)
        if not isinstance(form, Tag):
            raise AssertionError(f"no <form {wanted}> in the page")
        self.action = str(form.get("action") or "")
        self.checkboxes: set[str] = set()
        self.buttons: dict[str, str] = {}
        self.fields: list[tuple[str, str]] = []
        for element in form.find_all(["input", "select", "textarea", "button"]):
            name = element.get("name")
            if not name or element.has_attr("disabled"):
                continue
            if element.name == "button":
                if (element.get("type") or "submit").lower() == "submit":
                    self.buttons[name] = element.get("value", "")
                continue
            if element.name == "input":
                kind = (element.get("type") or "text").lower()
                if kind == "submit":
                    self.buttons[name] = element.get("value", "")
                if kind in _NOT_SENT:
                    continue
                if kind in {"checkbox", "radio"}:
                    self.checkboxes.add(name)
                    if not element.has_attr("checked"):
                        continue
                    self.fields.append((name, element.get("value", "on")))
                else:
                    self.fields.append((name, element.get("value", "")))
            elif element.name == "textarea":
                self.fields.append((name, element.text))
            else:
                options = element.find_all("option")
                chosen = [o for o in options if o.has_attr("selected")]
                if not chosen and options and not element.has_attr("multiple"):
                    chosen = options[:1]
                self.fields.extend((name, o.get("value", o.text)) for o in chosen)

    def names(self) -> set[str]:
        return {name for name, _value in self.fields} | self.checkboxes

    def tick(self, name: str) -> None:
        """Tick a checkbox the page rendered (a test cannot tick one the page does not show)."""
        if name not in self.checkboxes:
            raise AssertionError(f"the page has no checkbox named {name!r}")
        self.fields = [(n, v) for n, v in self.fields if n != name] + [(name, "on")]

    def fill(self, name: str, value: str) -> None:
        """Type ``value`` into a text field (or choose it in a select) the page rendered."""
        if name not in {n for n, _ in self.fields}:
            raise AssertionError(f"the page has no field named {name!r}")
        self.fields = [(n, v) for n, v in self.fields if n != name] + [(name, value)]

    def data(self, *, submit: str | None = None) -> dict[str, list[str]]:
        """The body to post (values grouped by name), with the submit button clicked, if named."""
        body: dict[str, list[str]] = {}
        for name, value in self.fields:
            body.setdefault(name, []).append(value)
        if submit is not None:
            if submit not in self.buttons:
                raise AssertionError(f"the page has no submit button named {submit!r}")
            body[submit] = [self.buttons[submit]]
        return body


def page_errors(html: str) -> list[str]:
    """The error notes and field errors a Django admin or Wagtail form page shows."""
    soup = BeautifulSoup(html, "html.parser")
    found = soup.select(".errornote, .errorlist, .error-message")
    return [" ".join(e.get_text(" ").split()) for e in found]
