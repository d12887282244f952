"""Use cases: each wires pure domain functions to the repositories for one step."""
