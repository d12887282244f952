"""Close the loop: history, KPIs, tuning proposals, simulation and reports.

Everything here is pure (rows in, figures out) except ``source``, which reads the tables,
so the tuning Lambda, the CLI and the tests share one engine.
"""
