"""Today's collection work from the open ledger: who to contact, how, with which letter, in which order.

A credit controller's morning starts from the aged-debt report: which customers to chase today, by which
channel and in what tone, which offer to make, which account to hand over, and which of it the team gets
through. :func:`plan_actions` answers that for a real ledger under a policy, without simulating anything:

* **The policy decides, as in the simulation.** Each open invoice's history under the policy is replayed
  with :func:`~collectsim.model.policy_tables.rule_decision` (the one decision function both engines run)
  from its issue date to the as-of date, review day by review day. The ledger does not say which reminders
  went out, so the replay assumes every action the policy called for before today was taken, and that no
  offer was accepted (an open invoice at its full amount is on no plan). An invoice the policy handed to an
  agency or a court, or wrote off, before the window is out of the supplier's hands: it gets no new action.
* **Due today** means a decision day in the window (``since``, ``as_of``]; ``since`` defaults to the day
  before ``as_of``. A step that fell on or before ``since`` is not repeated; of several reminder steps of
  one invoice in a longer window only the latest is due (it supersedes the ones missed).
* **Segment.** A customer's segment is the one calibration put it in (:func:`ledger_segments`: the ledger's
  segment and channel). When the scenario has no segment of that name (a scenario fitted with
  ``--segment-by habit`` or written by hand), the policy's base rules apply, with no override, and
  :attr:`DayPlan.notes` says so.
* **Contact gap.** The policy's least gap between contacts (``reminders.min_gap_days``) is not applied: the
  ledger does not say when a customer was last contacted.
* **Disputes.** A disputed invoice (the ledger's ``disputed`` column) counts as disputed since its due date
  (the ledger gives no date); the policy's ``pause_on_dispute`` and mediation rules apply to it.
* **One contact per customer.** A customer's actions of the day become one contact: the firmest letter
  (:data:`FIRMNESS`) goes out, the others are listed in ``other_actions``. A statement (friendly-overdue,
  firm, final notice, fee claim) lists every overdue invoice still in hand (disputed ones left out when the
  policy pauses on disputes); an offer, a pre-due note or a hand-over lists the invoices it is about.
* **Value at stake** is the customer's overdue balance still in hand, each invoice weighted by the model's
  collectability by age (:func:`~collectsim.model.behaviour.age_factor`: it halves every
  ``behaviour.response_halflife_days`` past due): the money a contact today can still move.
* **Capacity.** Contacts are taken in order of value at stake (then days overdue); their staff minutes
  (:func:`~collectsim.model.behaviour.work_minutes`, a contact taking as long as its longest reminder, as
  the simulation counts it) are summed against one day of the team (``[team]``; staff 0 = unlimited). The
  first contact that does not fit, and every one after it, is marked ``within_capacity = no``, never dropped
  (a contact longer than the whole day is done when it comes first, as the simulated team does it).

Nothing is sent. Pseudonymisation is the ledger's (``LedgerOptions.pseudonym_key``): the plan sees only
pseudonyms, so every output carries them.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from pathlib import Path

import pandas as pd

from collectsim.calibration.calibrate import ledger_segments
from collectsim.calibration.ledger import Ledger, LedgerError
from collectsim.config.company import SAMPLE_COMPANY, Company
from collectsim.config.policy_spec import CHANNELS, TONES, PolicySpec
from collectsim.config.scenario import Scenario
from collectsim.model import behaviour as rules
from collectsim.model.decisions import Action
from collectsim.model.policy_tables import (
    A_AGENCY,
    A_DISCOUNT,
    A_FEES,
    A_LEGAL,
    A_MEDIATE,
    A_PLAN,
    A_SETTLE,
    A_TERMS,
    A_WRITE_OFF,
    ACTION_STRIDE,
    MAX_ACTIONS,
    NO_REVIEW,
    P_ISSUED,
    P_REVIEW,
    PAUSE_ON_DISPUTE,
    PolicyTables,
    choose_target,
    profile_row,
    rule_decision,
    tables_of,
)
from collectsim.model.rule_policy import segment_actions
from collectsim.model.standing import NO_DISPUTE, ledger_history
from collectsim.present.letters import Addressee, Letter, OpenInvoice, letter_for_step, template_for_step
from collectsim.results.letters import STATEMENTS

#: Letters from the mildest to the firmest: a customer with several actions due gets the firmest one
#: (a hand-over to court above one to an agency).
FIRMNESS = ("discount-offer", "friendly-pre-due", "friendly-overdue", "terms-offer", "plan-offer", "firm",
            "fee-claim", "final-notice", "settlement-offer", "handover-notice")

#: What each action code is called in the plan, and the name :func:`template_for_step` knows it by.
_NAMED = {A_DISCOUNT: ("discount offer", "discount"), A_PLAN: ("plan offer", "plan"),
          A_TERMS: ("extended terms offer", "terms"), A_FEES: ("fee claim", "fees"),
          A_SETTLE: ("settlement offer", "settlement"), A_AGENCY: ("hand over to the agency", "agency"),
          A_LEGAL: ("legal action", "legal"), A_MEDIATE: ("bring in a mediator", ""),
          A_WRITE_OFF: ("write off", "")}
_OUT_OF_HAND = {A_AGENCY: "with the agency", A_LEGAL: "in court", A_WRITE_OFF: "written off"}
_TONE_OF = {"fee-claim": "firm", "handover-notice": "final", "settlement-offer": "friendly",
            "plan-offer": "friendly", "terms-offer": "friendly", "discount-offer": "friendly"}


class PlanError(ValueError):
    """A plan that cannot be made (as-of before the ledger, no open invoices, a bad window)."""


@dataclass(frozen=True)
class _Due:
    """One action the policy calls for on one invoice in the window."""

    invoice: int  # row of the open-invoice frame
    day: int  # ordinal
    code: int
    action: Action
    label: str
    template: str  # '' for actions that send nothing (write-off, mediation)
    step: object  # ReminderStep or a name for letter_for_step


@dataclass
class DayPlan:
    """A day's plan: one row per customer contact (``actions``), one per open invoice (``invoices``), the
    letters (aligned with the ``letter_file`` column of ``actions``), and notes on assumptions made."""

    actions: pd.DataFrame
    invoices: pd.DataFrame
    letters: dict[str, Letter] = field(default_factory=dict)
    notes: tuple[str, ...] = ()
    as_of: date | None = None
    since: date | None = None
    currency: str = "EUR"
    capacity_minutes: float | None = None
    sample_letters: bool = False

    def write(self, out: str | Path) -> list[Path]:
        """Write ``actions.csv``, ``invoices.csv`` and ``letters/<file>.txt`` and ``.html`` under ``out``."""
        from collectsim.files.exports import write_csv
        from collectsim.files.safe_output import write_text

        out = Path(out)
        (out / "letters").mkdir(parents=True, exist_ok=True)
        paths = [write_csv(self.actions, out / "actions.csv"), write_csv(self.invoices, out / "invoices.csv")]
        for stem, letter in self.letters.items():
            paths.append(write_text(out / "letters" / f"{stem}.txt", letter.text))
            paths.append(write_text(out / "letters" / f"{stem}.html", letter.html))
        return paths


def _ordinal(d) -> int:
    return pd.Timestamp(d).date().toordinal()


def _file_stem(priority: int, customer: str) -> str:
    """A safe file name for a customer's letter: its rank and id, other characters replaced."""
    safe = re.sub(r"[^A-Za-z0-9_-]+", "_", customer).strip("_")[:60] or "customer"
    return f"{priority:03d}-{safe}"


