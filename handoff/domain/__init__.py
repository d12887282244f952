"""Pure domain logic: pydantic models in, pydantic models out, no I/O."""
