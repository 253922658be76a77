"""The ``collectsim`` command: check scenario files, simulate them, compare, sweep and optimise policies, fit and
report.

Errors in the user's files are one line on stderr and exit code 2, never a traceback.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
import textwrap
import tomllib
import warnings
from dataclasses import replace
from importlib.metadata import version
from pathlib import Path

from collectsim.apps.argtypes import seed
from collectsim.config.scenario import is_strategy_file, load_scenario, load_strategy, read_toml
from collectsim.config.schema import NO_VALUE, ScenarioError, one_line
from collectsim.engines.base import ENGINES, EngineFallbackWarning
from collectsim.engines.simulate import simulate
from collectsim.experiments.capacity import check_memory
from collectsim.experiments.compare import Comparison, compare
from collectsim.experiments.executors import WorkersFailed
from collectsim.experiments.recommend import OBJECTIVE, RecommendError, check_objective, objectives, parse_constraints
from collectsim.experiments.replication import replication_of
from collectsim.experiments.sweep import sweep
from collectsim.files.safe_output import check_component, check_dir, check_file, write_text
from collectsim.present import plots
from collectsim.present.narrative import net_value_table
from collectsim.present.numbers import plain_table
from collectsim.present.robustness_text import robustness_lines
from collectsim.results.metric_info import METRIC_NAMES, info, metric_rows
from collectsim.results.metrics import Metrics

EXIT_BAD_INPUT = 2


def _positive(kind):
    """An argparse type: a number of ``kind`` above zero, with a one-line error otherwise."""
    def parse(text: str):
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not {'a whole number' if kind is int else 'a number'}") \
                from None
        if not value > 0:
            raise argparse.ArgumentTypeError(f"{text} must be above 0")
        return value
    return parse


#: The metrics --metric accepts, for the help text.
_METRIC_LIST = ", ".join(METRIC_NAMES)


class _Parser(argparse.ArgumentParser):
    """argparse with its usage errors as one line on stderr and exit code 2 (no usage block)."""

    def error(self, message: str):
        self.exit(EXIT_BAD_INPUT, f"{self.prog}: error: {' '.join(message.split())}\n")


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="collectsim", description="Simulate a receivables portfolio under collection policies and compare them.")
    parser.add_argument("--version", action="version", version=f"collectsim {version('collectsim')}")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    validate = sub.add_parser("validate", help="check scenario and strategy files")
    validate.add_argument("files", nargs="+", type=Path, metavar="FILE")

    run = sub.add_parser("run", help="simulate a scenario under one policy")
    run.add_argument("scenario", type=Path, metavar="SCENARIO")
    which = run.add_mutually_exclusive_group()
    which.add_argument("--policy", help="policy name (default: the scenario's first policy)")
    which.add_argument("--all", action="store_true",
                       help="run every policy of the scenario and show them side by side")
    run.add_argument("--seed", type=seed, help="run seed (default: the scenario's seed)")
    run.add_argument("--out", type=Path, metavar="DIR", help="write metrics, daily series and the event log here")
    run.add_argument("--json", action="store_true", help="print the metrics as one JSON object")
    run.add_argument("--engine", choices=ENGINES, default="auto",
                     help="auto (default: compiled where it covers the policy), simpy (the reference) or "
                          "compiled (same results; falls back to simpy, with a warning, for a decision maker it "
                          "does not cover); vectorised is an old name of compiled")
    _recommendation_options(run, " (with --all)")

    compare = sub.add_parser("compare", help="compare policies over replications (common random numbers)")
    compare.add_argument("scenario", type=Path, metavar="SCENARIO")
    compare.add_argument("--policies", help="comma-separated policy names (default: all of the scenario's)")
    how_many = compare.add_mutually_exclusive_group()
    how_many.add_argument("--reps", type=_positive(int), help="replications per policy (default 10)")
    how_many.add_argument("--target-halfwidth", type=_positive(float), metavar="X",
                          help="add replications until every difference in --metric is known to +/- X")
    compare.add_argument("--metric", default="cash_collected", metavar="METRIC",
                         help="metric for --target-halfwidth (default cash_collected); one of: " + _METRIC_LIST)
    compare.add_argument("--max-reps", type=_positive(int), default=200, help="upper limit in sequential mode")
    compare.add_argument("--robustness", action="store_true",
                         help="run the comparison again with each uncertain behaviour assumption (order elasticity, "
                              "churn response, reminder response, goodwill recovery, agency success) at a low and a "
                              "high value, one at a time, and label each headline verdict against the first policy "
                              "robust or 'depends on' the assumptions that change it (as many replications per "
                              "setting, at least 5; about ten times the runs)")
    _recommendation_options(compare)
    _common_job_options(compare)

    sweep = sub.add_parser("sweep", help="vary policy keys over a grid, every point replicated")
    sweep.add_argument("scenario", type=Path, metavar="SCENARIO")
    sweep.add_argument("--policy", help="base policy (default: the scenario's first)")
    sweep.add_argument("--grid", action="append", required=True, metavar="KEY=V1,V2,...",
                       help="a dotted policy key and its values (TOML literals); repeat for more keys")
    sweep.add_argument("--reps", type=_positive(int), default=5, help="replications per point (default 5)")
    sweep.add_argument("--metric", default="cash_collected", metavar="METRIC",
                       help="metric for the plot (default cash_collected); one of: " + _METRIC_LIST)
    _common_job_options(sweep)

    opt = sub.add_parser("optimise", help="search a policy's levers for the best policy under an objective and "
                                          "constraints; the winner is re-checked on fresh replications")
    opt.add_argument("scenario", type=Path, metavar="SCENARIO")
    opt.add_argument("--from", dest="from_policy", metavar="POLICY",
                     help="the starting policy (default: the scenario's first); it races too")
    opt.add_argument("--levers", nargs="+", action="extend", required=True, metavar="KEY=LO:HI[:STEP]",
                     help="dotted policy keys and the values to try: LO:HI:STEP (whole numbers stay whole), LO:HI "
                          "(5 values evenly spaced) or A,B,C (e.g. tones: reminders.steps.0.tone=friendly,firm); "
                          "list items by index from 0")
    opt.add_argument("--budget", type=_positive(int), default=2000,
                     help="policy-replications in all, the fresh comparison's included (default 2000)")
    opt.add_argument("--holdout-reps", type=_positive(int), default=20, metavar="N",
                     help="fresh replications re-estimating the best policy against the start (default 20)")
    _recommendation_options(opt, " and the search")
    _common_job_options(opt, out_required=True)

    letters = sub.add_parser("letters", help="render a sample of each letter a policy sends (text and HTML)")
    letters.add_argument("scenario", type=Path, metavar="SCENARIO")
    letters.add_argument("--policy", help="policy name (default: the scenario's first policy)")
    letters.add_argument("--seed", type=seed, help="run seed (default: the scenario's seed)")
    letters.add_argument("--out", type=Path, metavar="DIR",
                         help="also write each letter to DIR/<template>.txt and DIR/<template>.html")
    letters.add_argument("--company", type=Path, metavar="FILE",
                         help="company profile ([company] table: letterhead, contact, bank details, jurisdiction); "
                              "default: the scenario's [company], else a marked sample")
    letters.add_argument("--deadline-days", type=_positive(int), default=None, metavar="N",
                         help="days the letters give to pay (the dated deadline; default 10)")
    letters.add_argument("--pseudonymise", action="store_true",
                         help="replace customer names by keyed pseudonyms (HMAC); the key comes from "
                              "$COLLECTSIM_PSEUDONYM_KEY or --key-file and is never written")
    letters.add_argument("--key-file", type=Path, metavar="FILE", help="file holding the pseudonymisation key")
    export = sub.add_parser("export", help="write a policy's reminder ladder for a dunning tool (Odoo, ERPNext, CSV)")
    export.add_argument("policy_file", type=Path, metavar="POLICY.toml",
                        help="a strategy file, or a scenario file with --policy")
    export.add_argument("--policy", help="policy name when POLICY.toml is a scenario (default: its first policy)")
    export.add_argument("--to", required=True, choices=("odoo", "erpnext", "csv"), help="target format")
    export.add_argument("--out", required=True, type=Path, metavar="FILE", help="file to write")
    export.add_argument("--segment", help="export the policy as it applies to this segment (its override)")
    export.add_argument("--target", help="export the policy as it applies to the customers this target selects")
    export.add_argument("--company", type=Path, metavar="FILE",
                        help="company profile, for the company name and jurisdiction (ERPNext needs the company)")
    export.add_argument("--reference-rate", type=float, metavar="RATE",
                        help="central bank rate for the statutory interest, e.g. 0.0215 (default: the scenario's "
                             "economics.reference_rate, else 0.02)")
    from collectsim.apps import calibrate_cli, plan_cli
    calibrate_cli.add_parser(sub)
    plan_cli.add_parser(sub)
    from collectsim.apps import forecast_cli
    forecast_cli.add_parser(sub)
    report = sub.add_parser("report", help="compare two policies in an HTML report (the report notebook, code hidden)")
    report.add_argument("scenario", type=Path, metavar="SCENARIO")
    report.add_argument("--policies", required=True, help="two policy names, as A,B")
    report.add_argument("--out", type=Path, default=Path("report.html"), help="HTML file to write (report.html)")
    report.add_argument("--reps", type=_positive(int), default=10, help="replications per policy (default 10)")
    report.add_argument("--seed", type=seed, help="base seed (default: the scenario's)")
    report.add_argument("--customers", type=_positive(int), help="resize the portfolio to about this many customers")
    report.add_argument("--notebook", type=Path, metavar="FILE", help="keep the executed notebook here too")
    app = sub.add_parser("app", help="serve the dashboard as a web page on this machine (Voila, code hidden)")
    app.add_argument("folder", type=Path, nargs="?", default=Path("scenarios"), metavar="FOLDER",
                     help="folder of scenario files (default ./scenarios)")
    app.add_argument("--port", type=_positive(int), default=8866, help="port on 127.0.0.1 (default 8866)")
    return parser


def _recommendation_options(parser: argparse.ArgumentParser, which: str = "") -> None:
    parser.add_argument("--objective", default=OBJECTIVE, metavar="METRIC",
                        help=f"what the recommendation{which} optimises (default {OBJECTIVE}; better is higher or "
                             f"lower as the metric says); one of: " + ", ".join(objectives()))
    parser.add_argument("--constraint", action="append", default=[], metavar="EXPR",
                        help="a limit the recommended policy's mean must meet, METRIC<=NUMBER (or >=, <, >) in the "
                             "metric's stored unit: days, fractions for ratios (bad_debt_ratio<=0.015), cents for "
                             "money; repeat for more, e.g. --constraint dso<=45 --constraint churned_customers<=10")


def _recommendation_said(comp) -> str:
    """The recommendation paragraph, wrapped for a terminal, that leads the text output."""
    return textwrap.fill("Recommendation: " + comp.recommendation().text, 110, break_on_hyphens=False) + "\n"


def _common_job_options(parser: argparse.ArgumentParser, out_required: bool = False) -> None:
    parser.add_argument("--seed", type=seed, help="base seed (default: the scenario's)")
    where = parser.add_mutually_exclusive_group()
    where.add_argument("--workers", type=_positive(int), help="local worker processes (default: run in this process)")
    where.add_argument("--dask", metavar="ADDRESS|local", help="run on Dask: 'local' starts a LocalCluster")
    parser.add_argument("--out", type=Path, metavar="DIR", required=out_required,
                        help="write CSV tables and PNG plots here")
    parser.add_argument("--json", action="store_true", help="print the result as JSON (no progress bar)")
    parser.add_argument("--engine", choices=ENGINES, default="auto",
                        help="auto (default): the compiled engine where it covers the policy, SimPy otherwise; "
                             "the numbers are the same either way (vectorised is an old name of compiled)")


def _grid_value(text: str):
    """A command-line grid value read as a TOML literal (0.02, 10, true, "x"); bare words as strings."""
    try:
        return tomllib.loads(f"v = {text}")["v"]
    except tomllib.TOMLDecodeError:
        return text


def _parse_grid(items: list[str]) -> dict:
    grid = {}
    for item in items:
        key, sep, values = item.partition("=")
        if not sep or not key.strip() or not values.strip():
            raise ScenarioError("--grid", item, NO_VALUE, "write KEY=V1,V2,... (for example discount.rate=0,0.01,0.02)")
        grid[key.strip()] = [_grid_value(v.strip()) for v in values.split(",")]
    return grid


def _check_metric(metric: str) -> None:
    if metric not in METRIC_NAMES:
        raise ScenarioError("--metric", "", metric, "unknown metric; one of " + ", ".join(METRIC_NAMES))


def _runs_at_once(scenario, args: argparse.Namespace, policies: int) -> tuple[int, int]:
    """(runs held in memory at once, processes) of a compare or sweep with these options."""
    from collectsim.experiments.replication import BATCH_CUSTOMER_RUNS, BATCH_RUNS

    processes = args.workers or (2 if args.dask == "local" else 1)
    per_unit = 1 if args.engine == "simpy" else max(1, min(BATCH_RUNS, policies * (getattr(args, "reps", 0) or 10),
                                                           BATCH_CUSTOMER_RUNS // scenario.portfolio.customer_count))
    return per_unit * (processes if args.dask in (None, "local") else 1), processes


def _deliver(result, args: argparse.Namespace, show, *write_args, **write_options) -> int:
    """Show a compare or sweep result and write it (``--out``); 130 when it is partial or Ctrl-C came meanwhile.

    A Ctrl-C while showing still writes the results, marked partial; one while writing leaves every file
    complete or absent and the tables and JSON marked partial (the result's ``write`` sees to that).
    """
    try:
        if args.json:
            print(result.to_json())
        elif result.partial and not result.reps:
            print("interrupted before the first replication finished: no results")
        else:
            show(result)
    except KeyboardInterrupt:
        result = replace(result, partial=True)
    if args.out:
        try:
            result.write(args.out, *write_args, **write_options)
        except KeyboardInterrupt:
            print(f"interrupted while writing: {args.out}/ holds the files finished, marked partial",
                  file=sys.stderr)
            return 130
        stream = sys.stderr if args.json else sys.stdout
        print(f"results written to {args.out}/" + (" (marked partial)" if result.partial else ""), file=stream)
    return 130 if result.partial else 0


def _compare(args: argparse.Namespace) -> int:
    if args.out:
        check_dir(args.out)
    scenario = load_scenario(args.scenario)
    names = [n.strip() for n in args.policies.split(",")] if args.policies else None
    sequential = args.target_halfwidth is not None
    _check_metric(args.metric)
    check_objective(args.objective)
    parse_constraints(args.constraint)
    check_memory(scenario, *_runs_at_once(scenario, args, len(names or scenario.policies)))
    comp = compare(scenario, names, reps=(args.reps or (5 if sequential else 10)), seed=args.seed,
                   executor=args.dask, workers=args.workers,
                   target_halfwidth=args.target_halfwidth, metric=args.metric, max_reps=args.max_reps,
                   progress=not args.json, engine=args.engine, robustness=args.robustness)
    comp = comp.with_recommendation(args.objective, args.constraint)

    def show(comp) -> None:
        print(_recommendation_said(comp))
        print(f"{one_line(scenario.name)}: {len(comp.policies)} policies x {comp.reps} replications, seed {comp.seed}"
              + (" (PARTIAL: interrupted)" if comp.partial else ""))
        if comp.sequential:
            print(comp.sequential.describe())
        summary = comp.summary().set_index(["metric", "policy"])["mean"].unstack("policy")
        currency = scenario.economics.currency
        print(format_table(list(comp.policies), [metric_rows(_mean_metrics(summary[p]), currency)
                                                 for p in comp.policies]))
        print(f"Where net value comes from (means in {one_line(currency)}, costs negative"
              + (f"; differences: {one_line(comp.policies[0])} minus the other policy, with 95% CI):"
                 if len(comp.policies) > 1 else "):"))
        print(net_value_table(comp).rename(columns=one_line).to_string(index=False))
        for line in comp.headline():
            print(f"  - {one_line(line)}")
        if comp.robustness is not None:
            print("\n".join(robustness_lines(comp.robustness)))

    return _deliver(comp, args, show, figures=plots.comparison_figures())


def _mean_metrics(means) -> Metrics:
    """A Metrics record holding the means over replications (for the summary table)."""
    values = {name: means[name] for name in Metrics.__dataclass_fields__}
    money = ("cash_collected", "fees_collected", "fees_waived", "invoiced", "discounts_granted", "credit_notes",
             "settlements_forgiven", "written_off", "outstanding", "collection_costs", "staff_cost",
             "margin_lost_to_churn")
    return Metrics(**{k: (round(v) if k in money else v) for k, v in values.items()})


def _sweep(args: argparse.Namespace) -> int:
    if args.out:
        check_dir(args.out)
    scenario = load_scenario(args.scenario)
    _check_metric(args.metric)
    grid = _parse_grid(args.grid)
    check_memory(scenario, *_runs_at_once(scenario, args, math.prod(len(v) for v in grid.values())))
    result = sweep(scenario, args.policy, grid, reps=args.reps, seed=args.seed,
                   executor=args.dask, workers=args.workers,
                   progress=not args.json, engine=args.engine)

    def show(result) -> None:
        table = result.frame[result.frame["metric"] == args.metric]
        print(f"{one_line(scenario.name)}: sweep of {result.base_policy!r}, {result.reps} replications per point, "
              f"metric {args.metric} (mean and 95% CI)" + (" (PARTIAL: interrupted)" if result.partial else ""))
        what = info(args.metric)
        unit = what.display_unit(scenario.economics.currency)
        shown = table.drop(columns="metric").rename(columns={"n": "replications"})
        for column in ("mean", "lo", "hi"):
            shown[column] = shown[column].map(what.in_display_units)
        shown = shown.rename(columns={c: f"{c} ({unit})" for c in ("mean", "lo", "hi")} if unit else {})
        print(plain_table(shown, digits=4))

    return _deliver(result, args, show, args.metric, figure=plots.sweep_figure)


def _optimise(args: argparse.Namespace) -> int:
    from collectsim.experiments.levers import parse_levers
    from collectsim.experiments.optimise import optimise

    check_dir(args.out)
    scenario = load_scenario(args.scenario)
    scenario.policy(args.from_policy)  # an unknown name fails before the search
    levers = parse_levers(args.levers)
    check_objective(args.objective)
    parse_constraints(args.constraint)
    check_memory(scenario, *_runs_at_once(scenario, args, 64))
    result = optimise(scenario, args.from_policy, levers, objective=args.objective, constraints=args.constraint,
                      budget=args.budget, seed=args.seed, progress=not args.json, executor=args.dask,
                      workers=args.workers, engine=args.engine, holdout_reps=args.holdout_reps)
    try:
        if args.json:
            print(result.to_json())
        else:
            print(textwrap.fill("Optimisation: " + result.text, 110, break_on_hyphens=False))
    except KeyboardInterrupt:
        result = replace(result, partial=True)
    try:
        paths = result.write(args.out, figure=plots.optimise_figure, comparison_figures=plots.comparison_figures())
    except KeyboardInterrupt:
        print(f"interrupted while writing: {args.out}/ holds the files finished, marked partial", file=sys.stderr)
        return 130
    stream = sys.stderr if args.json else sys.stdout
    names = ", ".join(p.name for p in paths if p.name != "best-policy.toml" and (p.suffix != ".png"
                                                                                 or p.name == "history.png"))
    print(f"\nbest policy written to {args.out / 'best-policy.toml'} (a strategy file: include it from a scenario "
          f"or check it with collectsim validate); also in {args.out}/: {names}"
          + (" (marked partial)" if result.partial else ""), file=stream)
    return 130 if result.partial else 0


def _validate(files: list[Path]) -> int:
    failed = 0
    for path in files:
        try:
            if is_strategy_file(read_toml(path)):
                policy = load_strategy(path)
                print(f"{path}: ok (strategy {policy.name!r})")
            else:
                scenario = load_scenario(path)
                check_memory(scenario)  # the same limit as `run`: a scenario that validates runs
                names = one_line(", ".join(p.name for p in scenario.policies))
                print(f"{path}: ok (scenario {scenario.name!r}: {scenario.portfolio.customer_count} customers, "
                      f"policies {names})")
        except ScenarioError as exc:
            print(f"error: {exc}", file=sys.stderr)
            failed += 1
    return EXIT_BAD_INPUT if failed else 0


def _money(cents: int, currency: str) -> str:
    return f"{cents / 100:,.2f} {one_line(currency)}"


def format_table(header: list[str], columns: list[list[tuple[str, str]]]) -> str:
    """Metric labels down the left, one right-aligned column of values per run."""
    header = [one_line(h) for h in header]  # names from the user's files: no terminal control characters
    labels = [label for label, _ in columns[0]]
    label_width = max(map(len, labels))
    widths = [max(len(h), *(len(v) for _, v in col)) for h, col in zip(header, columns)]
    lines = ["  " + " " * label_width + "".join(f"  {h:>{w}}" for h, w in zip(header, widths))]
    for i, label in enumerate(labels):
        lines.append(f"  {label:<{label_width}}" + "".join(f"  {col[i][1]:>{w}}" for col, w in zip(columns, widths)))
    return "\n".join(lines)


def _run_all(args: argparse.Namespace) -> int:
    """Every policy once, with the same seed, in a side-by-side table (one run each: no intervals)."""
    if args.out:
        check_dir(args.out)
    scenario = load_scenario(args.scenario)
    if args.out:
        for p in scenario.policies:
            check_component(p.name, scenario.source, f"policies.{p.name}", "a folder name under --out")
    check_objective(args.objective)
    parse_constraints(args.constraint)
    check_memory(scenario, len(scenario.policies))
    results = [_simulate_said(scenario, p.name, args) for p in scenario.policies]
    if args.json:
        print(json.dumps([r.to_dict() for r in results], indent=2))
    else:
        print(_recommendation_said(_one_run_each(scenario, results).with_recommendation(args.objective,
                                                                                       args.constraint)))
        print(f"{one_line(scenario.name)}: {len(results)} policies, seed {results[0].seed}, one run each "
              f"(use replications to judge differences)")
        currency = scenario.economics.currency
        print(format_table([r.policy for r in results], [metric_rows(r.metrics, currency) for r in results]))
    if args.out:
        for r in results:
            r.write(Path(args.out) / r.policy)
        stream = sys.stderr if args.json else sys.stdout
        print(f"results written to {args.out}/<policy>/ for: {one_line(', '.join(r.policy for r in results))}",
              file=stream)
    return 0


def _one_run_each(scenario, results) -> Comparison:
    """The runs of ``run --all`` as a comparison of one replication per policy (means, no intervals)."""
    runs = tuple(replication_of(r.policy, 0, r) for r in results)
    h = scenario.horizon
    return Comparison(scenario.name, scenario.economics.currency, results[0].seed, tuple(r.policy for r in results),
                      runs, measured=(h.measured_start, h.measured_end))


def _simulate_said(scenario, policy, args: argparse.Namespace):
    """``simulate`` with ``--engine``; a fallback to the SimPy engine is said in one line on stderr."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", EngineFallbackWarning)
        warnings.simplefilter("always", DeprecationWarning)
        result = simulate(scenario, policy, args.seed, engine=args.engine)
    for w in caught:
        if issubclass(w.category, (EngineFallbackWarning, DeprecationWarning)):
            print(f"warning: {w.message}", file=sys.stderr)
        else:
            warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
    return result


