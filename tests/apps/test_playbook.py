"""The playbook: evidence generated, never typed, and never stale; every practice expressed as policy keys."""

from __future__ import annotations

import dataclasses
import json
import re
import shutil
from pathlib import Path

import playbook as pb
import pytest
from reference import rows

from collectsim.config.policy_spec import PolicySpec
from collectsim.config.scenario import Scenario

CHAPTERS = [p for p in pb.chapter_files() if p.name != "README.md"]

#: Every practice the playbook must cover, as (chapter, words its section heading contains).
PRACTICES = [
    ("01-prevention.md", "Clear written terms"), ("01-prevention.md", "Credit checks and credit limits"),
    ("01-prevention.md", "Review the credit policy"), ("01-prevention.md", "Invoice promptly and accurately"),
    ("02-communication.md", "Remind before the due date"), ("02-communication.md", "Follow up early"),
    ("02-communication.md", "Tone"), ("02-communication.md", "Personalise"),
    ("02-communication.md", "several channels"), ("02-communication.md", "why the customer is late"),
    ("03-flexibility.md", "Instalment plans"), ("03-flexibility.md", "Longer terms with milestones"),
    ("03-flexibility.md", "Discounts"), ("03-flexibility.md", "paying easy"),
    ("03-flexibility.md", "Limits on flexibility"),
    ("04-escalation.md", "Mediation"), ("04-escalation.md", "collection agency"),
    ("04-escalation.md", "Settle before you sue"), ("04-escalation.md", "last resort"),
    ("05-process.md", "Automate"), ("05-process.md", "Document every interaction"),
    ("05-process.md", "numbers to watch"), ("05-process.md", "what a customer is worth"),
    ("06-legal-frame.md", "2011/7/EU"), ("06-legal-frame.md", "Late Payment of Commercial Debts"),
    ("06-legal-frame.md", "consumer-debt law"),
]

KEY_ROOTS = {"portfolio", "economics", "horizon", "team", "economy", "behaviour", "reminders", "discount",
             "plans", "extended_terms", "onboarding", "fees", "settlement", "escalation", "write_off", "segments",
             "targets"}


def schema_keys() -> set[str]:
    keys = {r[0].strip("`") for r in rows(Scenario, "")} | {r[0].strip("`") for r in rows(PolicySpec, "")}
    return keys | {k.rsplit(".", 1)[0] for k in keys if "." in k}  # tables such as `reminders.steps` count too


def key_tokens(text: str) -> list[str]:
    """Backticked tokens that name a scenario or policy key (by their first part)."""
    return [t for t in re.findall(r"`([^`\s]+)`", text) if re.split(r"[.\[]", t)[0] in KEY_ROOTS]


def sections(path: Path) -> list[tuple[str, str]]:
    """(heading, body) of every '## ' section of a chapter."""
    parts = re.split(r"^## (.+)$", path.read_text(encoding="utf-8"), flags=re.M)
    return list(zip(parts[1::2], parts[2::2]))


