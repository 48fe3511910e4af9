"""A Ctrl-C while the command line is still being imported ends the command as a later one does:
one line, exit status 130, no traceback."""
import subprocess
import sys

import pytest

# a finder that receives the Ctrl-C exactly while the CLI package is being looked up for import
EARLY = """
import os, signal, sys
import nngraph.entry
class Interrupting:
    def find_spec(self, name, path, target=None):
        if name == "nngraph.cli":
            os.kill(os.getpid(), signal.SIGINT)
        return None
sys.meta_path.insert(0, Interrupting())
sys.argv = ["nngraph", "--help"]
sys.exit(nngraph.entry.main())
"""


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")
def test_a_ctrl_c_while_the_cli_is_imported_is_one_line_and_status_130():
    result = subprocess.run([sys.executable, "-c", EARLY], capture_output=True, text=True, timeout=60)
    assert result.returncode == 130, result.stderr
    assert result.stderr == "interrupted\n" and "Traceback" not in result.stderr
    assert result.stdout == ""


def test_the_entry_point_runs_the_cli():
    result = subprocess.run([sys.executable, "-c", "import sys; sys.argv = ['nngraph', '--version']; "
                             "import nngraph.entry; sys.exit(nngraph.entry.main())"], capture_output=True, text=True,
                            timeout=60)
    assert result.returncode == 0 and "nngraph, version" in result.stdout, result.stderr
