"""The spec language, format version 1, as frozen pydantic models.

These models check each value on its own (types, ranges, closed registries of names). Checks
that relate several parts of a spec (references, shapes, cycles) live in :mod:`nngraph.graph`.
Every field has a description: they become the JSON Schema that editors use (``nngraph schema``).
No ``from __future__ import annotations``: pydantic then reads each annotation as it is, where it
would evaluate every string again when it builds the models (1% of ``nngraph validate``).
"""
from typing import Annotated, Any, Literal, Optional, Union

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Discriminator,
    Field,
    PrivateAttr,
    Strict,
    StringConstraints,
    Tag,
    WrapSerializer,
    WrapValidator,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError

from .columns import dump_connections, dump_edges, make_edge_validator, validate_connections

FORMAT_VERSION = 1

# A neuron reference: a node (`h1`), one neuron (`h1[3]`) or a slice (`h1[0:64]`, `h1[8:]`).
REF_PATTERN = r"^[A-Za-z_][A-Za-z0-9_]*(\[(-?[0-9]+|-?[0-9]*:-?[0-9]*)\])?$"



def lone_surrogate(text: str) -> str | None:
    """What is wrong with ``text`` if it holds a lone surrogate (JSON can spell one, ``"\\ud800"``):
    half of a pair that is no character, and that no file, terminal or drawing can hold."""
    if text.isascii():
        return None
    try:
        text.encode("utf-8")
        return None
    except UnicodeEncodeError as exc:
        shown = repr(text) if len(repr(text)) <= 40 else repr(text)[:37] + "..."
        return (f"{shown} holds a lone surrogate (\\u{ord(text[exc.start]):04x}, character {exc.start + 1}), which is "
                "not a character: no file or terminal can hold it; write the character itself (JSON escapes beyond "
                "U+FFFF come in pairs, \\ud83d\\ude00) or remove it")


def _text(value: str) -> str:
    problem = lone_surrogate(value)
    if problem is not None:
        raise PydanticCustomError("lone_surrogate", "{problem}", {"problem": problem})
    return value


# Free text and file names: any string that is text (names and references are checked by pattern).
Text = Annotated[str, AfterValidator(_text)]
Identifier = Annotated[str, StringConstraints(pattern=r"^[A-Za-z_][A-Za-z0-9_]*$", max_length=128)]
NeuronRef = Annotated[str, StringConstraints(pattern=REF_PATTERN, max_length=200)]
Finite = Annotated[float, Field(allow_inf_nan=False)]
Probability = Annotated[float, Field(ge=0.0, lt=1.0, allow_inf_nan=False)]
Penalty = Annotated[float, Field(ge=0, allow_inf_nan=False)]  # l1, l2
Bound = Annotated[float, Field(gt=0, allow_inf_nan=False)]  # max_norm, clip_norm

ACTIVATIONS = ("linear", "step", "sign", "sigmoid", "tanh", "relu", "leaky_relu", "elu", "softplus", "softmax",
               # evolved networks (neat-python), exactly as neat-python computes them: see docs/spec.md
               "selu", "clamped", "abs", "square", "cube", "hat", "neat_sigmoid", "neat_tanh", "neat_sin",
               "neat_gauss", "neat_softplus", "neat_exp", "neat_log", "neat_inv")
INITIALIZERS = ("zeros", "ones", "constant", "normal", "uniform", "xavier_normal", "xavier_uniform",
                "glorot_normal", "glorot_uniform", "he_normal", "he_uniform")
OPTIMIZERS = ("sgd", "momentum", "nesterov", "adagrad", "rmsprop", "adam")
LOSSES = ("mse", "cross_entropy", "binary_cross_entropy")
MAX_EPOCHS = 1_000_000  # train.epochs, --epochs and train(epochs=...) share this bound
SOURCES = ("mnist", "fashion_mnist", "digits", "xor", "and", "or", "moons", "circles", "blobs",
           "csv", "npz", "inline")


class Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True, populate_by_name=True,
                              validate_default=False)

    def model_copy(self, *, update=None, deep: bool = False):
        """A copy; with ``update`` the result is validated as a spec file is (the same messages and
        did-you-mean, located at the key of ``update``), and a whole spec also as ``nngraph validate``
        checks one (references, sizes, cycles): editing in Python cannot make an invalid spec."""
        if not update:
            return super().model_copy(deep=deep)
        from .overrides import copied_with

        return copied_with(self, update)

    def __setattr__(self, name, value):
        if name in type(self).model_fields:
            from .overrides import frozen_error

            raise frozen_error(self, name, value)
        super().__setattr__(name, value)

    def __delattr__(self, name):
        if name in type(self).model_fields:
            from .overrides import frozen_error

            raise frozen_error(self, name, None)
        super().__delattr__(name)


def _named(value: Any) -> Any:
    """Let ``relu`` stand for ``{name: relu}`` (activations, initializers, optimizers)."""
    return {"name": value} if isinstance(value, str) else value


class Activation(Model):
    """What a neuron applies to its weighted sum: a name, with parameters where it has any."""

    name: Literal[ACTIVATIONS] = Field(description="Activation function.")  # type: ignore[valid-type]
    alpha: Optional[Finite] = Field(None, description="Slope below zero (leaky_relu, default 0.01) "
                                    "or saturation value (elu, default 1.0).")

    @model_validator(mode="before")
    @classmethod
    def _accept_string(cls, value):
        return _named(value)

    @model_validator(mode="after")
    def _alpha_only_where_used(self):
        if self.alpha is not None and self.name not in ("leaky_relu", "elu"):
            raise ValueError(f"'alpha' applies to leaky_relu and elu, not to {self.name}")
        return self

    @property
    def key(self) -> tuple:
        alpha = self.alpha
        if alpha is None and self.name in ("leaky_relu", "elu"):
            alpha = 0.01 if self.name == "leaky_relu" else 1.0
        return (self.name, alpha)


class Initializer(Model):
    """A seeded random (or constant) rule that fills weights or biases."""

    name: Literal[INITIALIZERS] = Field(description="Initializer: zeros, ones, constant (value), normal "
                                        "(mean, std), uniform (low, high), xavier/glorot and he (normal or uniform).")  # type: ignore[valid-type]
    value: Optional[Finite] = Field(None, description="constant: the value.")
    mean: Optional[Finite] = Field(None, description="normal: the mean (default 0).")
    std: Optional[Annotated[float, Field(gt=0, allow_inf_nan=False)]] = Field(None, description="normal: standard deviation (default 0.05).")
    low: Optional[Finite] = Field(None, description="uniform: lower bound (default -0.05).")
    high: Optional[Finite] = Field(None, description="uniform: upper bound (default 0.05).")
    gain: Optional[Annotated[float, Field(gt=0, allow_inf_nan=False)]] = Field(None, description="Scale factor for xavier/he (default 1).")
    seed: Optional[Annotated[int, Field(ge=0, lt=2**63)]] = Field(None, description="Seed; default derived from train.seed and the parameter's name.")

    @model_validator(mode="before")
    @classmethod
    def _accept_string(cls, value):
        return _named(value)

    @model_validator(mode="after")
    def _params_fit(self):
        allowed = {"constant": {"value"}, "normal": {"mean", "std"}, "uniform": {"low", "high"}}
        allowed.update({n: {"gain"} for n in INITIALIZERS if n.endswith(("_normal", "_uniform")) and n not in ("normal", "uniform")})
        given = {k for k in ("value", "mean", "std", "low", "high", "gain") if getattr(self, k) is not None}
        extra = given - allowed.get(self.name, set())
        if extra:
            raise ValueError(f"{self.name} takes no {', '.join(sorted(extra))}")
        if self.name == "constant" and self.value is None:
            raise ValueError("constant needs 'value'")
        if self.name == "uniform" and (self.low if self.low is not None else -0.05) >= (self.high if self.high is not None else 0.05):
            raise ValueError("uniform needs low < high")
        return self


