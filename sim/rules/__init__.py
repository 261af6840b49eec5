"""The vectorised migrant submodels, one module per part of the life cycle.

``recruitment`` (contacts, decisions, departure), ``travel`` (routes, legs, checkpoints,
arrival), ``exploitation`` (life in compounds, raids), ``exits`` (escape, rescue, release,
detention, shelter, going home), ``return_migration`` (repeat migration) and ``initial``
(the start date). Every function works on arrays of people; none loops over people.
"""