def _run(args: argparse.Namespace) -> int:
    if args.all:
        return _run_all(args)
    if args.out:
        check_dir(args.out)
    scenario = load_scenario(args.scenario)
    scenario.policy(args.policy)  # an unknown name fails before the run
    check_memory(scenario)
    result = _simulate_said(scenario, args.policy, args)
    if args.json:
        print(result.to_json())
    else:
        print(f"{one_line(scenario.name)}: policy {result.policy!r}, seed {result.seed}, "
              f"{result.metrics.customers} customers, {result.metrics.invoices} invoices in the measured period")
        print(format_table([result.policy], [metric_rows(result.metrics, scenario.economics.currency)]))
    if args.out:
        paths = result.write(args.out)
        stream = sys.stderr if args.json else sys.stdout
        print(f"results written to {args.out}/ ({', '.join(p.name for p in paths)})", file=stream)
    return 0


def _letters(args: argparse.Namespace) -> int:
    """Simulate the policy once and print the first real use of each letter it sent (text; HTML in --out)."""
    from collectsim.config.company import load_company
    from collectsim.present.letters import DEADLINE_DAYS, LetterError, sample_letters

    if args.out:
        check_dir(args.out)
    key = _pseudonym_key(args) if args.pseudonymise else None
    company = load_company(args.company) if args.company else None
    scenario = load_scenario(args.scenario)
    scenario.policy(args.policy)
    check_memory(scenario)
    result = simulate(scenario, args.policy, args.seed)
    try:
        letters, unused = sample_letters(result, company, company_source=str(args.company or scenario.source),
                                         deadline_days=args.deadline_days or DEADLINE_DAYS, pseudonym_key=key)
    except LetterError as exc:
        raise ScenarioError("templates", "", NO_VALUE, str(exc)) from None
    if args.out:
        args.out.mkdir(parents=True, exist_ok=True)
    for letter in letters:
        print(f"=== {letter.template} (to {one_line(letter.customer)}, {letter.as_of}) ===")
        print(letter.text)
        if args.out:
            write_text(args.out / f"{letter.template}.txt", letter.text)
            write_text(args.out / f"{letter.template}.html", letter.html)
    if unused:
        print(f"policy {result.policy!r} never sends: {', '.join(unused)}")
    if args.out:
        print(f"letters written to {args.out}/ as <template>.txt and <template>.html")
    return 0


