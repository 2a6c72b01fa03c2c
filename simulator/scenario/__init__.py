"""The scenario language: typed models, YAML loading with positions, located errors."""

from .checks import check_scenario
from .distributions import (
    Choice,
    Distribution,
    Normal,
    Triangular,
    Uniform,
    parse_distribution,
    realize,
)
from .errors import Problem, ScenarioError, ScenarioFileNotFound
from .loader import (
    dump_scenario_yaml,
    load_scenario,
    load_scenario_text,
    resolve_scenario_data,
    scenario_json_schema,
    scenario_sha256,
)
from .models import (
    Allocation,
    Country,
    Demand,
    Facility,
    LeadTimes,
    Material,
    Recipe,
    Scenario,
    Simulation,
    Sourcing,
    Stockpile,
    StockpileRelease,
)

__all__ = [
    "Allocation",
    "Choice",
    "Country",
    "Demand",
    "Distribution",
    "Facility",
    "LeadTimes",
    "Material",
    "Normal",
    "Problem",
    "Recipe",
    "Scenario",
    "ScenarioError",
    "ScenarioFileNotFound",
    "Simulation",
    "Sourcing",
    "Stockpile",
    "StockpileRelease",
    "Triangular",
    "Uniform",
    "check_scenario",
    "dump_scenario_yaml",
    "load_scenario",
    "load_scenario_text",
    "parse_distribution",
    "realize",
    "resolve_scenario_data",
    "scenario_json_schema",
    "scenario_sha256",
]