def _bias_kind(v: Any) -> str:
    if isinstance(v, (list, tuple)):
        return "list"
    if isinstance(v, (dict, str)) or isinstance(v, Initializer):
        return "initializer"  # a tag, never a key: it must not look like a field such as Edge.init
    return "number"


BiasSpec = Annotated[
    Union[Annotated[Finite, Tag("number")], Annotated[list[Finite], Tag("list")],
          Annotated[Initializer, Tag("initializer")]],
    Discriminator(_bias_kind),
]


class Node(Model):
    """A node is a layer of ``size`` neurons sharing an activation (size 1: a single neuron)."""

    name: Identifier = Field(description="Unique name, used by edges (`from: hidden1`).")
    size: Annotated[int, Field(ge=1)] = Field(1, description="Number of neurons.")
    role: Literal["input", "hidden", "output"] = Field("hidden", description="input, hidden or output.")
    activation: Optional[Activation] = Field(None, description="Activation (default linear); inputs have none.")
    bias: Optional[BiasSpec] = Field(None, description="A number, a list of `size` numbers, or an initializer "
                                     "(default zeros); inputs have none.")
    labels: Optional[list[Text]] = Field(None, description="A name per neuron (input features or output classes).")
    dropout: Optional[Probability] = Field(None, description="Dropout rate applied to this node's outputs in training.")
    l1: Optional[Penalty] = Field(None, description="L1 penalty on the weights into this node (overrides train.l1; "
                                  "an edge's own l1 overrides this).")
    l2: Optional[Penalty] = Field(None, description="L2 penalty on the weights into this node (overrides train.l2; "
                                  "an edge's own l2 overrides this).")
    max_norm: Optional[Bound] = Field(None, description="Largest L2 norm of each of this node's neurons' incoming "
                                      "weights (overrides train.max_norm).")
    trainable: bool = Field(True, description="false freezes this node's bias.")
    description: Optional[Text] = Field(None, description="Free text.")


def _weights_kind(v: Any) -> str:
    if isinstance(v, (list, tuple)) and v and all(isinstance(r, (list, tuple)) for r in v):
        return "matrix"
    return "vector"


WeightsSpec = Annotated[
    Union[Annotated[list[list[Finite]], Tag("matrix")], Annotated[list[Finite], Tag("vector")]],
    Discriminator(_weights_kind),
]

# A list is a fine way to write a tuple in YAML/JSON: relax strictness for the container only.
Index = Annotated[int, Strict(), Field(ge=0, lt=2**63)]  # beyond int64 no node has such a neuron
StrictFinite = Annotated[float, Strict(), Field(allow_inf_nan=False)]
Triple = Union[Annotated[tuple[Index, Index, StrictFinite], Strict(False)],
               Annotated[tuple[Index, Index], Strict(False)]]
# held as columns (spec.columns.ConnectionTable): a million rows are checked a column at a time
Connections = Annotated[list[Triple], WrapValidator(validate_connections),
                        WrapSerializer(lambda v, handler: handler(dump_connections(v)))]


