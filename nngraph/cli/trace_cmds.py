"""run --trace: every neuron's pre-activation and activation for the given inputs."""
from __future__ import annotations

import json
import sys

import click

from . import _console, input_options, rich_text, terminal

MAX_SHOWN = 400  # table cells (samples × neurons) printed before asking for --output


def run_traced(graph, inputs_file, input_pairs, output_file, dtype, as_json):
    from ..compile import compile
    from ..io import check_output_path, read_inputs, write_outputs

    if output_file:
        from .run_cmds import refuse_overwrite

        check_output_path(output_file, "--output", inputs=inputs_file)
        refuse_overwrite(graph, ("--output", output_file))
    plan = compile(graph, dtype=dtype)
    x = read_inputs(inputs_file, plan) if inputs_file else input_options(input_pairs, plan)
    t = plan.trace(x)
    neurons = t.neurons()
    names = [name for _, name, _ in neurons]
    if output_file:
        write_outputs(output_file, _interleave(t), [c for n in names for c in (f"{n}:pre", n)])
        click.echo(f"wrote {t.values.shape[0]:,} x {len(names):,} neurons (pre-activation and activation) "
                   f"to {terminal(output_file)}", err=True)
        return
    if as_json:
        click.echo(json.dumps({"neurons": [{"node": n, "neuron": m, "label": lab} for n, m, lab in neurons],
                               "pre": t.sums.tolist(), "act": t.values.tolist()}))
        return
    if t.values.size > MAX_SHOWN:
        click.echo(f"{t.values.shape[0]:,} sample(s) x {len(names):,} neurons; write them with --output FILE.csv "
                   "or .npy (with --trace)", err=True)
        sys.exit(1)
    _print(graph, plan, t, neurons)


def _interleave(t):
    """Columns pre, act for each neuron in turn."""
    import numpy as np

    out = np.empty((t.values.shape[0], 2 * t.values.shape[1]), dtype=t.values.dtype)
    out[:, 0::2], out[:, 1::2] = t.sums, t.values
    return out


def _print(graph, plan, t, neurons):
    from rich.table import Table

    roles = {n.name: n.role for n in graph.nodes}
    for s in range(t.values.shape[0]):
        title = f"{graph.spec.name} ({plan.params_origin})" + (f", sample {s}" if t.values.shape[0] > 1 else "")
        table = Table(title=rich_text(title))
        for col, just in (("neuron", "left"), ("label", "left"), ("role", "left"), ("pre-activation", "right"),
                          ("activation", "right")):
            table.add_column(col, justify=just)
        for g, (node, name, label) in enumerate(neurons):
            role = roles[node]
            pre = "" if role == "input" else f"{t.sums[s, g]:.6g}"
            table.add_row(rich_text(name), rich_text(label), role, pre, f"{t.values[s, g]:.6g}",
                          style="dim" if role == "input" else None)
        _console().print(table)