def _policy_rows(spec: PolicySpec, scenario: Scenario) -> tuple[PolicyTables, PolicyTables]:
    """The policy's tables per scenario segment, and its base rules (no override) in row 0 of the second."""
    return tables_of(spec, scenario), tables_of(replace(spec, segments={}), scenario)


def _replay(ints: list, offsets: list, issue: int, due: int, balance: int, disputed: bool, until: int
            ) -> tuple[list[tuple[int, int]], int]:
    """Every (day, action code) the policy calls for on an open invoice from its issue to ``until``, taking
    each as done and no offer as accepted; and the next decision day after ``until`` (NO_REVIEW: none).

    It stops at a hand-over or a write-off: the invoice is then out of the supplier's hands.
    """
    out = [0] * MAX_ACTIONS
    flags = {"plan": False, "terms": False, "fees": False, "settle": False, "mediated": False}
    done: list[tuple[int, int]] = []
    point, day = P_ISSUED, issue
    disputed_since = due if disputed else -1
    while day != NO_REVIEW and day <= until:
        n, review = rule_decision(ints, offsets, out, point, day, due, balance, disputed, False, flags["plan"],
                                  flags["terms"], False, flags["fees"], flags["settle"], disputed_since,
                                  flags["mediated"], False, False, -1)
        codes = [out[k] for k in range(n)]
        done.extend((day, c) for c in codes)
        for c in codes:
            key = {A_PLAN: "plan", A_TERMS: "terms", A_FEES: "fees", A_SETTLE: "settle", A_MEDIATE: "mediated"}.get(c)
            if key:
                flags[key] = True
        if any(c in _OUT_OF_HAND for c in codes):
            return done, NO_REVIEW
        point, day = P_REVIEW, review
    return done, day


