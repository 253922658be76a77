"""collectsim: try a B2B collections policy on a simulated receivables portfolio before adopting it.

The public API::

    scenario = collectsim.load_scenario("scenarios/baseline.toml")
    result = collectsim.simulate(scenario, policy="as-is", seed=1)
    result.metrics.to_frame()
"""

from .calibrate import Calibrator
from .compare import Comparison, compare
from .decisions import Action, ActionKind, Decision, DecisionMaker, Point
from .eventlog import EventKind, EventLog
from .ledger import Ledger, LedgerError, LedgerOptions, read_ledger
from .metrics import ConservationError, Metrics
from .policy_spec import PolicySpec
from .rule_policy import RuleBasedPolicy
from .run import RunResult, simulate, simulate_batch
from .scenario import Scenario, load_scenario, load_strategy, parse_scenario
from .schema import ScenarioError
from .sweep import SweepResult, sweep

__all__ = [
    "Action", "ActionKind", "Calibrator", "Comparison", "Ledger", "LedgerError", "LedgerOptions", "read_ledger",
    "ConservationError", "Decision", "DecisionMaker", "EventKind", "EventLog",
    "Metrics", "Point", "PolicySpec", "RuleBasedPolicy", "RunResult", "Scenario", "ScenarioError",
    "SweepResult", "compare", "load_scenario", "load_strategy", "parse_scenario", "simulate", "simulate_batch",
    "sweep",
]
__version__ = "0.1.0"
