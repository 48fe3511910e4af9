"""Take a network neat-python evolved, train it further with backpropagation, ship it as ONNX.

The genome in neat/moons_genome.json was evolved by neat-python on the two-moons problem and
exported with ``neat.export.export_network_json``. Nothing is evolved here: the genome is
imported as it is (its topology, weights and neat-python's own activations), its weights are
trained with Adam, and the result is written as a spec, its parameters and an ONNX model.

    python examples/neat_finetune.py [OUTPUT_FOLDER]

Without a folder it writes into a new temporary one (not into the folder it is run from, which
is usually the repository), and says where.
"""
import sys
import tempfile
from pathlib import Path

import numpy as np

import nngraph
from nngraph.data import load_data
from nngraph.interchange import from_neat, save, to_onnx

HERE = Path(__file__).resolve().parent


def main(out: Path) -> dict:
    imported = from_neat(HERE / "neat" / "moons_genome.json", name="moons-neat")
    # the imported spec, with the data it was evolved on and a training section added
    text = imported.model_dump(by_alias=True, exclude_none=True)
    text["data"] = {"source": "moons", "samples": 400, "noise": 0.15, "seed": 0}
    text["train"] = {"loss": "mse", "optimizer": {"name": "adam", "learning_rate": 0.01}, "batch_size": 16,
                     "epochs": 60, "validation_split": 0.0, "seed": 0}
    spec = nngraph.load(text)
    data = load_data(spec)

    def accuracy(plan):
        return float(np.mean((plan.forward(data.x_test)[:, 0] > 0.5) == (data.y_test == 1)))

    before = nngraph.compile.compile(spec)
    plan, _ = nngraph.train(spec, data)
    print(f"test accuracy: {accuracy(before):.3f} as evolved, {accuracy(plan):.3f} after backprop")

    # the spec with its trained parameters beside it (nngraph run/draw take it), and the ONNX model
    out.mkdir(exist_ok=True)  # save writes into an existing folder; it never makes one
    for path in save(spec, out / "moons_neat.yaml", values=plan.parameters()):
        print(f"wrote {path}")
    (out / "moons_neat.onnx").write_bytes(to_onnx(plan).SerializeToString())
    print(f"wrote {out / 'moons_neat.onnx'}")
    return {"before": accuracy(before), "after": accuracy(plan), "plan": plan, "x": data.x_test}


def output_folder(args) -> Path:
    """The folder named on the command line, else a new temporary folder."""
    return Path(args[0]) if args else Path(tempfile.mkdtemp(prefix="moons_neat-"))


if __name__ == "__main__":
    folder = output_folder(sys.argv[1:])
    print(f"writing into {folder}")
    main(folder)
