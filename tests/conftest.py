import os

from hypothesis import settings

from helpers import _example_copies, write_spec  # noqa: F401  (fixtures)

# CI (.ci/run sets NNGRAPH_CI) draws the property tests' examples from a fixed seed, so that a
# red run can be repeated exactly and a green one means the same thing every time; elsewhere each
# run draws new examples, and keeps the failing ones in .hypothesis/ to try first next time.
settings.register_profile("ci", derandomize=True, database=None, print_blob=True)
if os.environ.get("NNGRAPH_CI"):
    settings.load_profile("ci")


def pytest_configure(config):
    """Dask's workers keep their scratch space in the system's temporary folder by default, shared
    by every run on the machine (two runs at once delete each other's worker folders): the tests'
    workers, in process or started by the CLI, use a folder of their own."""
    import os
    import tempfile

    config._nngraph_dask_tmp = tempfile.mkdtemp(prefix="nngraph-tests-dask-")
    os.environ["DASK_TEMPORARY_DIRECTORY"] = config._nngraph_dask_tmp


def pytest_unconfigure(config):
    import shutil

    folder = getattr(config, "_nngraph_dask_tmp", None)
    if folder:
        shutil.rmtree(folder, ignore_errors=True)
