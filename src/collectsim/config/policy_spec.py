"""A collections policy as validated values: the levers a finance manager compares.

A policy is what a credit controller would write on one page: when reminders go out, by which
channel and in what tone; whether an early-payment discount is offered; whether chasing stops
while an invoice is disputed; when an unpaid balance is written off. Customers may get their own version
of any lever, selected by what the ledger shows of them (``[[policy.targets]]``: open balance, recent days
late, days overdue, disputes, risk band, tenure; :class:`When`), which is how personalisation is expressed; a
synthetic experiment may also override by hidden behaviour segment (``[policy.segments.<name>]``). Every key
has a dotted name (``discount.rate``, ``reminders.steps``) that sweeps use.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields
from typing import Any

from collectsim.config.schema import (
    NO_VALUE,
    ScenarioError,
    as_raw,
    build,
    deep_merge,
    join,
    set_dotted,
    setting,
    table,
)

CHANNELS = ("email", "letter", "phone")
TONES = ("friendly", "firm", "final")


@dataclass(frozen=True)
class ReminderStep:
    """One step of the reminder ladder, at an offset in days from the due date."""

    offset: int = setting(required=True, unit="days from due date", low=-60, high=730,
                          doc="When the step is taken; negative means before the due date.")
    channel: str = setting("email", choices=CHANNELS, doc="How the reminder is sent.")
    tone: str = setting("friendly", choices=TONES, doc="Wording, from a courtesy note to a final notice.")
    cost: float | None = setting(None, unit="currency", low=0, high=10_000,
                                 doc="Cost of this step; when absent, the channel's cost in [economics].")


@dataclass(frozen=True)
class Reminders:
    """The reminder ladder."""

    steps: tuple[ReminderStep, ...] = setting(
        (), doc="Reminder steps as an array of tables {offset, channel, tone, cost}, in increasing offset.")
    pause_on_dispute: bool = setting(
        True, doc="Skip reminder steps that fall due while the invoice is disputed.",
        source="playbook practice: chasing a disputed invoice harms the relationship and collects nothing")
    min_gap_days: int = setting(
        0, unit="days", low=0, high=365,
        doc="Least number of days between two contacts with the same customer. Reminders due the same day "
            "always go out as one contact (a statement of every invoice at a step); a reminder due sooner than "
            "this after the last contact waits until the gap has passed. 0: no wait.",
        source="dunning tools' per-customer follow-up setting (minimum days between reminders)")

    def check(self, path: str, source: str) -> None:
        offsets = [s.offset for s in self.steps]
        for i in range(1, len(offsets)):
            if offsets[i] <= offsets[i - 1]:
                raise ScenarioError(source, join(join(join(path, "steps"), i), "offset"), offsets[i],
                                    f"offset must be greater than the previous step's ({offsets[i - 1]})")


@dataclass(frozen=True)
class Discount:
    """Early-payment discount offered on every invoice ("2/10 net 30" is rate 0.02, window 10)."""

    rate: float = setting(0.0, unit="fraction of invoice", low=0.0, high=0.2,
                          doc="Discount for paying within the window; 0 means no discount is offered.")
    window_days: int = setting(10, unit="days from issue", low=0, high=120,
                               doc="Days after issue within which the discount may be taken.")


@dataclass(frozen=True)
class Plans:
    """Instalment plans offered to customers who are behind."""

    offer: bool = setting(False, doc="Offer instalment plans at all.")
    after_days_overdue: int = setting(30, unit="days past due", low=0, high=365,
                                      doc="A plan is offered on this day past due (once per invoice), "
                                          "instead of the reminder step due that day.")
    instalments: int = setting(3, unit="instalments", low=1, high=24,
                               doc="Number of instalments after the down payment.")
    interval_days: int = setting(30, unit="days", low=1, high=120, doc="Days between instalments.")
    down_payment: float = setting(0.2, unit="fraction of balance", low=0, high=0.9,
                                  doc="Share of the balance paid the day after the plan is agreed; 0 for none.")
    missed_tolerance: int = setting(1, unit="missed instalments", low=0, high=12,
                                    doc="Missed instalments tolerated; one more ends the plan in default "
                                        "(a missed instalment is tried again one interval later).")
    on_default: str = setting("resume", choices=("resume", "restart", "escalate", "write_off"),
                              doc="After a default: resume the reminder ladder with its next step; restart it, "
                                  "its offsets counted from the day the plan broke; escalate (to the agency if "
                                  "the policy uses one, else to court if it sues, else write off); or write off.")
    on_request: bool = setting(False, doc="Grant a plan (these instalments, interval and tolerance) when a strained "
                                          "or distressed customer asks for one; independent of `offer`.")


@dataclass(frozen=True)
class Milestone:
    """One milestone of extended terms: part of the balance falls due some days after the terms are agreed."""

    after_days: int = setting(required=True, unit="days after agreement", low=1, high=730,
                              doc="When this part falls due, counted from the day the terms are agreed.")
    share: float = setting(required=True, unit="fraction of the balance agreed", low=0.01, high=1,
                           doc="Part of the balance due at this milestone (the last one takes whatever is left).")


@dataclass(frozen=True)
class ExtendedTerms:
    """More time for an overdue invoice, paid at milestones that follow the customer's own cash cycle.

    Unlike an instalment plan there is no down payment and no second chance: a missed milestone ends the
    terms. Acceptance, the chance each milestone is met and the goodwill of agreeing are those of a plan
    (the segment's ``plan_acceptance`` and ``instalment_reliability``, ``behaviour.plan_goodwill``).
    """

    offer: bool = setting(False, doc="Offer extended terms at all.")
    after_days_overdue: int = setting(15, unit="days past due", low=0, high=365,
                                      doc="Extended terms are offered on this day past due (once per invoice), "
                                          "instead of the reminder step due that day (and before a plan offer "
                                          "due the same day).")
    milestones: tuple[Milestone, ...] = setting(
        (Milestone(after_days=45, share=0.5), Milestone(after_days=90, share=0.5)),
        doc="Milestones as an array of tables {after_days, share}, in increasing after_days; shares add up to 1.")
    on_default: str = setting("resume", choices=("resume", "restart", "escalate", "write_off"),
                              doc="After a missed milestone, as plans.on_default: resume or restart the ladder, "
                                  "escalate, or write off.")

    def check(self, path: str, source: str) -> None:
        if not self.milestones:
            raise ScenarioError(source, join(path, "milestones"), [], "needs at least one milestone")
        days = [m.after_days for m in self.milestones]
        for i in range(1, len(days)):
            if days[i] <= days[i - 1]:
                raise ScenarioError(source, join(join(join(path, "milestones"), i), "after_days"), days[i],
                                    f"must be greater than the previous milestone's ({days[i - 1]})")
        total = sum(m.share for m in self.milestones)
        if abs(total - 1.0) > 1e-6:
            raise ScenarioError(source, join(path, "milestones"), [m.share for m in self.milestones],
                                f"shares must add up to 1 (they add up to {total:g})")


EU_LATE_PAYMENT = "EU Directive 2011/7/EU: reference rate + 8 points, EUR 40 per invoice (UK 1998 Act: base + 8%)"


@dataclass(frozen=True)
class Fees:
    """Statutory late-payment interest and fixed compensation, claimed or left unclaimed."""

    enforce: bool = setting(False, source="statutory interest is claimed by only 3-20% of creditors (old "
                                          "small surveys): unclaimed by default",
                            doc="Claim interest and compensation on invoices still unpaid at the claim day.")
    claim_at_days_overdue: int = setting(30, unit="days past due", low=0, high=365,
                                         doc="Day past due on which the claim is made (with the step due that day).")
    interest_margin: float = setting(0.08, unit="per year, over the reference rate", low=0, high=0.5,
                                     source=EU_LATE_PAYMENT,
                                     doc="Statutory interest rate above economics.reference_rate, simple, "
                                         "on the unpaid principal from the day after the due date.")
    fixed_compensation: float = setting(40.0, unit="currency per invoice", low=0, high=10_000,
                                        source=EU_LATE_PAYMENT, doc="Fixed recovery compensation per late invoice.")


@dataclass(frozen=True)
class Settlement:
    """Settling old debt for less than is owed."""

    offer: bool = setting(False, doc="Offer to settle old debt for part of the balance.")
    after_days_overdue: int = setting(120, unit="days past due", low=0, high=3650,
                                      doc="Day past due on which the settlement is offered (once per invoice).")
    forgive: float = setting(0.3, unit="fraction of balance", low=0, high=0.95,
                             doc="Share of the balance forgiven if the customer pays the rest.")


COURT_FEES = ("money claims in England & Wales: banded fees of GBP 35-455 up to GBP 10,000 (roughly 4-12% of the "
              "claim), 5% of the claim from GBP 10,000 to 200,000 (HMCTS fee schedule; docs/sources.md)")
COSTS_RECOVERY = ("the loser pays the court fee (England & Wales; European Small Claims Procedure, art. 16); on the "
                  "small claims track only fixed costs of GBP 50-115 of a lawyer's time are recoverable: about a "
                  "quarter of the case's costs (docs/sources.md)")
AGENCY_FEES = "commercial collection agencies charge typically 15-50% of what they collect, less on large claims"


@dataclass(frozen=True)
class Escalation:
    """Mediation for disputes, a collection agency, and legal action as the last resort."""

    mediation: bool = setting(False, doc="Bring in a mediator when a dispute stays open too long.")
    mediation_after_days: int = setting(30, unit="days of dispute", low=1, high=365,
                                        doc="Days a dispute may stay open before mediation is sought.")
    mediation_cost: float = setting(300.0, unit="currency per case", low=0, high=100_000,
                                    doc="Cost of one mediation.")
    agency: bool = setting(False, doc="Hand unpaid invoices to a collection agency.")
    agency_after_days_overdue: int = setting(90, unit="days past due", low=0, high=3650,
                                             doc="Day past due on which the invoice goes to the agency.")
    agency_fee: float = setting(0.25, unit="fraction of what it collects", low=0, high=1, source=AGENCY_FEES,
                                doc="Contingency fee on everything collected while the agency holds the invoice, "
                                    "the debtor's own payments included (as commercial agencies' terms charge "
                                    "their commission on direct payments); a collection cost; the cash collected is "
                                    "counted gross.")
    legal: bool = setting(False, doc="Take legal action on unpaid invoices.")
    legal_after_days_overdue: int = setting(180, unit="days past due", low=0, high=3650,
                                            doc="Day past due on which to file (or when the agency gives up, "
                                                "if later).")
    legal_min_balance: float = setting(500.0, unit="currency", low=0, high=1e9,
                                       doc="Smallest balance worth suing for; smaller ones are written off.")
    legal_cost: float = setting(600.0, unit="currency per case", low=0, high=1e7,
                                doc="Lawyer's time and own costs of one case, paid at filing (with the court fee, "
                                    "can exceed the debt).")
    court_fee_rate: float = setting(0.05, unit="fraction of the claim", low=0, high=1, source=COURT_FEES,
                                    doc="Court fee paid at filing, as a share of the balance claimed.")
    costs_recoverable: float = setting(
        0.25, unit="fraction of the case's costs", low=0, high=1, source=COSTS_RECOVERY,
        doc="Share of the court fee and legal cost the debtor repays with a paid claim or judgment (in proportion "
            "to the part of the claim the court awarded); cash on top of the principal, counted with fees.")
    credit_hold: bool = setting(False, doc="Stop supplying a customer while it has debt too far past due.")
    credit_hold_after_days_overdue: int = setting(
        60, unit="days past due", low=0, high=3650,
        doc="New orders are refused while any of the customer's invoices is more than this many days past due "
            "(disputed invoices and those in an instalment plan do not count).")


@dataclass(frozen=True)
class WriteOff:
    """When an unpaid balance is given up."""

    age_days: int = setting(365, unit="days past due", low=1, high=3650,
                            doc="Remaining balance is written off this many days after the due date.")


@dataclass(frozen=True)
class Invoicing:
    """How invoices are written and sent: prevention, before any chasing."""

    clear_terms: bool = setting(
        False, doc="Written terms agreed before supplying (prices, quantities, due dates, late fees and escalation "
                   "steps): fewer disputes that come from a misunderstanding (behaviour.clear_terms_dispute_cut of "
                   "the disputes without merit are never raised).")
    e_invoicing: bool = setting(
        False, doc="Structured electronic invoices instead of paper or PDF: fewer paperwork disputes "
                   "(behaviour.e_invoicing_dispute_cut of all disputes are never raised) and invoices approved "
                   "sooner (paid behaviour.e_invoicing_days_faster days earlier when nobody chases).")


@dataclass(frozen=True)
class Onboarding:
    """Credit checks on customers who arrive during the run: refuse the riskiest, cap what the rest may owe."""

    credit_check: bool = setting(False, doc="Check every new customer's credit before supplying it.")
    refuse_share: float = setting(0.1, unit="share of applicants", low=0, high=1,
                                  doc="Refuse applicants whose credit report is in this worst share of the "
                                      "segment's (the report is a noisy signal of how late they will pay).")
    check_cost: float = setting(15.0, unit="currency per applicant", low=0, high=10_000,
                                doc="Cost of one credit report, a collection cost.")
    credit_limit: float = setting(0.0, unit="currency", low=0, high=1e9,
                                  doc="Most a new customer may owe: an order that would take its open balance "
                                      "above the limit is refused (0: no limit).")


#: What a customer's standing remembers of its payments (see collectsim.model.standing): the last invoices paid in
#: full, and the risk bands their mean days late fall in (around the typical SME's 1-2 weeks late, docs/sources.md).
RECENT_INVOICES = 5
RISK_BANDS = ("new", "low", "medium", "high")
LOW_BAND_MAX_DAYS = 14
MEDIUM_BAND_MAX_DAYS = 30
BANDS_SOURCE = "bands around the typical SME's 1-2 weeks late (docs/sources.md); an assumption"
RISK_BAND_NOTE = (f"new until an invoice is paid in full; then low (the last {RECENT_INVOICES} invoices paid averaged "
                  f"at most {LOW_BAND_MAX_DAYS} days late), medium (at most {MEDIUM_BAND_MAX_DAYS}), high (more)")


@dataclass(frozen=True)
class When:
    """What a customer must show on the ledger for a target to apply; every selector given must hold.

    Selectors read the customer's standing on the day an invoice is issued (or the customer arrives, for
    onboarding): see :mod:`collectsim.model.standing` for how each is kept.
    """

    open_balance_min: float | None = setting(None, source="", unit="currency", low=0, high=1e12,
                                             doc="Principal owed on the customer's open invoices is at least this.")
    open_balance_max: float | None = setting(None, source="", unit="currency", low=0, high=1e12,
                                             doc="Principal owed on the customer's open invoices is at most this.")
    recent_days_late_min: int | None = setting(
        None, source="", unit="days", low=0, high=3650,
        doc=f"The customer's last {RECENT_INVOICES} invoices paid in full averaged at least this many days late (days "
            "late: last payment day minus due date, 0 if on time); never holds before one is paid.")
    recent_days_late_max: int | None = setting(
        None, source="", unit="days", low=0, high=3650,
        doc="... averaged at most this many days late; never holds before one is paid.")
    overdue_days_min: int | None = setting(None, source="", unit="days past due", low=1, high=3650,
                                           doc="One of the customer's open invoices is at least this many days past "
                                               "due.")
    disputes_min: int | None = setting(None, source="", unit="open disputes", low=1, high=10_000,
                                       doc="At least this many of the customer's open invoices are disputed now.")
    disputed_within_days: int | None = setting(None, source="", unit="days", low=0, high=3650,
                                               doc="The customer raised a dispute (open or since resolved) within "
                                                   "this many days.")
    risk_band: str | None = setting(None, choices=RISK_BANDS, source=BANDS_SOURCE,
                                    doc="Risk band from payment history: " + RISK_BAND_NOTE + ".")
    tenure_days_min: int | None = setting(None, source="", unit="days", low=0, high=36500,
                                          doc="The customer has been with us at least this many days (customers "
                                              "of the opening portfolio count from the first day of the run; a "
                                              "ledger's customers from their first invoice in it).")
    tenure_days_max: int | None = setting(None, source="", unit="days", low=0, high=36500,
                                          doc="The customer has been with us at most this many days.")

    def check(self, path: str, source: str) -> None:
        for low, high in (("open_balance_min", "open_balance_max"), ("recent_days_late_min", "recent_days_late_max"),
                          ("tenure_days_min", "tenure_days_max")):
            a, b = getattr(self, low), getattr(self, high)
            if a is not None and b is not None and a > b:
                raise ScenarioError(source, join(path, high), b, f"must be at least {low} ({a:g})")


SELECTORS = tuple(f.name for f in fields(When))
_TARGET_KEYS = ("name", "when")  # a target's own keys; the others override the policy's
_NOT_OVERRIDDEN = ("name", "description", "segments", "targets")


def _target_override(target: Mapping[str, Any]) -> dict:
    return {k: v for k, v in target.items() if k not in _TARGET_KEYS}


@dataclass(frozen=True)
class PolicySpec:
    """A whole policy: reminders, discount, plans, extended terms, fees, settlements, escalation, write-off,
    onboarding and invoicing."""

    name: str = setting(required=True, source="", doc="Name used to pick the policy (`--policy NAME`).")
    description: str = setting("", source="", doc="One sentence saying what the policy is for.")
    reminders: Reminders = table(Reminders, doc="The reminder ladder.")
    discount: Discount = table(Discount, doc="Early-payment discount.")
    plans: Plans = table(Plans, doc="Instalment plans.")
    extended_terms: ExtendedTerms = table(ExtendedTerms, doc="Extended terms with milestones.")
    fees: Fees = table(Fees, doc="Statutory interest and compensation.")
    settlement: Settlement = table(Settlement, doc="Settlement offers on old debt.")
    escalation: Escalation = table(Escalation, doc="Mediation, agency and legal action.")
    write_off: WriteOff = table(WriteOff, doc="Write-off rule.")
    onboarding: Onboarding = table(Onboarding, doc="Credit checks and limits for new customers.")
    invoicing: Invoicing = table(Invoicing, doc="Clear terms and electronic invoicing.")
    targets: tuple[Mapping[str, Any], ...] = setting(
        (), source="", doc="Customers targeted by what the ledger shows, in priority order: each "
        "`[[policy.targets]]` has a `name`, a `when` table of selectors (`targets[].when.*` below; those left out "
        "are not checked) and any of the keys above (not name, description, segments or targets), which replace "
        "the base policy's for the invoices of customers it selects. The first target whose selectors all hold "
        "when an invoice is issued applies to that invoice for its whole life (to onboarding when the customer "
        "arrives, to a credit hold when it orders); with none, the base policy.")
    segments: Mapping[str, Mapping[str, Any]] = setting(
        {}, source="", doc="Per-segment overrides: `[policy.segments.<segment>]` holds any of the keys above "
                "(not name, segments or targets) and replaces them for that segment's customers. Segments are "
                "hidden behaviour groups a controller cannot see: for synthetic experiments only (a calibrated "
                "scenario names its own segments); target real customers with `targets`.")

    def check(self, path: str, source: str) -> None:
        for segment, override in self.segments.items():
            where = join(join(path, "segments"), segment)
            if not isinstance(override, Mapping):
                raise ScenarioError(source, where, override, "must be a table of policy keys")
            for banned in ("name", "segments", "targets"):
                if banned in override:
                    raise ScenarioError(source, join(where, banned), override[banned],
                                        "cannot be overridden per segment")
            # Validate the override by building the policy it produces, errors named under it.
            build(PolicySpec, deep_merge(self._base_raw(), override), where, source)
        names: set[str] = set()
        for i, target in enumerate(self.targets):
            where = join(join(path, "targets"), i)
            name = target.get("name")
            if not isinstance(name, str) or not name.strip():
                raise ScenarioError(source, join(where, "name"), NO_VALUE if name is None else name,
                                    "every target needs a name (a non-empty string)")
            if name in names:
                raise ScenarioError(source, join(where, "name"), name, "names a target already defined")
            names.add(name)
            when = build(When, target.get("when", {}), join(where, "when"), source)
            if all(getattr(when, key) is None for key in SELECTORS):
                raise ScenarioError(source, join(where, "when"), NO_VALUE,
                                    "needs at least one selector: " + ", ".join(SELECTORS))
            override = _target_override(target)
            allowed = [f.name for f in fields(PolicySpec) if f.name not in _NOT_OVERRIDDEN]
            for key, value in override.items():
                if key not in allowed:
                    raise ScenarioError(source, join(where, key), value,
                                        "unknown key; allowed keys here: " + ", ".join((*_TARGET_KEYS, *allowed)))
            build(PolicySpec, deep_merge(self._base_raw(), override), where, source)

    def _base_raw(self) -> dict:
        raw = as_raw(self)
        raw.pop("segments", None)
        raw.pop("targets", None)
        return raw

    def for_segment(self, segment: str) -> PolicySpec:
        """The policy as it applies to one segment's customers (the base policy if no override)."""
        override = self.segments.get(segment)
        if not override:
            return self
        return build(PolicySpec, deep_merge(self._base_raw(), override), f"segments.{segment}", self.name)

    def for_target(self, segment: str, target: int) -> PolicySpec:
        """The policy for the customers of ``segment`` that target number ``target`` selects (0: none does, the
        base policy; k: the k-th of :attr:`targets`), the segment's override under the target's."""
        base = self.for_segment(segment)
        if target == 0:
            return base
        override = _target_override(self.targets[target - 1])
        return build(PolicySpec, deep_merge(base._base_raw(), override), f"targets.{target - 1}", self.name)

    def target_names(self) -> tuple[str, ...]:
        """The targets' names, in priority order."""
        return tuple(t["name"] for t in self.targets)

    def for_target_named(self, name: str) -> PolicySpec:
        """The policy for the customers the target called ``name`` selects (the base policy under its override)."""
        return self.for_target("", self.target_names().index(name) + 1)

    def selectors(self) -> tuple[When, ...]:
        """Each target's selectors, in priority order."""
        return tuple(build(When, t.get("when", {}), f"targets.{i}.when", self.name)
                     for i, t in enumerate(self.targets))

    def with_values(self, values: Mapping[str, Any]) -> PolicySpec:
        """A copy with dotted keys replaced (``{"discount.rate": 0.02}``), validated again. An item of a list is
        addressed by its index from 0: ``{"reminders.steps.0.offset": -3}``.

        Segment overrides that do not set a key inherit the new value.
        """
        raw = as_raw(self)
        for dotted, value in values.items():
            try:
                raw = set_dotted(raw, dotted, as_raw(value))
            except IndexError as exc:
                raise ScenarioError(f"policy {self.name!r}", dotted, value, str(exc)) from None
        return build(PolicySpec, raw, "", f"policy {self.name!r}")


def parse_policy(data: Any, path: str, source: str) -> PolicySpec:
    """Build a policy from its table (inline in a scenario, or the ``[policy]`` of a strategy file)."""
    return build(PolicySpec, data, path, source)