@pytest.fixture(scope="module")
def manifest() -> dict:
    return json.loads((pb.EVIDENCE / "manifest.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def values() -> dict[str, str]:
    return pb.load_values()


# --- evidence is current ----------------------------------------------------------------------------


def test_evidence_is_not_stale(manifest):
    changed = pb.stale_inputs(manifest)
    assert not changed, f"playbook evidence is stale (changed: {', '.join(changed)}); run `make playbook` and commit"
    assert manifest["inputs_hash"] == pb.inputs_hash(pb.file_hashes())


def test_staleness_check_sees_a_changed_scenario_or_model_file_but_not_presentation(tmp_path):
    for part in ("scenarios", "src/collectsim"):
        shutil.copytree(pb.ROOT / part, tmp_path / part, ignore=shutil.ignore_patterns("__pycache__"))
    hashes = pb.file_hashes(tmp_path)
    manifest = {"files": hashes, "inputs_hash": pb.inputs_hash(hashes)}
    assert pb.stale_inputs(manifest, tmp_path) == []
    (tmp_path / "src/collectsim/apps/cli.py").write_text("# presentation only\n")
    assert pb.stale_inputs(manifest, tmp_path) == []
    seasonal = tmp_path / "scenarios/seasonal.toml"
    seasonal.write_text(seasonal.read_text().replace("seasonality = 0.8", "seasonality = 0.7", 1))
    (tmp_path / "src/collectsim/model/behaviour.py").write_text("# changed\n")
    assert pb.stale_inputs(manifest, tmp_path) == ["scenarios/seasonal.toml", "src/collectsim/model/behaviour.py"]


def test_every_placeholder_in_the_chapters_has_a_value(values):
    missing = [(p.name, k) for p in pb.chapter_files() for k in pb.placeholders_in(p.read_text(encoding="utf-8"))
               if k not in values]
    assert not missing, f"placeholders without evidence: {missing}; run `make playbook`"


def test_filled_chapters_match_their_sources_and_the_evidence(values, tmp_path):
    written = pb.build_chapters(values, pb.PLAYBOOK, tmp_path)
    assert sorted(p.name for p in pb.BUILD.glob("*.md")) == sorted(p.name for p in written)
    for fresh in written:
        committed = (pb.BUILD / fresh.name).read_text(encoding="utf-8")
        assert committed == fresh.read_text(encoding="utf-8"), (
            f"playbook/filled/{fresh.name} is out of date; run `python tools/playbook.py --fill-only`")
        assert "{{ev:" not in committed


def test_fill_refuses_a_placeholder_without_a_value():
    with pytest.raises(pb.PlaybookError, match=r"ch.md:2: no evidence value for \{\{ev:x.y\}\}"):
        pb.fill("line one\nsee {{ev:x.y}}", {}, "ch.md")
    assert pb.fill("DSO {{ev:a.dso}}.", {"a.dso": "41.0 days"}) == "DSO 41.0 days."


# --- no typed numbers ---------------------------------------------------------------------------------


def test_chapters_carry_no_typed_numbers():
    found = [hit for p in pb.chapter_files() for hit in pb.typed_numbers(p.read_text(encoding="utf-8"), p.name)]
    assert not found, "numbers typed into chapters (use an {{ev:...}} placeholder):\n" + "\n".join(found)


@pytest.mark.parametrize("text", ["Cash rose by 12% under firm-and-fair.", "DSO fell to 41 days.",
                                  "costs £55 a case", "only 3 customers left", "95% of invoices"])
def test_typed_number_check_catches_a_figure(text):
    assert pb.typed_numbers(text)


@pytest.mark.parametrize("text", ["## 2.3 Tone", "Directive 2011/7/EU", "the 1998 Act", "£40 below £1,000",
                                  "B2B debt", "see section 4 of docs/sources.md", "{{ev:baseline.ff.dso}}",
                                  "`behaviour.tone_response.firm`", "a 95% confidence interval"])
def test_typed_number_check_allows_references_placeholders_and_code(text):
    assert pb.typed_numbers(text) == []


# --- structure: practices, keys, evidence ---------------------------------------------------------------


def test_every_chapter_ends_with_its_policy_keys_and_evidence():
    for path in CHAPTERS:
        headings = [h.strip() for h, _ in sections(path)]
        assert headings[-2:] == ["Policy keys", "Evidence"], path.name


def test_every_practice_of_the_design_is_a_section_naming_an_existing_key():
    keys = schema_keys()
    for chapter, words in PRACTICES:
        found = [(h, body) for h, body in sections(pb.PLAYBOOK / chapter) if words.lower() in h.lower()]
        assert found, f"{chapter}: no section about {words!r}"
        named = key_tokens(found[0][1])
        assert any(k in keys for k in named), f"{chapter} / {found[0][0]}: names no scenario or policy key"


def test_every_key_a_chapter_names_exists_in_the_schema():
    keys = schema_keys()
    unknown = [(p.name, k) for p in CHAPTERS for k in key_tokens(p.read_text(encoding="utf-8")) if k not in keys]
    assert not unknown, f"keys not in docs/scenario-keys.md: {unknown}"


def test_policy_keys_sections_list_only_existing_keys():
    keys = schema_keys()
    for path in CHAPTERS:
        body = dict((h.strip(), b) for h, b in sections(path))["Policy keys"]
        listed = key_tokens(body)
        assert listed and all(k in keys for k in listed), path.name


def test_evidence_compares_firm_and_fair_with_aggressive_and_gentle_on_every_archetype(values):
    quoted = {k for p in pb.chapter_files() for k in pb.placeholders_in(p.read_text(encoding="utf-8"))}
    for arch in pb.ARCHETYPES:
        for other in ("aggr", "gentle"):
            for metric in ("cash", "dso", "bad_debt", "cost", "goodwill", "churn"):
                for part in ("diff", "ci"):
                    key = f"{arch}.ff_vs_{other}.{metric}.{part}"
                    assert key in quoted and key in values, key
        assert f"{arch}.sens.sentence" in quoted


def test_sensitivity_table_ranks_the_strategies_under_every_variant_for_every_archetype(manifest):
    import pandas as pd

    table = pd.read_csv(pb.EVIDENCE / "sensitivity.csv")
    assert set(zip(table["archetype"], table["variant"])) == {(a, v) for a in pb.ARCHETYPES for v in pb.VARIANTS}
    for ranking in table["ranking"]:
        assert sorted(ranking.split(" > ")) == sorted(pb.SENS_POLICIES)
    assert manifest["variants"] == {k: v[1] for k, v in pb.VARIANTS.items()}


def test_sensitivity_variants_are_valid_scenarios():
    for _, overrides in pb.VARIANTS.values():
        scenario = pb.with_behaviour(pb.ROOT / "scenarios" / "baseline.toml", overrides)
        for key, value in overrides.items():
            obj = scenario
            for part in key.split("."):
                obj = getattr(obj, part)
            assert obj == value


# --- single levers ----------------------------------------------------------------------------------------


def test_every_lever_is_a_valid_policy_that_differs_from_its_base_only_in_its_keys():
    book = pb.load_scenario(pb.ROOT / "scenarios" / f"{pb.LEVER_ARCHETYPE}.toml")
    for portfolio in ("book", "arrivals"):
        specs = {s.name: s for s in pb.lever_specs(book, portfolio)}
        for label, base, keys, port in pb.LEVERS.values():
            if port != portfolio:
                continue
            lever, plain = specs[label], specs[base]
            assert lever.reminders == plain.reminders and lever.segments == plain.segments
            assert lever.targets == plain.targets
            for key in keys:
                table, leaf = key.split(".")
                assert getattr(getattr(lever, table), leaf) != getattr(getattr(plain, table), leaf), (label, key)


def test_arrivals_replace_each_segments_expected_churn_and_change_nothing_else():
    path = pb.ROOT / "scenarios" / f"{pb.LEVER_ARCHETYPE}.toml"
    book, arrivals = pb.load_scenario(path), pb.with_arrivals(path)
    for before, after in zip(book.portfolio.segments, arrivals.portfolio.segments):
        assert after.new_customers_per_year == pytest.approx(before.customers * before.churn_per_year)
        assert dataclasses.replace(after, new_customers_per_year=before.new_customers_per_year) == before


def test_two_months_of_purchases_is_a_sixth_of_an_average_customers_yearly_invoicing():
    book = pb.load_scenario(pb.ROOT / "scenarios" / "baseline.toml")
    limit = pb.two_months_of_purchases(book)
    segs = book.portfolio.segments
    low = min(s.orders_per_year * s.amount_median for s in segs) / 6  # medians: below the log-normal means
    assert low < limit < max(s.orders_per_year * s.amount_median * 2 for s in segs) / 6


def test_the_manifest_records_the_levers(manifest, values):
    assert set(manifest["levers"]) == set(pb.LEVERS)
    for name in pb.LEVERS:
        assert f"lever.{name}.profit.verdict" in values
