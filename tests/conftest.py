from helpers import write_spec  # noqa: F401  (fixture)