def _describe(code: int, spec: PolicySpec) -> tuple[str, object]:
    """(label, step for letter_for_step or '') of an action code under the policy ``spec``."""
    if code % ACTION_STRIDE == 0:
        k = code // ACTION_STRIDE
        return f"reminder step {k + 1}", spec.reminders.steps[k]
    return _NAMED[code]


def _offer(code: int, action: Action) -> str:
    """What an offer or claim proposes, in words (empty for reminders and internal actions)."""
    if code == A_PLAN:
        return (f"plan: {action.down_payment:.0%} down, {action.instalments} instalments every "
                f"{action.interval_days} days")
    if code == A_TERMS:
        return "extended terms: " + ", ".join(f"{share:.0%} at +{days} days" for days, share in action.milestones)
    if code == A_SETTLE:
        return f"settle for {1 - action.forgive:.0%} of the balance"
    if code == A_DISCOUNT:
        return f"{action.rate:.1%} discount within {action.window_days} days of issue"
    if code == A_FEES:
        return "claim statutory interest and compensation"
    return ""


def ledger_standing(rows: pd.DataFrame, day: int) -> tuple[int, int, int, int, int, int, int]:
    """A customer's standing on the morning of ``day`` (an ordinal date) as its ledger rows show it, in the
    arguments of :func:`~collectsim.model.policy_tables.choose_target`: tenure (days since its first invoice),
    open balance (cents), total and count of days late over its last invoices paid before ``day``, the most days
    overdue among its open invoices, its open disputed invoices, and days since its last dispute.

    The ledger dates no dispute: a disputed invoice counts as disputed from its due date (as the plan's ladder
    takes it). So a target selects ledger customers by the same figures the engines keep for simulated ones.
    """
    issue = rows["_issue"].to_numpy()
    due = rows["_due"].to_numpy()
    paid = rows["_paid"].to_numpy()
    first, late, _, last = ledger_history(issue.tolist(), due.tolist(), paid.tolist(),
                                          rows["_disputed"].to_numpy().tolist(), day)
    if first is None:
        return 0, 0, 0, 0, 0, 0, day - NO_DISPUTE
    still_open = (issue < day) & ((paid < 0) | (paid >= day))
    balance = int(rows["amount_cents"].to_numpy()[still_open].sum())
    overdue = max([0] + [day - int(d) for d in due[still_open]])
    disputes = int((rows["_disputed"].to_numpy() & still_open & (due < day)).sum())
    tenure = day - first
    return tenure, balance, sum(late), len(late), overdue, disputes, day - last


