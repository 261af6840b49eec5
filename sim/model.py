"""TraffickingModel: the Mesa model that owns the clock, the agents and the daily schedule.

One step is one calendar day. The day reads top to bottom in :meth:`TraffickingModel.step`;
each line is one call into :mod:`sim.rules` or an agent set, and what the rules share is the
explicit :class:`~sim.today.Today` context. Migrants are array-backed (:mod:`sim.population`),
their exits run on :mod:`sim.exits`; recruiters, compounds and agencies are ``mesa.Agent``
objects in the model's agent sets. Mesa's ``time`` is the one clock: day ``d`` (0 = start
date) is simulated while ``time == d + 1``.
"""

from __future__ import annotations

import mesa
import pandas as pd

from . import draws, outputs
from .agents.agencies import BorderControl, DestinationPolice, Embassy, IndonesianPolice
from .agents.compound import Compounds
from .agents.recruiter import Recruiters
from .config import ConfigError, TipsimConfig, parse_date, validate
from .exits import ExitEngine
from .job_progress import JobProgress
from .levers import Levers, LeverSchedule
from .population import MigrantPopulation
from .rng import Streams
from .rules import EXIT_RATES, exits, exploitation, initial, recruitment, return_migration, travel
from .today import Today
from .world import World


class TraffickingModel(mesa.Model):
    """The trafficking pipeline from online recruitment to compounds and back, one day a step.

    Args:
        cfg: a validated run configuration.
        world: a loaded world (loaded from ``cfg.world`` when omitted).
    """

    def __init__(self, cfg: TipsimConfig, world: World | None = None):
        interventions = validate(cfg)
        streams = Streams(cfg.seed, cfg.replicate)
        super().__init__(rng=streams.generator(draws.MESA))
        self.streams = streams
        self.cfg = cfg
        self.params = cfg.params
        self.world = world if world is not None else World(cfg.world)
        self.countries = self.world.destination_countries
        if cfg.scenario.reference_country not in self.countries:
            raise ConfigError(f"scenario.reference_country = {cfg.scenario.reference_country!r}: not a destination "
                              f"country of the world '{self.world.name}'; allowed: {', '.join(self.countries)}")
        self.reference_country = self.countries.index(cfg.scenario.reference_country)
        """Slot of the scenario's reference country (its embassy's cases; displacement is arrivals elsewhere)."""
        self.start_date = parse_date(cfg.start_date, "start_date")
        self.end_date = parse_date(cfg.end_date, "end_date")
        self.n_days = (self.end_date - self.start_date).days + 1
        self.dates = pd.date_range(self.start_date, periods=self.n_days, freq="D")

        self.travel_factor = self.world.travel_factors(self.start_date, self.n_days)
        for iv in interventions:
            iv.bind(self.world)
        self.interventions = interventions
        self.lever_schedule = LeverSchedule(Levers.baseline(self.params, self.world), interventions, self.n_days)

        self.population = MigrantPopulation()
        self.attributes = recruitment.AttributeSampler(self.params.population)
        self.exits = ExitEngine(self, EXIT_RATES, len(self.countries))
        self.recruiters = Recruiters(self, self.params.recruitment.compounds_per_recruiter)
        self.compounds = Compounds(self)
        self.indonesian_police = IndonesianPolice(self)
        self.border = BorderControl(self)
        for c in range(len(self.countries)):
            Embassy(self, c)
            DestinationPolice(self, c)
        self.routes = travel.RouteMemory(self)
        self.record = outputs.Recorder.for_model(self)
        initial.populate(self)

    @property
    def embassies(self) -> list[Embassy]:
        """The Indonesian embassy in each destination country (in country order)."""
        return list(self.agents_by_type[Embassy])

    @property
    def destination_police(self) -> list[DestinationPolice]:
        """The police of each destination country (in country order)."""
        return list(self.agents_by_type[DestinationPolice])

    @property
    def days_done(self) -> int:
        """Days simulated so far (Mesa's time)."""
        return int(self.time)

    # -- the day --------------------------------------------------------------------------

    def step(self) -> None:
        """Simulate one day."""
        day = self.days_done - 1  # Mesa advanced its clock to the end of the day being simulated
        self.record.day = day
        today = Today(
            day=day,
            levers=self.lever_schedule.for_day(day),
            access=travel.destination_access(self, day),
            awareness=exploitation.embassy_awareness(self, day),
        )
        self.exits.begin_day(today)
        exploitation.compound_growth(self, today)
        today.supply = recruitment.recruiter_dynamics(self, today)
        recruitment.new_contacts(self, today)
        recruitment.decisions(self, today)
        recruitment.departures(self, today)
        travel.journeys(self, today)
        self.routes.learn_risk()
        exploitation.compound_life(self, today)
        exploitation.raids(self, today)
        exits.handovers(self, today)
        exits.deportations(self, today)
        exits.repatriations(self, today)
        return_migration.remigration(self, today)
        travel.other_crossings(self, today)
        outputs.record_stocks(self, today)
        self.running = self.days_done < self.n_days

    def run(self, progress: bool | str = False) -> pd.DataFrame:
        """Run to the end of the horizon and return the daily table.

        ``progress``: ``True`` a bar on a terminal and a log line every 10% of the days otherwise,
        or a mode (``bar``, ``log``, ``quiet``; :class:`sim.job_progress.JobProgress`).
        """
        with JobProgress("run", self.n_days, progress, "day") as bar:
            while self.running:
                self.step()
                bar.update(lambda: f"{self.dates[self.days_done - 1]:%Y-%m-%d} simulated")
        return self.daily()

    def daily(self) -> pd.DataFrame:
        """The daily table of the days simulated so far: one row per day, ``date`` first.

        After a full :meth:`run` that is every day of the horizon; after ``k`` calls of
        :meth:`step` it is the first ``k`` days only (no rows for days not yet simulated, so a
        partly stepped model never shows zeros it has not computed).
        """
        return self.record.frame(self.dates[: self.days_done])

    def route_table(self) -> pd.DataFrame:
        """Travellers per year and route (one row each): who travelled each leg, by the year they set out."""
        return self.routes.table()