class Edge(Model):
    """Connections from the neurons of one reference to the neurons of another."""

    from_: NeuronRef = Field(alias="from", description="Source: `node`, `node[i]` or `node[i:j]`.")
    to: NeuronRef = Field(description="Target: `node`, `node[i]` or `node[i:j]`.")
    pattern: Literal["dense", "one_to_one", "sparse", "random"] = Field(
        "dense", description="dense (all to all), one_to_one (i to i), sparse (listed connections) "
        "or random (density, seed).")
    weight: Optional[Finite] = Field(None, description="The weight, for one neuron to one neuron.")
    weights: Optional[WeightsSpec] = Field(None, description="dense: a matrix [from size][to size]; "
                                           "one_to_one: a list of size numbers.")
    connections: Optional[Connections] = Field(None, description="sparse: [i, j, w] triples (or [i, j] with "
                                                "init), i and j counted within the from and to references.")
    density: Optional[Annotated[float, Field(gt=0, le=1, allow_inf_nan=False)]] = Field(
        None, description="random: fraction of possible connections present.")
    seed: Optional[Annotated[int, Field(ge=0, lt=2**63)]] = Field(None, description="random: seed of the connection pattern.")
    init: Optional[Initializer] = Field(None, description="Initializer for weights not given literally.")
    trainable: bool = Field(True, description="false freezes these weights.")
    l1: Optional[Penalty] = Field(None, description="L1 penalty on these weights (overrides the target node's "
                                  "l1 and train.l1).")
    l2: Optional[Penalty] = Field(None, description="L2 penalty on these weights (overrides the target node's "
                                  "l2 and train.l2).")
    description: Optional[Text] = Field(None, description="Free text.")

    @model_validator(mode="after")
    def _pattern_fields(self):
        if (self.connections is None and self.density is None and self.seed is None and self.pattern == "dense"
                and (self.weight is None or (self.weights is None and self.init is None))
                and (self.weights is None or self.init is None)):
            return self  # the common case, checked cheaply: specs can hold 100k edges
        given = [k for k in ("weight", "weights", "connections") if getattr(self, k) is not None]
        if len(given) > 1:
            raise ValueError(f"give one of weight, weights, connections, not {' and '.join(given)}")
        if given and self.init is not None and given != ["connections"]:
            raise ValueError(f"give either {given[0]} or init, not both")
        wants = {"sparse": "connections", "random": "density"}
        if self.pattern in wants and getattr(self, wants[self.pattern]) is None:
            raise ValueError(f"pattern {self.pattern} needs '{wants[self.pattern]}'")
        if self.connections is not None and self.pattern != "sparse":
            raise ValueError("'connections' needs pattern: sparse")
        if (self.density is not None or self.seed is not None) and self.pattern != "random":
            raise ValueError("'density' and 'seed' need pattern: random")
        if self.pattern == "random" and self.weights is not None:
            raise ValueError("pattern random takes init, not literal weights")
        if self.connections is not None:
            lengths = (self.connections.row_lengths() if hasattr(self.connections, "row_lengths")
                       else {len(c) for c in self.connections})
            if len(lengths) > 1:
                raise ValueError("connections must be all [i, j, w] or all [i, j]")
            if lengths == {3} and self.init is not None:
                raise ValueError("connections given as [i, j, w] already have weights; remove init")
        return self


# the keys of each schedule besides name and warmup (any schedule's); a key of another one is refused
SCHEDULE_KEYS = {"step": ("step_size", "gamma"), "exponential": ("gamma",), "cosine": ("period", "min_rate"),
                 "plateau": ("factor", "patience", "min_delta", "min_rate")}
EXPONENTIAL_GAMMA = 0.95


