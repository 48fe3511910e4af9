"""Digits that are not ASCII ('²', which int() refuses; '١', which it reads as 1) are never taken
as numbers where nngraph reads an index or a count from text: they are names, or refused."""
import pytest

from nngraph import distributed as D
from nngraph.distributed import ClusterError


from helpers import cli


def test_an_unknown_key_made_of_such_digits_is_reported(tmp_path):
    spec = tmp_path / "k.yaml"
    spec.write_text('nngraph: 1\nname: u\n"²": 1\nnodes:\n  - {name: x, role: input, size: 2, "³": 1}\n'
                    "  - {name: out, role: output, activation: sigmoid}\nedges:\n  - {from: x, to: out}\n")
    code, _, err = cli("validate", spec)
    assert code == 1 and "internal error" not in err
    assert "k.yaml:3:1: ²: unknown key '²'" in err
    assert "k.yaml:5:37: nodes[0].³: unknown key '³'" in err


@pytest.mark.parametrize("address", ["local:²", "local:١", "local:٣"])
def test_a_local_cluster_size_in_such_digits_is_refused(address):
    with pytest.raises(ClusterError, match="write local or local:N with N workers"):
        with D.connect(address):
            pass
