"""Random feed-forward genomes made by neat-python itself, for the interchange tests and benchmarks."""
import random

ALL_ACTIVATIONS = ("sigmoid tanh sin gauss relu elu lelu selu softplus identity clamped inv log exp abs hat "
                   "square cube")

CONFIG = """\
[NEAT]
fitness_criterion     = max
fitness_threshold     = 1e9
pop_size              = 10
reset_on_extinction   = False
no_fitness_termination = True

[DefaultGenome]
activation_default      = random
activation_mutate_rate  = 0.5
activation_options      = {activations}
aggregation_default     = random
aggregation_mutate_rate = 0.2
aggregation_options     = {aggregations}
bias_init_mean          = 0.0
bias_init_stdev         = 1.0
bias_max_value          = 30.0
bias_min_value          = -30.0
bias_mutate_power       = 0.5
bias_mutate_rate        = 0.7
bias_replace_rate       = 0.1
compatibility_disjoint_coefficient = 1.0
compatibility_weight_coefficient   = 0.5
conn_add_prob           = {conn_add}
conn_delete_prob        = 0.2
enabled_default         = True
enabled_mutate_rate     = 0.2
feed_forward            = True
initial_connection      = {initial}
node_add_prob           = {node_add}
node_delete_prob        = 0.1
num_hidden              = {hidden}
num_inputs              = {inputs}
num_outputs             = {outputs}
response_init_mean      = 1.0
response_init_stdev     = 0.5
response_max_value      = 30.0
response_min_value      = -30.0
response_mutate_power   = 0.3
response_mutate_rate    = 0.5
response_replace_rate   = 0.1
weight_init_mean        = 0.0
weight_init_stdev       = 1.0
weight_max_value        = 30
weight_min_value        = -30
weight_mutate_power     = 0.5
weight_mutate_rate      = 0.8
weight_replace_rate     = 0.1

[DefaultSpeciesSet]
compatibility_threshold = 3.0

[DefaultStagnation]
species_fitness_func = max
max_stagnation       = 20
species_elitism      = 2

[DefaultReproduction]
elitism            = 2
survival_threshold = 0.2
"""


def neat_config(folder, *, inputs=4, outputs=3, hidden=2, activations=ALL_ACTIVATIONS, aggregations="sum mean",
                initial="partial_direct 0.5", conn_add=0.5, node_add=0.5):
    import neat
    from neat.innovation import InnovationTracker

    path = folder / "neat.cfg"
    path.write_text(CONFIG.format(inputs=inputs, outputs=outputs, hidden=hidden, activations=activations,
                                  aggregations=aggregations, initial=initial, conn_add=conn_add, node_add=node_add))
    config = neat.Config(neat.DefaultGenome, neat.DefaultReproduction, neat.DefaultSpeciesSet,
                         neat.DefaultStagnation, str(path))
    config.genome_config.innovation_tracker = InnovationTracker()
    return config


def random_genome(config, seed, mutations):
    """A genome from random initial connectivity and ``mutations`` rounds of neat-python's mutation."""
    import neat

    random.seed(seed)
    genome = neat.DefaultGenome(seed)
    genome.configure_new(config.genome_config)
    for _ in range(mutations):
        genome.mutate(config.genome_config)
    return genome


def network_and_json(config, genome):
    import neat
    from neat.export import export_network_json

    net = neat.nn.FeedForwardNetwork.create(genome, config)
    return net, export_network_json(net)


__all__ = ["neat_config", "random_genome", "network_and_json"]
