from helpers import _example_copies, write_spec  # noqa: F401  (fixtures)
