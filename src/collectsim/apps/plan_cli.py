"""``collectsim plan LEDGER.csv --scenario FITTED.toml --as-of DATE --out DIR``: today's collection work.

Reads the ledger as ``calibrate`` does (mapping file, ``--column`` options, pseudonymisation), decides with
the policy (:func:`collectsim.present.plan.plan_actions`) and writes ``actions.csv``, ``invoices.csv`` and one
letter per customer contact. Nothing is sent. Bad input is one line on stderr and exit code 2.
"""

from __future__ import annotations

import argparse
import datetime as dt
import re
import sys
from pathlib import Path

from collectsim.apps.calibrate_cli import add_ledger_options, add_pseudonym_options, ledger_options
from collectsim.calibration.ledger import LedgerError, read_ledger
from collectsim.config.scenario import is_strategy_file, load_scenario, load_strategy, read_toml
from collectsim.config.schema import ScenarioError
from collectsim.files.safe_output import check_dir, remove

DESCRIPTION = """\
Today's actions under a policy for every open invoice of a ledger (invoices without a paid_date): whom to
contact, by which channel and tone, which letter, which plan, terms, settlement or discount to offer, which
account to hand to an agency or a court or to write off. Nothing is sent.

How it decides:
  * The policy's own decision function (the one the simulation runs) is replayed on each open invoice from
    its issue date. The ledger does not say which reminders went out: every earlier action of the policy is
    taken as done, and no offer as accepted. An invoice handed over or written off earlier gets no action.
  * An action is due when its day falls in (--since, --as-of]; --since defaults to the day before --as-of.
    Of several reminder steps of one invoice in the window only the latest is due. The policy's least gap
    between contacts is not applied (the ledger does not say when a customer was last contacted).
  * A customer's segment is the one `collectsim calibrate` put it in (the ledger's segment and channel
    columns); if the scenario has no segment of that name, the policy's base rules apply (said on screen).
  * Disputed invoices (the ledger's disputed column) count as disputed since their due date; the policy's
    pause_on_dispute and mediation apply.
  * One contact per customer: the firmest letter of its actions goes out (the others are listed in
    deferred_actions; write-offs and mediation in other_actions); a statement lists every overdue invoice
    still in hand (disputed ones left out under pause_on_dispute).
  * Value at stake: the customer's overdue balance still in hand, each invoice weighted by the model's
    collectability by age (halving every behaviour.response_halflife_days past due).
  * Capacity: contacts in order of value at stake, their staff minutes summed against one day of the
    scenario's [team] (staff 0 = unlimited); from the first contact that does not fit, rows say
    within_capacity = no. None is dropped.

Writes to --out: actions.csv (one row per customer contact, in priority order, money in the scenario's
currency), invoices.csv (every open invoice, its stage and the actions due), letters/NNN-CUSTOMER.txt and
.html (one per contact, via the letter templates). --pseudonymise replaces customer ids and names in all
of them."""


def add_parser(sub: argparse._SubParsersAction) -> None:
    """The ``plan`` subcommand and its options."""
    p = sub.add_parser("plan", help="today's actions and letters for the open invoices of a ledger (nothing is sent)",
                       description=DESCRIPTION, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("ledger", type=Path, metavar="LEDGER.csv")
    p.add_argument("--scenario", type=Path, required=True, metavar="SCENARIO.toml",
                   help="the scenario (e.g. written by `collectsim calibrate`): segments, team, economics, policies")
    p.add_argument("--policy", metavar="NAME|STRATEGY.toml",
                   help="a policy of the scenario by name, or a strategy file (default: the scenario's first policy)")
    p.add_argument("--as-of", type=dt.date.fromisoformat, required=True, metavar="YYYY-MM-DD", dest="day",
                   help="the day to plan (on or after the ledger's latest date)")
    p.add_argument("--since", type=dt.date.fromisoformat, metavar="YYYY-MM-DD",
                   help="actions due after this day count (default: the day before --as-of)")
    p.add_argument("--out", type=Path, required=True, metavar="DIR", help="folder for actions.csv and letters/")
    p.add_argument("--company", type=Path, metavar="FILE",
                   help="company profile for the letters (a [company] table; default: the scenario's, else "
                        "marked sample letters)")
    add_ledger_options(p)
    p.add_argument("--lenient", action="store_true",
                   help="skip bad ledger rows into DIR/rejects.csv instead of stopping at the first")
    add_pseudonym_options(p)


def _policy(value: str | None, scenario):
    """A policy of the scenario by name, or the one policy of a strategy file."""
    if value and value.endswith(".toml") and Path(value).is_file() and is_strategy_file(read_toml(Path(value))):
        return load_strategy(Path(value))
    return scenario.policy(value)


def _clear_old_letters(folder: Path) -> None:
    """Letters of an earlier plan in ``folder`` go, so the folder never mixes two days (only files it wrote)."""
    if folder.is_dir():
        remove(p for p in folder.iterdir() if re.fullmatch(r"\d{3}-[A-Za-z0-9_-]+\.(txt|html)", p.name))


def run(args: argparse.Namespace) -> int:
    """Handle ``collectsim plan``; returns the exit code."""
    from collectsim.config.company import load_company
    from collectsim.present.letters import LetterError
    from collectsim.present.plan import PlanError, plan_actions, summary_lines

    try:
        check_dir(args.out)
        options = ledger_options(argparse.Namespace(**{**vars(args), "as_of": None}))
        scenario = load_scenario(args.scenario)
        policy = _policy(args.policy, scenario)  # an unknown name fails before the ledger is read
        company = load_company(args.company) if args.company else None
        ledger = read_ledger(args.ledger, options, strict=not args.lenient)
        for note in ledger.notes:
            print(note)
        for warning in ledger.warnings:
            print(f"warning: {warning}")
        if len(ledger.frame) == 0:
            raise LedgerError(str(args.ledger), "no invoice survived the checks; nothing to plan"
                              + (f"; {ledger.diagnosis}" if ledger.diagnosis else ""))
        plan = plan_actions(ledger, scenario, policy, args.day, args.since, company=company,
                            company_source=str(args.company or scenario.source))
        args.out.mkdir(parents=True, exist_ok=True)
        if len(ledger.rejects):
            ledger.write_rejects(args.out / "rejects.csv")
            print(f"{len(ledger.rejects)} of {ledger.input_rows} rows rejected and left out of the plan, each with "
                  f"its line and reason: {args.out / 'rejects.csv'}; {ledger.diagnosis}")
        _clear_old_letters(args.out / "letters")
        plan.write(args.out)
        print(f"policy {policy.name!r} on {ledger.frame['paid_date'].isna().sum()} open invoices of "
              f"{args.ledger.name}")
        print("\n".join(summary_lines(plan, args.out)))
        return 0
    except (LedgerError, ScenarioError, PlanError, LetterError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