class Schedule(Model):
    """How the learning rate changes from epoch to epoch (book ch. 4)."""

    name: Literal["constant", "step", "exponential", "cosine", "plateau"] = Field(
        description="constant; step (times gamma every step_size epochs); exponential (times gamma each epoch); "
        "cosine (down to min_rate over period epochs); plateau (times factor when the validation loss "
        "has not improved for patience epochs).")
    warmup: Annotated[int, Field(ge=0, le=1_000_000)] = Field(0, description="Epochs of linear warm-up "
                                                              "(rate * epoch / warmup) before the schedule starts.")
    step_size: Annotated[int, Field(ge=1, le=1_000_000)] = Field(10, description="step: epochs between decays.")
    gamma: Annotated[float, Field(gt=0, le=1, allow_inf_nan=False)] = Field(
        0.5, description="step: decay factor every step_size epochs (default 0.5); exponential: decay factor each "
        "epoch (default 0.95: 0.5 would halve the rate every epoch, a thousandth of it by epoch 11).")
    period: Optional[Annotated[int, Field(ge=1, le=1_000_000)]] = Field(None, description="cosine: epochs from the "
                                                                        "full rate to min_rate (default: all epochs after warm-up).")
    min_rate: Annotated[float, Field(ge=0, allow_inf_nan=False)] = Field(0.0, description="cosine, plateau: lowest rate.")
    factor: Annotated[float, Field(gt=0, lt=1, allow_inf_nan=False)] = Field(0.1, description="plateau: decay factor.")
    patience: Annotated[int, Field(ge=1)] = Field(10, description="plateau: epochs without improvement before a "
                                                  "decay (10, as Keras and PyTorch).")
    min_delta: Annotated[float, Field(ge=0, allow_inf_nan=False)] = Field(0.0, description="plateau: smallest improvement.")

    @model_validator(mode="before")
    @classmethod
    def _accept_string(cls, value):
        value = _named(value)
        if isinstance(value, dict) and value.get("name") == "exponential" and "gamma" not in value:
            value = {**value, "gamma": EXPONENTIAL_GAMMA}
        return value

    @field_validator("step_size", "gamma", "period", "min_rate", "factor", "patience", "min_delta")
    @classmethod
    def _belongs_to_schedule(cls, value, info):
        """A key of another schedule (step_size on an exponential one) would be ignored: refused."""
        name = info.data.get("name")
        owners = [n for n, keys in SCHEDULE_KEYS.items() if info.field_name in keys]
        if name is not None and name not in owners:
            raise PydanticCustomError(
                "schedule_key", "{key} is a key of schedule{s} {owners}, not of {name}: remove it{hint}",
                {"key": info.field_name, "s": "s" if len(owners) > 1 else "", "owners": " and ".join(owners), "name": name,
                 "hint": f", or choose name: {owners[0]}" if len(owners) == 1 else ""})
        return value


class Optimizer(Model):
    """How gradients change the parameters."""

    name: Literal[OPTIMIZERS] = Field(description="sgd, momentum, nesterov, adagrad, rmsprop or adam.")  # type: ignore[valid-type]
    learning_rate: Annotated[float, Field(gt=0, allow_inf_nan=False)] = Field(0.01, description="Step size.")
    momentum: Annotated[float, Field(ge=0, lt=1, allow_inf_nan=False)] = Field(0.9, description="momentum, nesterov: decay of the velocity.")
    beta1: Annotated[float, Field(ge=0, lt=1, allow_inf_nan=False)] = Field(0.9, description="adam: decay of the first moment.")
    beta2: Annotated[float, Field(ge=0, lt=1, allow_inf_nan=False)] = Field(0.999, description="adam: decay of the second moment.")
    rho: Annotated[float, Field(ge=0, lt=1, allow_inf_nan=False)] = Field(0.9, description="rmsprop: decay of the squared-gradient average.")
    epsilon: Annotated[float, Field(gt=0, allow_inf_nan=False)] = Field(1e-8, description="Added to denominators.")
    schedule: Optional[Schedule] = Field(None, description="Learning-rate schedule (default constant).")

    @model_validator(mode="before")
    @classmethod
    def _accept_string(cls, value):
        return _named(value)


class EarlyStopping(Model):
    patience: Annotated[int, Field(ge=1)] = Field(3, description="Epochs without improvement of the validation loss before stopping.")
    min_delta: Annotated[float, Field(ge=0, allow_inf_nan=False)] = Field(0.0, description="Smallest change that counts as improvement.")
    restore_best: bool = Field(True, description="Keep the weights of the best validation epoch.")


class Checkpoint(Model):
    """Periodic snapshots of the training state, so an interrupted run can resume (--resume)."""

    every: Annotated[int, Field(ge=1, le=1_000_000)] = Field(1, description="Epochs between checkpoints.")
    keep: Annotated[int, Field(ge=1, le=1000)] = Field(2, description="How many recent checkpoints to keep.")
    directory: Optional[Text] = Field(None, description="Folder of the checkpoints, relative to the spec's folder "
                                     "(default: <name>.checkpoints).")


