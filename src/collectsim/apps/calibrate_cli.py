"""``collectsim calibrate LEDGER.csv --out my_portfolio.toml``: the command-line face of calibration.

Reads the ledger (mapping file or ``--column`` options), fits, writes a commented scenario that
``collectsim validate`` accepts, and with ``--validate`` compares the fit with the history. Bad input
is one line on stderr and exit code 2; lenient mode writes the skipped rows to a rejects file.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import sys
from pathlib import Path

from collectsim.apps.argtypes import calibration_seed, non_negative_int
from collectsim.calibration.calibrate import Calibrator
from collectsim.calibration.ledger import CANONICAL, LedgerError, LedgerOptions, read_ledger
from collectsim.config.scenario import load_scenario, load_strategy
from collectsim.config.schema import ScenarioError
from collectsim.files.safe_output import atomic, check_dir, check_file, write_text
from collectsim.present.numbers import plain_table

KEY_ENV = "COLLECTSIM_PSEUDONYM_KEY"


def add_parser(sub: argparse._SubParsersAction) -> None:
    """The ``calibrate`` subcommand and its options."""
    p = sub.add_parser("calibrate", help="fit a scenario to your own invoice history (a ledger CSV)")
    p.add_argument("ledger", type=Path, metavar="LEDGER.csv")
    p.add_argument("--out", type=Path, required=True, metavar="FILE", help="scenario file to write (TOML)")
    add_ledger_options(p)
    p.add_argument("--as-of", type=dt.date.fromisoformat, metavar="YYYY-MM-DD",
                   help="date of the export; open invoices are censored here (default: latest date in the file)")
    p.add_argument("--lenient", action="store_true",
                   help="skip bad rows into a rejects file instead of stopping at the first")
    p.add_argument("--rejects", type=Path, metavar="FILE", help="rejects file (default: OUT.rejects.csv)")
    p.add_argument("--as-is", type=Path, metavar="POLICY.toml",
                   help="your current collections practice as a strategy file (default: a stated assumption)")
    p.add_argument("--segment-by", choices=["ledger", "habit"], default="ledger",
                   help="segments from the ledger's segment/channel columns, or thirds of fitted habit")
    p.add_argument("--iterations", type=non_negative_int, default=4,
                   help="rounds of the chasing correction (default 4; 0 takes the history at face value)")
    p.add_argument("--seed", type=calibration_seed, default=1, help="seed of the calibration simulations")
    p.add_argument("--validate", action="store_true", help="compare the fit with the history (and out-of-time)")
    p.add_argument("--report-dir", type=Path, metavar="DIR",
                   help="write summary.csv, customers.csv, rounds.csv and, with --validate, validation.csv and qq.png")
    p.add_argument("--json", action="store_true", help="print one JSON object and nothing else on stdout")
    add_pseudonym_options(p)


def add_ledger_options(p: argparse.ArgumentParser) -> None:
    """How to read a ledger export (mapping file, columns, formats): shared by the commands that read one."""
    p.add_argument("--mapping", type=Path, metavar="MAP.toml",
                   help="column names and formats of your export ([columns] canonical = \"your header\")")
    p.add_argument("--column", action="append", default=[], metavar="CANONICAL=HEADER",
                   help="one column mapping, e.g. --column invoice_id='Invoice No.' (repeatable)")
    p.add_argument("--date-format", help="iso, day-first, month-first or a strptime pattern (default: detect); "
                   "per column: [date_formats] in the mapping file")
    p.add_argument("--currency", metavar="CODE",
                   help="keep the invoices in this currency; rows in others are skipped and counted "
                        "(or convert them with an [fx] table in the mapping file)")
    p.add_argument("--decimal", choices=[".", ","], help="decimal mark of amounts (default: detect)")
    p.add_argument("--encoding", help="text encoding of the file (default utf-8; e.g. cp1252)")


def add_pseudonym_options(p: argparse.ArgumentParser) -> None:
    """--pseudonymise and --key-file."""
    p.add_argument("--pseudonymise", action="store_true",
                   help=f"replace customer ids and names by keyed pseudonyms (HMAC) in everything written; "
                        f"the key comes from ${KEY_ENV} or --key-file and is never written")
    p.add_argument("--key-file", type=Path, metavar="FILE", help="file holding the pseudonymisation key")


def ledger_options(args: argparse.Namespace) -> LedgerOptions:
    """How to read the ledger, from the command line's ledger options (and --pseudonymise)."""
    columns = {}
    for item in args.column:
        canon, sep, header = item.partition("=")
        if not sep or canon.strip() not in CANONICAL or not header.strip():
            raise LedgerError("--column", f"{item!r} must be CANONICAL=HEADER with CANONICAL one of "
                              + ", ".join(CANONICAL))
        columns[canon.strip()] = header.strip()
    key = _key(args) if args.pseudonymise else None
    overrides = {"date_format": args.date_format, "decimal": args.decimal, "encoding": args.encoding,
                 "as_of": args.as_of, "pseudonym_key": key,
                 "currency": args.currency.strip().upper() if args.currency else None}
    if args.mapping:
        base = LedgerOptions.from_toml(args.mapping, **overrides)
        return LedgerOptions(**{**base.__dict__, "columns": {**base.columns, **columns}})
    return LedgerOptions(columns=columns, **{k: v for k, v in overrides.items() if v is not None})


def _key(args: argparse.Namespace) -> bytes:
    if args.key_file:
        try:
            key = args.key_file.read_bytes().strip()
        except OSError as exc:
            raise LedgerError(str(args.key_file), f"key file cannot be read ({exc.strerror})") from None
    else:
        key = os.environ.get(KEY_ENV, "").encode("utf-8")
    if len(key) < 16:
        raise LedgerError("--pseudonymise", f"needs a key of at least 16 characters in ${KEY_ENV} or --key-file")
    return key