def plan_actions(ledger: Ledger, scenario: Scenario, policy: str | PolicySpec, as_of: date,
                 since: date | None = None, *, company: Company | None = None, company_source: str = "company",
                 letters: bool = True) -> DayPlan:
    """The actions due under ``policy`` on the open invoices of ``ledger`` in (``since``, ``as_of``].

    ``scenario`` gives the segments, the team and the economics (currency, reference rate, debt-age
    curve); ``policy`` is one of its policies by name, or a :class:`PolicySpec`. The letters are written
    for ``company`` (default: the scenario's ``[company]``, else the marked :data:`SAMPLE_COMPANY`).
    Raises :class:`PlanError` (as-of before the ledger's dates, ``since`` not before ``as_of``), LedgerError
    (no open invoice) and ScenarioError (unknown policy, a company profile a sendable letter cannot use).
    """
    spec = scenario.policy(policy) if isinstance(policy, str) else policy
    since = since if since is not None else as_of - timedelta(days=1)
    if since >= as_of:
        raise PlanError(f"--since {since} must be before the as-of date {as_of}")
    frame = ledger.frame
    latest = max(frame[c].max() for c in ("issue_date", "paid_date") if frame[c].notna().any()).date()
    if as_of < latest:
        raise PlanError(f"{ledger.source}: the as-of date {as_of} is before the ledger's latest date {latest} "
                        "(an invoice issued or paid then); plan on the date of the export or later")
    open_rows = frame[frame["paid_date"].isna()].reset_index(drop=True)
    if open_rows.empty:
        raise LedgerError(ledger.source, "no open invoices (every row has a paid_date): nothing to plan")
    econ, currency = scenario.economics, scenario.economics.currency
    if company is None:
        company, company_source = scenario.company, scenario.source
    sample = not company.given
    if sample:
        company = SAMPLE_COMPANY

    names = [s.name for s in scenario.portfolio.segments]
    tables, base = _policy_rows(spec, scenario)
    seg_of = ledger_segments(frame)
    open_rows["customer_id"] = open_rows["customer_id"].astype(str)
    customers = open_rows["customer_id"].unique()
    unknown = sorted({seg_of[c] for c in customers if seg_of[c] not in names})
    notes = []
    if unknown:
        notes.append(f"the scenario has no segment {', '.join(repr(u) for u in unknown)} (segments: "
                     f"{', '.join(names)}); the policy's base rules, without segment overrides, apply to those "
                     "customers")
    unused = sorted(set(spec.segments) - set(names))
    if unused:
        notes.append(f"policy {spec.name!r} has overrides for {', '.join(repr(u) for u in unused)}, which the "
                     "scenario's segments do not include: they are not used")
    rows_of = {}  # (segment name or None, target) -> (ints, offsets, actions, spec)
    for t in range(len(spec.targets) + 1):
        for s, name in enumerate(names):
            row = profile_row(tables.selectors, s, t)
            rows_of[name, t] = (tables.ints[row].tolist(), tables.step_offset[row].tolist(),
                                segment_actions(tables, row), spec.for_target(name, t))
        row = profile_row(base.selectors, 0, t)
        rows_of[None, t] = (base.ints[row].tolist(), base.step_offset[row].tolist(), segment_actions(base, row),
                            replace(spec, segments={}).for_target(names[0], t))
    target_names = ("",) + spec.target_names()
    history = frame.assign(customer_id=frame["customer_id"].astype(str), _issue=frame["issue_date"].map(_ordinal),
                           _due=frame["due_date"].map(_ordinal),
                           _paid=[_ordinal(d) if not pd.isna(d) else -1 for d in frame["paid_date"]],
                           _disputed=(frame["disputed"].fillna(False).astype(bool) if "disputed" in frame
                                      else False))
    history_of = {c: g for c, g in history.groupby("customer_id", sort=False)}

    day0, first = as_of.toordinal(), since.toordinal()
    halflife = scenario.behaviour.response_halflife_days
    inv_rows, due_acts = [], []
    for i, r in open_rows.iterrows():
        seg = seg_of[r["customer_id"]]
        issue, due = _ordinal(r["issue_date"]), _ordinal(r["due_date"])
        # The target its customer's standing selected when it was issued (an invoice keeps it, as in a run).
        target = choose_target(tables.selectors, *ledger_standing(history_of[r["customer_id"]], issue)) \
            if spec.targets else 0
        key = (seg if seg in names else None, target)
        ints, offsets, actions, seg_spec = rows_of[key]
        disputed = bool(r["disputed"]) if "disputed" in r and not pd.isna(r["disputed"]) else False
        done, review = _replay(ints, offsets, issue, due, int(r["amount_cents"]), disputed, day0)
        out_of_hand = [(d, c) for d, c in done if c in _OUT_OF_HAND]
        today = [(d, c) for d, c in done if d > first]
        steps = [(d, c) for d, c in today if c % ACTION_STRIDE == 0]
        today = [x for x in today if x[1] % ACTION_STRIDE or x == steps[-1]]  # the latest step supersedes
        for d, c in today:
            label, step = _describe(c, seg_spec)
            template = template_for_step(step, day0 - due) if step else ""
            due_acts.append(_Due(i, d, c, actions[c], label, template, step))
        late = day0 - due
        if out_of_hand:
            d, c = out_of_hand[0]
            stage = f"{_OUT_OF_HAND[c]} since {date.fromordinal(d)}"
        elif disputed:
            stage = "disputed" + (", reminders paused" if ints[PAUSE_ON_DISPUTE] else "")
        else:
            stage = "not yet due" if late <= 0 else f"{late} days overdue"
        last = [(d, c) for d, c in done if d <= first]
        inv_rows.append({
            "customer_id": r["customer_id"], "invoice_id": r["invoice_id"],
            "issue_date": r["issue_date"].date(), "due_date": r["due_date"].date(),
            f"open_{currency}": int(r["amount_cents"]) / 100, "days_overdue": max(0, late),
            "disputed": "yes" if disputed else "no", "stage": stage,
            "last_action_before_window": _describe(last[-1][1], seg_spec)[0] if last else "",
            "last_action_date": date.fromordinal(last[-1][0]) if last else "",
            "actions_due": "; ".join(_describe(c, seg_spec)[0] for _, c in today),
            "next_decision_date": date.fromordinal(review) if review != NO_REVIEW and not out_of_hand else "",
            "_in_hand": not [x for x in out_of_hand if x[0] <= first],
            "_out_today": bool([x for x in out_of_hand if x[0] > first]),
            "_pause": bool(ints[PAUSE_ON_DISPUTE]), "_disputed": disputed, "_late": late,
            "policy_target": target_names[target] or "base",
            "_segment": seg if seg in names else None, "_key": key,
            "_rules": _rules_named(key, target_names, set(spec.segments)),
        })
    inv = pd.DataFrame(inv_rows)

    contacts = _contacts(open_rows, inv, due_acts, rows_of, seg_of, as_of, currency, halflife,
                         scenario)
    plan_letters: dict[str, Letter] = {}
    for k, c in enumerate(contacts):
        c["priority"] = k + 1
    _capacity(contacts, scenario.team.daily_minutes)
    for c in contacts:
        main = c.pop("_main")
        on_letter = c.pop("_on_letter")
        spec_c = c.pop("_spec")
        c["letter_file"] = ""
        c[f"interest_{currency}"], c[f"compensation_{currency}"] = 0.0, 0.0
        if main is None or not letters:
            continue
        r0 = open_rows.loc[on_letter[0]]
        who = str(r0["customer_name"]) if "customer_name" in open_rows and str(r0["customer_name"]).strip() \
            else str(r0["customer_id"])
        invoices = [OpenInvoice(str(open_rows.at[j, "invoice_id"]), open_rows.at[j, "issue_date"].date(),
                                open_rows.at[j, "due_date"].date(), int(open_rows.at[j, "amount_cents"]),
                                int(open_rows.at[j, "amount_cents"])) for j in on_letter]
        letter = letter_for_step(main.step, Addressee(who), invoices, as_of=as_of, company=company, policy=spec_c,
                                 currency=currency, reference_rate=econ.reference_rate, sample=sample,
                                 company_source=company_source)
        stem = _file_stem(c["priority"], c["customer_id"])
        plan_letters[stem] = letter
        c["letter_file"] = f"letters/{stem}.txt"
        c[f"interest_{currency}"] = letter.interest_cents / 100
        c[f"compensation_{currency}"] = letter.compensation_cents / 100
    actions = pd.DataFrame(contacts, columns=_columns(currency, "customer_name" in open_rows))
    invoices_out = inv[[c for c in inv.columns if not c.startswith("_")]]
    if sample and plan_letters:
        notes.append("no company profile given: the letters are marked SAMPLE (give --company FILE or a "
                     "[company] table in the scenario)")
    return DayPlan(actions, invoices_out, plan_letters, tuple(notes), as_of, since, currency,
                   scenario.team.daily_minutes, sample)