class Train(Model):
    """How to train: loss, optimizer, minibatches, epochs, regularisation, seed."""

    loss: Literal[LOSSES] = Field(description="mse, cross_entropy (with softmax outputs) or binary_cross_entropy (sigmoid outputs).")  # type: ignore[valid-type]
    optimizer: Optimizer = Field(Optimizer(name="adam", learning_rate=0.001), description="Optimizer.")
    batch_size: Annotated[int, Field(ge=1, le=1_000_000)] = Field(32, description="Samples per gradient step.")
    epochs: Annotated[int, Field(ge=1, le=MAX_EPOCHS)] = Field(10, description="Passes over the training data.")
    seed: Annotated[int, Field(ge=0, lt=2**63)] = Field(0, description="Seed for initialization, shuffling and dropout.")
    validation_split: Annotated[float, Field(ge=0, lt=1, allow_inf_nan=False)] = Field(
        0.1, description="Fraction of the training data held out to validate after each epoch.")
    shuffle: bool = Field(True, description="Shuffle the training data each epoch.")
    l2: Penalty = Field(0.0, description="L2 penalty on weights (not biases): adds l2/2 * sum(w^2) to the loss; "
                        "a node's or an edge's own l2 overrides it.")
    l1: Penalty = Field(0.0, description="L1 penalty on weights (not biases): adds l1 * sum(|w|) to the loss; "
                        "a node's or an edge's own l1 overrides it.")
    max_norm: Optional[Bound] = Field(
        None, description="Largest L2 norm of each neuron's incoming weights, enforced after every step (Keras MaxNorm); "
        "a node's own max_norm overrides it.")
    clip_norm: Optional[Bound] = Field(
        None, description="Rescale the gradient of all parameters together when its L2 norm exceeds this.")
    checkpoint: Optional[Checkpoint] = Field(None, description="Write the training state every few epochs.")
    early_stopping: Optional[EarlyStopping] = Field(None, description="Stop when the validation loss stops improving.")

    @model_validator(mode="after")
    def _early_stopping_needs_validation(self):
        if self.early_stopping is not None and self.validation_split == 0:
            raise ValueError("early_stopping watches the validation loss: set validation_split above 0")
        sched = self.optimizer.schedule
        if sched is not None and sched.name == "plateau" and self.validation_split == 0:
            raise ValueError("schedule plateau watches the validation loss: set validation_split above 0")
        return self


class Data(Model):
    """Where the examples come from."""

    source: Literal[SOURCES] = Field(description="A built-in dataset (mnist, fashion_mnist, digits, xor, and, or, moons, "
                                     "circles, blobs), a file (csv, npz) or inline rows.")  # type: ignore[valid-type]
    path: Optional[Text] = Field(None, description="csv, npz: the file, relative to the spec's folder.")
    directory: Optional[Text] = Field(None, description="mnist, fashion_mnist: folder with the IDX files, relative to "
                                     "the spec's folder (default: $NNGRAPH_DATA or ~/.nngraph/data).")
    target: Optional[Text] = Field(None, description="csv, npz, inline: the target column (or array) name.")
    columns: Optional[list[Text]] = Field(None, description="inline: the column names of the rows.")
    rows: Optional[list[list[Finite]]] = Field(None, description="inline: the examples, one row each.")
    samples: Optional[Annotated[int, Field(ge=1, le=10_000_000)]] = Field(None, description="Generated sets: how many "
                                                                          "samples; files: use at most this many.")
    noise: Optional[Annotated[float, Field(ge=0, allow_inf_nan=False)]] = Field(None, description="moons, circles, blobs: noise.")
    seed: Annotated[int, Field(ge=0, lt=2**63)] = Field(0, description="Seed for generated sets and splits.")
    normalize: Literal["none", "scale", "standardize"] = Field(
        "none", description="scale: divide by the largest absolute feature value of the training set "
        "(pixels to [0, 1]); standardize: zero mean, unit variance per feature.")
    test_split: Annotated[float, Field(ge=0, lt=1, allow_inf_nan=False)] = Field(
        0.2, description="Fraction held out for testing when the source has no test set of its own.")

    @model_validator(mode="after")
    def _fields_fit_source(self):
        needs = {"csv": ("path", "target"), "npz": ("path",), "inline": ("rows", "columns", "target")}
        missing = [f for f in needs.get(self.source, ()) if getattr(self, f) is None]
        if missing:
            raise ValueError(f"source {self.source} needs {', '.join(missing)}")
        if self.path is not None and self.source not in ("csv", "npz"):
            raise ValueError(f"'path' is for csv and npz sources, not {self.source}")
        if self.rows is not None and self.source != "inline":
            raise ValueError("'rows' needs source: inline")
        if self.directory is not None and self.source not in ("mnist", "fashion_mnist"):
            raise ValueError("'directory' is for mnist and fashion_mnist")
        return self


