"""from_neat takes what a neat-python user holds: a genome with its config, or its FeedForwardNetwork."""
import numpy as np
import pytest

from nngraph.compile import compile
from nngraph.errors import NNGraphError
from nngraph.interchange import NeatImportError, from_neat

from neatnets import neat_config, network_and_json, random_genome

neat = pytest.importorskip("neat")


@pytest.fixture(scope="module")
def config(tmp_path_factory):
    return neat_config(tmp_path_factory.mktemp("neat"))


@pytest.mark.parametrize("seed", range(6))
def test_genome_and_network_give_what_neat_python_computes(config, seed):
    genome = random_genome(config, seed, mutations=3 + seed)
    net, text = network_and_json(config, genome)
    x = np.random.default_rng(seed).normal(0, 1.5, (8, 4))
    expected = np.array([net.activate(list(map(float, row))) for row in x])
    from_json = compile(from_neat(text), dtype=np.float64).forward(x)
    for source in ((genome, config), (net,)):
        spec = from_neat(*source)
        got = compile(spec, dtype=np.float64).forward(x)
        np.testing.assert_allclose(got, expected, rtol=1e-6, atol=1e-6, equal_nan=True)
        np.testing.assert_array_equal(got, from_json)  # the same spec as through the JSON file
    assert from_neat(genome, config).name == f"genome-{genome.key}"
    assert from_neat(genome, config, name="best").name == "best"


def test_genome_without_its_config_is_refused_naming_the_call(config):
    genome = random_genome(config, 1, 2)
    with pytest.raises(NeatImportError, match=r"^<genome 1>: a genome needs the neat.Config .*from_neat\(genome, "
                       r"config\)$"):
        from_neat(genome)
    with pytest.raises(NeatImportError, match=r"from_neat\(genome, config\) \(got a str as config\)"):
        from_neat(genome, "neat.cfg")


@pytest.mark.parametrize("thing", [3, b"{}", [1, 2], object()])
def test_anything_else_is_refused_naming_what_is_accepted(thing):
    with pytest.raises(NNGraphError, match=rf"^from_neat: cannot import an object of type {type(thing).__name__}; "
                       r"it takes a neat-python genome with its config .*, a neat.nn.FeedForwardNetwork, or "
                       r"neat-python's JSON export \(export_network_json\) as a path, JSON text or dict$"):
        from_neat(thing)


def test_recurrent_network_is_refused(config):
    genome = random_genome(config, 2, 2)
    with pytest.raises(NeatImportError, match=r"^<RecurrentNetwork>: a RecurrentNetwork keeps state between "
                       r"activations; nngraph specs are feed-forward"):
        from_neat(neat.nn.RecurrentNetwork.create(genome, config))