def _columns(currency: str, named: bool) -> list[str]:
    return (["priority", "customer_id"] + (["customer_name"] if named else [])
            + ["segment", "policy_rules", "action", "channel", "tone", "letter_template", "offer", "escalation",
               "invoices_due", "invoices_on_letter", "other_actions", "deferred_actions", "open_invoices",
               f"overdue_{currency}", f"open_{currency}", "max_days_overdue_days", f"value_at_stake_{currency}",
               f"interest_{currency}", f"compensation_{currency}", "work_minutes", "cumulative_minutes",
               "within_capacity", "letter_file"])


def _contacts(open_rows: pd.DataFrame, inv: pd.DataFrame, due_acts: Sequence[_Due], rows_of: dict,
              seg_of: pd.Series, as_of: date, currency: str, halflife: float,
              scenario: Scenario) -> list[dict]:
    """One row per customer with an action due, sorted by value at stake (then days overdue, then id)."""
    by_customer: dict[str, list[_Due]] = {}
    for a in due_acts:
        by_customer.setdefault(open_rows.at[a.invoice, "customer_id"], []).append(a)
    rows_by_customer = inv.groupby("customer_id", sort=False).indices
    out = []
    for cust, acts in by_customer.items():
        mine = list(rows_by_customer[cust])
        seg = inv.at[mine[0], "_segment"]
        letter_acts = [a for a in acts if a.template]
        main = max(letter_acts, key=lambda a: (FIRMNESS.index(a.template), a.code == A_LEGAL, a.code, a.day),
                   default=None)
        key = inv.at[main.invoice if main is not None else mine[0], "_key"]
        spec_c = rows_of[key][3]
        still = [j for j in mine if inv.at[j, "_in_hand"] and not inv.at[j, "_out_today"]]
        if main is None:
            on_letter: list[int] = []
        elif main.template in STATEMENTS:
            on_letter = [j for j in still if inv.at[j, "_late"] > 0
                         and not (inv.at[j, "_disputed"] and inv.at[j, "_pause"])]
            on_letter = sorted(set(on_letter) | {a.invoice for a in letter_acts if a.template == main.template})
        else:
            on_letter = sorted({a.invoice for a in letter_acts
                                if a.template == main.template and a.code == main.code})
        in_hand = [j for j in mine if inv.at[j, "_in_hand"]]
        overdue = [j for j in mine if inv.at[j, "_late"] > 0]
        stake = sum(int(open_rows.at[j, "amount_cents"]) * rules.age_factor(int(inv.at[j, "_late"]), halflife)
                    for j in in_hand if inv.at[j, "_late"] > 0)
        covered = [a for a in letter_acts if main is not None and a.invoice in on_letter
                   and (a.template == main.template or {a.template, main.template} <= set(STATEMENTS))]
        internal = [a for a in acts if not a.template]
        deferred = [a for a in letter_acts if a not in covered]
        minutes = _minutes(covered + internal, scenario.team)
        channel = tone = ""
        if main is not None:
            ch = main.action.channel
            channel = CHANNELS[ch] if ch >= 0 else "letter"
            tone = TONES[main.action.tone] if main.code % ACTION_STRIDE == 0 else _TONE_OF.get(main.template, "")
        escal = sorted({a.label for a in acts if a.code in (A_AGENCY, A_LEGAL, A_WRITE_OFF, A_MEDIATE)})
        ids = lambda rows: "; ".join(str(open_rows.at[j, "invoice_id"]) for j in rows)  # noqa: E731
        row = {
            "customer_id": cust, "segment": seg if seg is not None else f"(none: {seg_of[cust]})",
            "policy_rules": inv.at[main.invoice if main is not None else mine[0], "_rules"],
            "action": main.label if main is not None else "; ".join(sorted({a.label for a in acts})),
            "channel": channel, "tone": tone, "letter_template": main.template if main is not None else "",
            "offer": _offer(main.code, main.action) if main is not None else "",
            "escalation": "; ".join(escal),
            "invoices_due": ids(sorted({a.invoice for a in acts})), "invoices_on_letter": ids(on_letter),
            "other_actions": _listed(internal, open_rows), "deferred_actions": _listed(deferred, open_rows),
            "open_invoices": len(mine),
            f"overdue_{currency}": sum(int(open_rows.at[j, "amount_cents"]) for j in overdue) / 100,
            f"open_{currency}": sum(int(open_rows.at[j, "amount_cents"]) for j in mine) / 100,
            "max_days_overdue_days": max(0, max(int(inv.at[j, "_late"]) for j in mine)),
            f"value_at_stake_{currency}": round(stake / 100, 2), "work_minutes": round(minutes, 2),
            "_main": main, "_on_letter": on_letter, "_spec": spec_c,
        }
        if "customer_name" in open_rows:
            row["customer_name"] = str(open_rows.at[mine[0], "customer_name"])
        out.append(row)
    out.sort(key=lambda r: (-r[f"value_at_stake_{currency}"], -r["max_days_overdue_days"], r["customer_id"]))
    return out