def _pseudonym_key(args: argparse.Namespace) -> bytes:
    """The key for --pseudonymise (from --key-file or the environment), as calibrate reads it."""
    from collectsim.apps.calibrate_cli import _key
    from collectsim.calibration.ledger import LedgerError

    try:
        return _key(args)
    except LedgerError as exc:
        raise ScenarioError(exc.source, "", NO_VALUE, exc.reason) from None


def _export(args: argparse.Namespace) -> int:
    """Write the policy's ladder in the target's import format; what it cannot hold goes to stderr and a side file."""
    from collectsim.config.company import load_company
    from collectsim.present.policy_export import export_policy

    check_file(args.out)
    data = read_toml(args.policy_file)
    if is_strategy_file(data):
        if args.policy:
            raise ScenarioError(str(args.policy_file), "", NO_VALUE, "--policy is for scenario files; "
                                "this is a strategy file holding one policy")
        policy, rate, company = load_strategy(args.policy_file), None, None
    else:
        scenario = load_scenario(args.policy_file)
        policy, rate = scenario.policy(args.policy), scenario.economics.reference_rate
        company = scenario.company if scenario.company.given else None
    if args.company:
        company = load_company(args.company)
    if args.reference_rate is not None:
        rate = args.reference_rate
    if args.segment:
        if args.segment not in policy.segments:
            raise ScenarioError(str(args.policy_file), f"{policy.name}.segments", args.segment,
                                "no override for this segment; overrides: " + (", ".join(policy.segments) or "none"))
        policy = policy.for_segment(args.segment)
    if args.target:
        if args.target not in policy.target_names():
            raise ScenarioError(str(args.policy_file), f"{policy.name}.targets", args.target,
                                "no target of this name; targets: " + (", ".join(policy.target_names()) or "none"))
        policy = policy.for_target_named(args.target)
    written = export_policy(policy, args.to, args.out, company=company, reference_rate=rate)
    for warning in written.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    side = f"; what {args.to} cannot hold is listed in {written.notes}" if written.notes else ""
    print(f"{len(written.levels)} follow-up levels of policy {policy.name!r} written to {args.out}{side}")
    return 0


