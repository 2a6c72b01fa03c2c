"""The scenario language: typed models, YAML loading with positions, located errors."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..lazy import lazy_attributes

if TYPE_CHECKING:
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
    from .errors import Problem, ScenarioError, ScenarioFileNotFound, ScenarioWarning
    from .loader import (
        dump_scenario_yaml,
        load_scenario,
        load_scenario_text,
        load_scenario_with_warnings,
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
    "ScenarioWarning",
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
    "load_scenario_with_warnings",
    "parse_distribution",
    "realize",
    "resolve_scenario_data",
    "scenario_json_schema",
    "scenario_sha256",
]

# imported on first use (simulator.lazy): the command line imports this package for a few
# light names and should not pay for the rest
__getattr__, __dir__ = lazy_attributes(__name__, {
    "Allocation": ".models",
    "Choice": ".distributions",
    "Country": ".models",
    "Demand": ".models",
    "Distribution": ".distributions",
    "Facility": ".models",
    "LeadTimes": ".models",
    "Material": ".models",
    "Normal": ".distributions",
    "Problem": ".errors",
    "Recipe": ".models",
    "Scenario": ".models",
    "ScenarioError": ".errors",
    "ScenarioFileNotFound": ".errors",
    "ScenarioWarning": ".errors",
    "Simulation": ".models",
    "Sourcing": ".models",
    "Stockpile": ".models",
    "StockpileRelease": ".models",
    "Triangular": ".distributions",
    "Uniform": ".distributions",
    "check_scenario": ".checks",
    "dump_scenario_yaml": ".loader",
    "load_scenario": ".loader",
    "load_scenario_text": ".loader",
    "load_scenario_with_warnings": ".loader",
    "parse_distribution": ".distributions",
    "realize": ".distributions",
    "resolve_scenario_data": ".loader",
    "scenario_json_schema": ".loader",
    "scenario_sha256": ".loader",
}, globals())