def _check_rejects_path(args: argparse.Namespace) -> Path:
    """The rejects file of a lenient run, checked before the import starts (LedgerError if unusable).

    An explicit ``--rejects`` must name a file in an existing, writable folder. The default
    (``OUT.rejects.csv``) sits beside ``--out``, whose folder the command creates, so there only the
    nearest existing folder above it must be a writable folder.
    """
    path = args.rejects or args.out.with_suffix(".rejects.csv")
    if not args.lenient:
        return path
    if path.is_dir():
        raise LedgerError(str(path), "is a folder; --rejects needs a file name such as rejects.csv")
    folder = path.parent
    if args.rejects is not None and not folder.is_dir():
        raise LedgerError(str(path), f"the rejects file's folder {str(folder)!r} does not exist or is not a folder; "
                          "create it first or give another --rejects")
    existing = next(p for p in (folder, *folder.parents) if p.exists())
    if not existing.is_dir() or not os.access(existing, os.W_OK):
        raise LedgerError(str(path), f"the rejects file cannot be written: {str(existing)!r} is not a writable "
                          "folder; give another --rejects")
    return path


def _write_rejects(ledger, path: Path) -> None:
    """Write the rejected rows to ``path`` (making the folder beside --out); LedgerError if it fails."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        ledger.write_rejects(path)
    except OSError as exc:
        raise LedgerError(str(path), f"the rejects file cannot be written ({exc.strerror or exc})") from None


def run(args: argparse.Namespace) -> int:
    """Handle ``collectsim calibrate``; returns the exit code."""
    say = (lambda *a: print(*a, file=sys.stderr)) if args.json else print
    try:
        _check_outputs(args)  # (output paths: checked before any work)
        rejects = _check_rejects_path(args)
        ledger = read_ledger(args.ledger, ledger_options(args), strict=not args.lenient)
        for note in ledger.notes:
            say(note)
        for warning in ledger.warnings:
            say(f"warning: {warning}")
        if len(ledger.rejects):
            _write_rejects(ledger, rejects)
            say(f"{len(ledger.rejects)} of {ledger.input_rows} rows rejected, each with its line and reason: {rejects}"
                f"; {ledger.diagnosis}")
        as_is = None
        if args.as_is:
            as_is = load_strategy(args.as_is).with_values({"name": "as-is"})
        if len(ledger.frame) == 0:
            raise LedgerError(str(args.ledger), "no invoice survived the checks; nothing to fit"
                              + (f"; {ledger.diagnosis}" if ledger.diagnosis else ""))
        cal = Calibrator(as_is, iterations=args.iterations, seed=args.seed, segment_by=args.segment_by,
                         progress=not args.json).fit(ledger)
        text = cal.to_toml(args.ledger.name)
        if args.pseudonymise:
            note = "# customer ids and names were pseudonymised with a keyed hash; the key is not stored"
            text = text.replace('\nname = "calibrated"', f'\n{note}\nname = "calibrated"', 1)
        Path(args.out).parent.mkdir(parents=True, exist_ok=True)
        write_text(args.out, text)  # complete or absent
        load_scenario(args.out)  # what we wrote must load
        say(f"fitted {len(ledger.frame)} invoices of {ledger.frame['customer_id'].nunique()} customers "
            f"into {len(cal.groups_)} segment(s); scenario written to {args.out}")
        if cal.as_is_assumed:
            say("note: the current practice was ASSUMED (see collectsim.calibration.calibrate.DEFAULT_AS_IS); "
                "pass --as-is POLICY.toml for yours")
        if not args.json:
            shown = cal.summary[["segment", "parameter", "estimate", "ci_low", "ci_high"]]
            print(plain_table(shown))
        validation = None
        if args.validate:
            from collectsim.calibration.validation import validate
            validation = validate(cal, ledger, seed=args.seed + 1000)
            if not args.json:
                print(plain_table(validation.table()))
                print(validation.judgement)
        if args.report_dir:
            _report(args.report_dir, cal, validation)
            say(f"report files written to {args.report_dir}/")
        if args.json:
            payload = validation.to_dict() if validation is not None else {
                "scenario": str(args.out), "invoices": len(ledger.frame), "rejected": len(ledger.rejects),
                "segments": [g.name for g in cal.groups_]}
            print(json.dumps(payload, indent=2))
        return 0
    except (LedgerError, ScenarioError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


def _report(out: Path, cal: Calibrator, validation) -> None:
    import pandas as pd

    from collectsim.files.exports import write_csv
    out.mkdir(parents=True, exist_ok=True)
    write_csv(cal.summary, out / "summary.csv")
    write_csv(cal.customers_, out / "customers.csv")
    write_csv(pd.DataFrame(cal.rounds_), out / "rounds.csv")
    if validation is not None:
        write_csv(validation.table(), out / "validation.csv")
        with atomic(out / "qq.png") as tmp:
            validation.qq_plot(tmp)


# --- output paths (issue 25): checked before any work; files written complete or absent -------------------

def _check_outputs(args: argparse.Namespace) -> None:
    """One-line errors (exit 2) for --out, --rejects and --report-dir before the ledger is read."""
    if Path(args.out).is_dir():
        check_file(args.out)  # "is a folder; give a file name"
    check_dir(Path(args.out).parent, "--out")  # a folder that does not exist yet is made, as before
    if args.lenient and args.rejects is not None:
        check_file(args.rejects, "--rejects")  # (the default, beside --out, is checked with --out's folder)
    if args.report_dir:
        check_dir(args.report_dir, "--report-dir")