def _calibrate(args: argparse.Namespace) -> int:
    from collectsim.apps.calibrate_cli import run
    return run(args)


def _report(args: argparse.Namespace) -> int:
    from collectsim.present.report import ReportError, render_report

    check_file(args.out)
    if args.notebook:
        check_file(args.notebook, "--notebook")
    try:
        out = render_report(args.scenario, [p.strip() for p in args.policies.split(",")], args.out, reps=args.reps,
                            seed=args.seed, customers=args.customers, executed=args.notebook)
    except ReportError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(f"report written to {out}")
    return 0


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        if args.command == "validate":
            return _validate(args.files)
        if args.command == "compare":
            return _compare(args)
        if args.command == "sweep":
            return _sweep(args)
        if args.command == "optimise":
            return _optimise(args)
        if args.command == "letters":
            return _letters(args)
        if args.command == "export":
            return _export(args)
        if args.command == "calibrate":
            return _calibrate(args)
        if args.command == "plan":
            from collectsim.apps.plan_cli import run as plan
            return plan(args)
        if args.command == "forecast":
            from collectsim.apps.forecast_cli import run as forecast
            return forecast(args)
        if args.command == "report":
            return _report(args)
        if args.command == "app":
            from collectsim.apps.app import serve
            return serve(args.folder, args.port)
        return _run(args)
    except (ScenarioError, RecommendError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except WorkersFailed as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("interrupted: nothing was written", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # The reader went away (e.g. `| head`); stop quietly, as the Python docs recommend.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1
    except OSError as exc:  # the disk filled up, a folder vanished meanwhile: one line, not a traceback
        where = f"{exc.filename}: " if exc.filename else ""
        print(f"error: {where}{exc.strerror or exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
