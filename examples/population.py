"""Evaluate a whole population of networks in parallel, as a NEAT-style search does every
generation: the population is a list of specs, the fitness a plain function of a compiled plan,
and ``nngraph.distributed.map_networks`` runs it here or on Dask workers.

    python examples/population.py                 # in this process
    python examples/population.py local:2         # on 2 local worker processes
    python examples/population.py tcp://host:8786 # on a running Dask scheduler

With neat-python, convert each genome with ``nngraph.interchange.from_neat(genome, config)``, hand
the list to ``map_networks`` and assign the returned fitnesses to ``genome.fitness``. That pays
when genomes are large or scored on many rows (a 2,876-connection genome on 1,000 rows runs about
50x faster than neat-python's ``activate``). For small genomes scored on a few samples (XOR's
four) it does not: converting and compiling cost about 2 ms of CPU per genome, some 60x what
neat-python's own ``activate`` costs there, so keep neat-python's evaluators for those (figures
in docs/scaling.md, from ``python benchmarks/interchange.py --population``).
"""
import sys

import numpy as np

from nngraph.distributed import connect, map_networks

XOR_X = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=float)
XOR_Y = np.array([0, 1, 1, 0], dtype=float)


def genome(rng, hidden):
    """A random genome written as a spec: 2 inputs, ``hidden`` tanh neurons, one sigmoid output,
    some direct input-to-output connections (the irregular graphs NEAT evolves)."""
    nodes = ["  - {name: x, role: input, size: 2}", f"  - {{name: h, size: {hidden}, activation: tanh}}",
             "  - {name: out, role: output, activation: sigmoid, bias: %.4f}" % rng.normal()]
    edges = ["  - {from: x, to: h, weights: %s}" % np.round(rng.normal(size=(2, hidden)) * 2, 3).tolist(),
             "  - {from: h, to: out, weights: %s}" % np.round(rng.normal(size=(hidden, 1)) * 2, 3).tolist()]
    if rng.random() < 0.5:
        edges.append("  - {from: 'x[0]', to: out, weight: %.3f}" % rng.normal())
    return "\n".join(["nngraph: 1", "name: genome", "nodes:", *nodes, "edges:", *edges]) + "\n"


def fitness(plan):
    """4 minus the squared error on XOR: module level, so Dask workers can import it."""
    return float(4 - ((plan.forward(XOR_X)[:, 0] - XOR_Y) ** 2).sum())


def main(address=None, size=40, seed=0):
    rng = np.random.default_rng(seed)
    population = [genome(rng, int(rng.integers(1, 6))) for _ in range(size)]
    with connect(address) as client:  # None: this process
        scores = map_networks(fitness, population, client)
    best = int(np.argmax(scores))
    print(f"{len(scores)} networks evaluated; best fitness {scores[best]:.3f} (genome {best})")
    return scores


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else None)