def _rules_named(key: tuple, target_names: Sequence[str], overrides: set) -> str:
    """Which of the policy's rules a contact follows, in the policy file's words."""
    seg, target = key
    parts = [f"target {target_names[target]}"] if target else []
    if seg in overrides:
        parts.append(f"override for segment {seg}")
    return ", ".join(parts) or "base policy"


def _listed(acts: Sequence[_Due], open_rows: pd.DataFrame) -> str:
    return "; ".join(f"{a.label} on {open_rows.at[a.invoice, 'invoice_id']}"
                     for a in sorted(acts, key=lambda a: (a.invoice, a.day)))


def _minutes(acts: Sequence[_Due], team) -> float:
    """Staff minutes of a customer's contact and tasks, as the simulation counts them: a contact takes as long as
    its longest reminder step (:func:`~collectsim.model.behaviour.contact_extra`); every other action its own."""
    minutes, longest = 0.0, 0.0
    for a in acts:
        m = rules.work_minutes(int(a.action.kind), a.action.channel, team.minutes_email, team.minutes_letter,
                               team.minutes_call)
        if a.code % ACTION_STRIDE == 0:
            minutes += rules.contact_extra(longest > 0, m, longest)
            longest = max(longest, m)
        else:
            minutes += m
    return minutes


def _capacity(contacts: list[dict], daily: float | None) -> None:
    """Cumulative minutes in priority order, and whether each contact fits in one day of the team.

    As the simulated team works: strict order, the first contact that does not fit ends the day, and one
    longer than a whole day is done when it comes first. A contact that takes no staff time (a write-off)
    always fits; with unlimited capacity (``daily`` None) all do.
    """
    used, full = 0.0, False
    for c in contacts:
        minutes = c["work_minutes"]
        if daily is None or minutes == 0:
            fits = True
        else:
            full = full or (used + minutes > daily + 1e-9 and used > 0)
            fits = not full
        used += minutes
        c["cumulative_minutes"] = round(used, 2)
        c["within_capacity"] = "yes" if fits else "no"


