"""The company that writes the letters: its letterhead, who to call, where to pay, which law it is under.

A reminder a customer can act on says who is asking, who to talk to and how to pay; a firm letter also says
which late-payment law applies. The profile is a ``[company]`` table in the scenario file, or the same
table in a file of its own (``--company FILE``). Loading never demands anything: a scenario without a
profile still simulates. Only rendering letters meant to be sent checks that every field they print is
there (:meth:`Company.check_sendable`), and the error names the missing key.

With no profile at all, the ``letters`` command uses :data:`SAMPLE_COMPANY`, a made-up firm whose
name says it is a sample, so that nobody mistakes a sample letter for one that can go out.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from collectsim.config.schema import NO_VALUE, ScenarioError, build, join, setting

JURISDICTIONS = ("eu", "uk")


@dataclass(frozen=True)
class Company:
    """Letterhead, contact, bank details and jurisdiction of the supplier who sends the letters."""

    name: str = setting("", source="", doc="Company name as it appears on the letterhead and the signature.")
    address: str = setting("", source="", doc="Postal address; a TOML multi-line string puts one part per line.")
    registration: str = setting("", source="",
                                doc="Company registration (e.g. 'Registered in England and Wales no. 01234567', "
                                    "'HRB 12345, Amtsgericht Berlin'), printed under the letterhead.")
    vat_number: str = setting("", source="", doc="VAT number, printed under the letterhead when given.")
    contact_name: str = setting("", source="", doc="The person who signs the letters and takes the calls.")
    contact_role: str = setting("Credit control", source="", doc="That person's role, under the signature.")
    phone: str = setting("", source="", doc="Telephone number for questions about the account.")
    email: str = setting("", source="", doc="Email address for questions and remittance advice.")
    iban: str = setting("", source="", doc="IBAN of the account to pay into (or give `account` or `payment_link`).")
    bic: str = setting("", source="", doc="BIC of that account, printed with the IBAN when given.")
    account: str = setting("", source="",
                           doc="Bank details other than an IBAN, as one line (e.g. 'Sort code 12-34-56, "
                               "account 12345678').")
    payment_link: str = setting("", source="", doc="A web address where the customer can pay online.")
    jurisdiction: str = setting("eu", choices=JURISDICTIONS, source="",
                                doc="Late-payment law the letters cite: 'eu' (Directive 2011/7/EU: reference "
                                    "rate + 8 points, EUR 40 per invoice) or 'uk' (Late Payment of Commercial "
                                    "Debts (Interest) Act 1998: base rate + 8%, GBP 40/70/100 by debt size).")
    agency_name: str = setting("", source="",
                               doc="Collection agency named in hand-over letters (needed only for those).")
    agency_contact: str = setting("", source="", doc="How to reach the agency (phone or email), in hand-over letters.")
    solicitor_name: str = setting("", source="",
                                  doc="Solicitors named when an account goes to legal action (needed only then).")

    @property
    def given(self) -> bool:
        """Whether any field was set (an untouched profile means: none was given)."""
        return self != Company()

    def check_sendable(self, source: str, path: str = "company", *, handed_to: str = "") -> None:
        """Raise a one-line ScenarioError naming the first field a sendable letter needs and lacks.

        ``handed_to`` is 'agency' or 'legal' for a hand-over letter, which must name whom it hands over to.
        """
        for key in ("name", "address", "registration", "contact_name", "phone", "email"):
            if not getattr(self, key).strip():
                raise ScenarioError(source, join(path, key), NO_VALUE,
                                    "missing; letters that can be sent print it (or leave the whole profile out "
                                    "for marked sample letters)")
        if not (self.iban.strip() or self.account.strip() or self.payment_link.strip()):
            raise ScenarioError(source, join(path, "iban"), NO_VALUE,
                                "missing; letters that can be sent say how to pay: give iban (with bic), "
                                "account or payment_link")
        needed = {"agency": "agency_name", "legal": "solicitor_name"}.get(handed_to)
        if needed and not getattr(self, needed).strip():
            whom = "agency" if handed_to == "agency" else "solicitors"
            raise ScenarioError(source, join(path, needed), NO_VALUE, f"missing; the hand-over letter names the {whom}")

    def pay_lines(self) -> list[str]:
        """How to pay, one line each (bank transfer, then online)."""
        lines = []
        if self.iban.strip():
            lines.append(f"Bank transfer to IBAN {self.iban.strip()}" + (f", BIC {self.bic.strip()}" if self.bic.strip()
                                                                      else ""))
        if self.account.strip():
            lines.append(f"Bank transfer to {self.account.strip()}")
        if self.payment_link.strip():
            lines.append(f"Online at {self.payment_link.strip()}")
        return lines


#: The made-up firm of sample letters; its name and registration say it is a sample.
SAMPLE_COMPANY = Company(
    name="Sample Supplies Ltd (SAMPLE: not a real company)",
    address="1 Example Street\n10115 Berlin\nGermany",
    registration="SAMPLE LETTER: set your own [company] profile before sending anything",
    contact_name="Alex Example",
    phone="+49 30 555 0100",
    email="credit.control@example.com",
    iban="DE89 3704 0044 0532 0130 00",
    bic="COBADEFFXXX",
    jurisdiction="eu",
    agency_name="Example Collections GmbH (sample agency)",
    agency_contact="+49 30 555 0199",
    solicitor_name="Example & Partner (sample solicitors)",
)


def parse_company(data: object, source: str, path: str = "company") -> Company:
    """Build a profile from its table."""
    return build(Company, data, path, source)


def load_company(path: str | Path) -> Company:
    """A profile from a TOML file holding one ``[company]`` table (as in a scenario file)."""
    from collectsim.config.scenario import read_toml

    path = Path(path)
    data = read_toml(path)
    for key in data:
        if key != "company":
            raise ScenarioError(str(path), key, data[key], "unknown key; a company file holds only [company]")
    if "company" not in data:
        raise ScenarioError(str(path), "company", NO_VALUE, "missing [company] table")
    return parse_company(data["company"], str(path))