# single-neuron {from, to, weight} edges held as columns (spec.columns.EdgeList)
Edges = Annotated[list[Edge], WrapValidator(make_edge_validator(Edge)),
                  WrapSerializer(lambda v, handler: handler(dump_edges(v)))]

EdgeRow = Annotated[tuple[Annotated[NeuronRef, Strict()], Annotated[NeuronRef, Strict()], StrictFinite], Strict(False)]


class Spec(Model):
    """A complete network: neurons, connections, and optionally parameters, data and training."""

    schema_: Optional[Text] = Field(None, alias="$schema", description="JSON Schema reference for editors; ignored.")
    nngraph: Literal[1] = Field(description="Format version of the spec language (1).")
    name: Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_][A-Za-z0-9_.\-]*$", max_length=128)] = Field(
        description="Name of the network.")
    description: Optional[Text] = Field(None, description="What the network is for.")
    nodes: Annotated[list[Node], Field(min_length=1)] = Field(description="Neurons: a node of size N is a layer of N neurons.")
    edges: Edges = Field([], description="Connections between nodes, neurons or slices.")
    edge_table: Optional[list[EdgeRow]] = Field(None, description="Compact neuron-level connections: rows of "
                                                "[from neuron, to neuron, weight], e.g. [\"h[3]\", \"out[0]\", 0.5].")
    edge_file: Optional[Text] = Field(None, description="A CSV (from,to,weight) or NPZ (arrays from, to, weight) "
                                     "file of neuron-level connections, relative to the spec's folder.")
    parameters: Optional[Text] = Field(None, description="An .npz of learned weights and biases, relative to the spec's "
                                      "folder; written by training.")
    data: Optional[Data] = Field(None, description="Where the examples come from.")
    train: Optional[Train] = Field(None, description="How to train.")

    _source: Any = PrivateAttr(None)
    _base_dir: Any = PrivateAttr(None)
    _repaired: bool = PrivateAttr(False)  # a copy with failing values left out, for the graph's checks only
    _repair: Any = PrivateAttr(None)  # in such a copy: what was left out or stood in for (spec.load.Repair)

    @field_validator("nngraph", mode="before")
    @classmethod
    def _version_is_the_integer_1(cls, value):
        if type(value) is not int:  # pydantic's Literal[1] would take true and 1.0, which equal 1
            kind = {str: "string", float: "number", bool: "boolean", type(None): "null", list: "list",
                    dict: "mapping"}.get(type(value), type(value).__name__)
            shown = repr(value) if len(repr(value)) <= 40 else repr(value)[:37] + "..."
            hint = "; remove the quotes" if isinstance(value, str) and value.strip() == "1" else ""
            raise ValueError(f"must be the whole number 1, found {kind} {shown}{hint}")
        return value

    def __eq__(self, other) -> bool:  # equal content, wherever it was loaded from
        return isinstance(other, Spec) and self.model_dump() == other.model_dump()

    __hash__ = None  # type: ignore[assignment]

    @property
    def source(self):
        """The :class:`~nngraph.spec.source.Source` this spec was loaded from (None if built in code)."""
        return self._source

    @property
    def base_dir(self):
        """The folder that files named by this spec are resolved in (None: the current folder)."""
        return self._base_dir

    def node(self, name: str) -> Node:
        for n in self.nodes:
            if n.name == name:
                return n
        raise KeyError(name)