def summary_lines(plan: DayPlan, out: str | Path | None = None) -> list[str]:
    """A few lines for the terminal: contacts, how many fit the team's day, the overdue total, where files are."""
    a, cur = plan.actions, plan.currency
    fits = int((a["within_capacity"] == "yes").sum()) if len(a) else 0
    cap = ("unlimited team capacity" if plan.capacity_minutes is None
           else f"{plan.capacity_minutes:,.0f} team minutes")
    window = (f"on {plan.as_of}" if plan.since == plan.as_of - timedelta(days=1)
              else f"from {plan.since + timedelta(days=1)} to {plan.as_of}")
    lines = [f"{len(a)} customer contacts due {window}; {fits} within {cap} "
             f"({a['work_minutes'].sum() if len(a) else 0:,.0f} minutes needed)",
             f"overdue balance of the customers contacted: {a[f'overdue_{cur}'].sum() if len(a) else 0:,.2f} {cur}; "
             f"of all open invoices: {plan.invoices.loc[plan.invoices['days_overdue'] > 0, f'open_{cur}'].sum():,.2f}"
             f" {cur}"]
    lines += [f"note: {n}" for n in plan.notes]
    if out is not None:
        lines.append(f"written to {out}/: actions.csv (one row per contact, in priority order), invoices.csv "
                     f"(every open invoice and its stage), letters/ ({len(plan.letters)} letters as .txt and "
                     ".html); nothing was sent")
    return lines


