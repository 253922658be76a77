"""collectsim: try a B2B collections policy on a simulated receivables portfolio before adopting it.

The public API::

    scenario = collectsim.load_scenario("scenarios/baseline.toml")
    result = collectsim.simulate(scenario, policy="as-is", seed=1)
    result.metrics.to_frame()

Starting from a firm's open ledger instead of an empty book::

    ledger = collectsim.load_ledger("examples/sample_ledger.csv")
    fitted = collectsim.load_scenario("fitted.toml")          # from `collectsim calibrate`
    opened = collectsim.from_open_ledger(fitted, ledger)       # runs start from its open invoices
    collectsim.forecast(ledger, fitted, ["as-is"], weeks=13).frame
"""

from collectsim.calibration.calibrate import Calibrator
from collectsim.calibration.forecast import Backtest, Forecast, backtest, forecast
from collectsim.calibration.ledger import Ledger, LedgerError, LedgerOptions, read_ledger
from collectsim.calibration.opening import cut_ledger, from_open_ledger, load_ledger
from collectsim.config.policy_spec import PolicySpec
from collectsim.config.scenario import Scenario, load_scenario, load_strategy, parse_scenario
from collectsim.config.schema import ScenarioError
from collectsim.engines.simulate import simulate, simulate_batch
from collectsim.experiments.compare import Comparison, compare
from collectsim.experiments.optimise import OptimiseResult, optimise
from collectsim.experiments.sweep import SweepResult, sweep
from collectsim.model.decisions import Action, ActionKind, Decision, DecisionMaker, Point
from collectsim.model.rule_policy import RuleBasedPolicy
from collectsim.results.eventlog import EventKind, EventLog
from collectsim.results.metrics import ConservationError, Metrics
from collectsim.results.run import RunResult

__all__ = [
    "Action", "ActionKind", "Backtest", "Calibrator", "Comparison", "Forecast", "Ledger", "LedgerError",
    "LedgerOptions", "backtest", "cut_ledger", "forecast", "from_open_ledger", "load_ledger", "read_ledger",
    "ConservationError", "Decision", "DecisionMaker", "EventKind", "EventLog",
    "Metrics", "OptimiseResult", "Point", "PolicySpec", "RuleBasedPolicy", "RunResult", "Scenario", "ScenarioError",
    "SweepResult", "compare", "load_scenario", "load_strategy", "optimise", "parse_scenario", "simulate",
    "simulate_batch", "sweep",
]
__version__ = "0.1.0"
