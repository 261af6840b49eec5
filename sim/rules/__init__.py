"""The vectorised migrant submodels, one module per part of the life cycle.

``recruitment`` (contacts, decisions, departure), ``travel`` (routes, legs, checkpoints,
interception, arrival), ``exploitation`` (life in compounds, becoming held, raids), ``exits``
(escape, rescue, release, detention, shelter, going home), ``return_migration`` (repeat
migration) and ``initial`` (the start date). Every function works on arrays of people; none
loops over people. Each takes the model and the day's :class:`~sim.today.Today` context.

:data:`EXIT_RATES` gives the exit engine (:mod:`sim.exits`) the hazards and per-person
multipliers of every hazard state of :data:`sim.lifecycle.EXITS`.
"""

from ..exits import ExitRates
from ..lifecycle import State
from . import exits, exploitation, return_migration

EXIT_RATES: dict[State, ExitRates] = {
    State.WORKING: ExitRates(exploitation.working_hazards, exploitation.working_multipliers),
    State.EXPLOITED: ExitRates(exploitation.exploited_hazards, exploitation.exploited_multipliers),
    State.DETAINED: ExitRates(exits.detention_hazards),
    State.SHELTER: ExitRates(exits.shelter_hazards),
    State.HOME: ExitRates(return_migration.home_hazards, return_migration.home_multipliers),
}
"""Hazards (1/day, per destination group and exit) and multipliers (per person and exit, set on
entry) of every hazard state."""
