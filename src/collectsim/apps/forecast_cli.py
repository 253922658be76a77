"""``collectsim forecast LEDGER.csv --scenario FITTED.toml --out DIR``: the command-line face of the cash forecast.

Reads the ledger (the mapping options of ``collectsim calibrate``), starts the fitted scenario from its open book,
runs each policy and writes ``forecast.csv`` and ``forecast.png`` into DIR; prints a plain summary. The logic is in
:mod:`collectsim.calibration.forecast`. Bad input is one line on stderr and exit code 2.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
from pathlib import Path

from collectsim.apps.argtypes import seed
from collectsim.apps.calibrate_cli import add_ledger_options, ledger_options
from collectsim.calibration.ledger import LedgerError, read_ledger
from collectsim.calibration.opening import cut_ledger
from collectsim.config.policy_spec import parse_policy
from collectsim.config.scenario import Scenario, load_scenario, load_strategy
from collectsim.config.schema import ScenarioError, as_raw
from collectsim.files.safe_output import check_dir


def _count(low: int, high: int, what: str):
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
        if not low <= value <= high:
            raise argparse.ArgumentTypeError(f"{what} must be from {low} to {high}, not {text}")
        return value
    return parse


def add_parser(sub: argparse._SubParsersAction) -> None:
    """The ``forecast`` subcommand and its options."""
    p = sub.add_parser("forecast", help="weekly cash expected from your open ledger and new sales, per policy")
    p.add_argument("ledger", type=Path, metavar="LEDGER.csv")
    p.add_argument("--scenario", type=Path, required=True, metavar="FITTED.toml",
                   help="the scenario fitted to this ledger (collectsim calibrate)")
    p.add_argument("--policies", metavar="A,B",
                   help="policy names of the scenario, or strategy files (.toml), comma-separated (default: all)")
    p.add_argument("--weeks", type=_count(1, 104, "--weeks"), default=13, help="weeks to forecast (default 13)")
    p.add_argument("--replications", type=_count(2, 100_000, "--replications"), default=200,
                   help="runs per policy; the bands are their percentiles (default 200)")
    p.add_argument("--seed", type=seed, help="base seed (default: the scenario's)")
    p.add_argument("--out", type=Path, required=True, metavar="DIR", help="folder for forecast.csv and forecast.png")
    p.add_argument("--summary-weeks", type=_count(1, 104, "--summary-weeks"), default=4,
                   help="weeks the printed summary adds up (default 4)")
    p.add_argument("--backtest", type=_count(0, 52, "--backtest"), default=0, metavar="CUTS",
                   help="also backtest: forecast from the ledger cut at CUTS earlier dates, --weeks apart, and count "
                        "the weeks whose actual cash fell in the 80%% band (writes backtest.csv)")
    add_ledger_options(p)
    p.add_argument("--as-of", type=dt.date.fromisoformat, metavar="YYYY-MM-DD",
                   help="the ledger's date: invoices and payments after it are ignored, and the forecast starts "
                        "the day after (default: the latest date in the file)")
    p.set_defaults(pseudonymise=False, key_file=None)


def policy_specs(scenario: Scenario, names: str | None) -> tuple[Scenario, list[str], list[str]]:
    """The scenario with any strategy files added, the policy names to forecast, and notes on what was adapted.

    A strategy file's overrides for segments the scenario does not have (a playbook strategy written for the
    bundled scenarios, used on a fitted one) are left out, with a note: its base rules apply to every customer.
    """
    if not names:
        return scenario, [p.name for p in scenario.policies], []
    chosen, added, notes = [], [], []
    for item in (n.strip() for n in names.split(",") if n.strip()):
        if item.endswith(".toml"):
            spec = load_strategy(Path(item))
            known = {s.name for s in scenario.portfolio.segments}
            dropped = sorted(set(spec.segments) - known)
            if dropped:
                raw = as_raw(spec)
                raw["segments"] = {k: v for k, v in spec.segments.items() if k in known}
                spec = parse_policy(raw, "policy", item)
                notes.append(f"note: {spec.name}'s overrides for segment(s) {', '.join(dropped)} are not used (the "
                             "scenario has no such segment); its base rules apply to those customers")
            if all(p.name != spec.name for p in (*scenario.policies, *added)):
                added.append(spec)
            chosen.append(spec.name)
        else:
            scenario.policy(item)  # a one-line error naming the policies there are
            chosen.append(item)
    if added:
        scenario = scenario.with_policies(*scenario.policies, *added)
    return scenario, chosen, notes


def run(args: argparse.Namespace) -> int:
    """Handle ``collectsim forecast``; returns the exit code."""
    from collectsim.calibration.forecast import forecast, sample_backtest

    try:
        check_dir(args.out, "--out")
        as_of, args.as_of = args.as_of, None  # read the whole file, then cut it at --as-of
        ledger = read_ledger(args.ledger, ledger_options(args))
        if as_of is not None:
            ledger = cut_ledger(ledger, as_of)
        for warning in ledger.warnings:
            print(f"warning: {warning}", file=sys.stderr)
        scenario, names, notes = policy_specs(load_scenario(args.scenario), args.policies)
        for note in notes:
            print(note, file=sys.stderr)
        result = forecast(ledger, scenario, names, weeks=args.weeks, replications=args.replications,
                          seed=args.seed, progress=True)
    except (LedgerError, ScenarioError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    args.out.mkdir(parents=True, exist_ok=True)
    csv = result.to_csv(args.out / "forecast.csv")
    png = result.write_png(args.out / "forecast.png")
    print(result.summary(args.summary_weeks))
    print(f"written: {csv}, {png}")
    if args.backtest:
        test = sample_backtest(ledger, scenario, n_cuts=args.backtest, weeks=args.weeks,
                               replications=args.replications, seed=args.seed, progress=True)
        if len(test.frame) == 0:
            print("backtest: the ledger is too short for a cut with weeks to compare", file=sys.stderr)
            return 0
        from collectsim.files.exports import write_csv
        path = write_csv(test.frame, args.out / "backtest.csv")
        print(test.summary())
        print(f"written: {path}")
    return 0



