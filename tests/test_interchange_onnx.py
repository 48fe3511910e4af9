"""ONNX out (compiled plans run by onnxruntime) and in (dense graphs built with onnx.helper)."""
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from nngraph.compile import compile
from nngraph.interchange import from_onnx, to_onnx
from nngraph.interchange.onnx_read import OnnxImportError

from helpers import EX, EXAMPLES
from randomnets import SMOOTH, random_spec

onnx = pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")
from onnx import TensorProto, helper, numpy_helper  # noqa: E402

EVOLVED = ["selu", "clamped", "abs", "square", "cube", "hat", "neat_sigmoid", "neat_tanh", "neat_sin", "neat_gauss",
           "neat_softplus", "neat_exp", "neat_log", "neat_inv", "step", "sign"]


def _session(model):
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = 1
    return ort.InferenceSession(model.SerializeToString(), opts, providers=["CPUExecutionProvider"])


def _run_onnx(plan, model, x):
    feeds, at = {}, 0
    for name, size in plan.inputs:
        feeds[name] = np.ascontiguousarray(x[:, at:at + size])
        at += size
    got = _session(model).run([n for n, _ in plan.outputs], feeds)
    return np.concatenate(got, axis=1)


# 1/z, e^z, z^2, z^3 and sin(5z) amplify float32 rounding (sums run in another order in onnxruntime) far
# past 1e-5 near their poles: they are compared in float64, where both sides agree to 1e-9.
AMPLIFYING = {"neat_inv", "neat_exp", "neat_log", "square", "cube", "neat_sin"}


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 10_000), evolved=st.booleans(), sparse=st.sampled_from([None, 1.01, 0.0]),
       float64=st.booleans())
def test_exported_random_specs_run_in_onnxruntime_as_in_plan_forward(seed, evolved, sparse, float64):
    dtype = np.float64 if float64 else np.float32
    acts = SMOOTH + [a for a in EVOLVED if float64 or a not in AMPLIFYING] if evolved else SMOOTH
    plan = compile(random_spec(seed, activations=acts), sparse_below=sparse, dtype=dtype)
    x = np.random.default_rng(seed).normal(0, 1, (9, plan.input_width)).astype(dtype)
    rtol, atol = (1e-9, 1e-12) if float64 else (1e-5, 1e-6)
    np.testing.assert_allclose(_run_onnx(plan, to_onnx(plan), x), plan.forward(x), rtol=rtol, atol=atol,
                               equal_nan=True)


def test_sparse_blocks_skip_and_gathers_are_exported():
    found = set()
    for seed in range(60):
        plan = compile(random_spec(seed), sparse_below=1.01)
        found |= {"sparse" for s in plan.stages[1:] for b in s.blocks if b.sparse}
        found |= {"skip" for s in plan.stages[1:] for b in s.blocks if b.src < s.index - 1}
        found |= {"gather" for s in plan.stages[1:] for b in s.blocks if b.rows is not None}
        found |= {"segments" for s in plan.stages[1:] if len(s.segments) > 1}
        found |= {"softmax" for s in plan.stages[1:] for seg in s.segments if seg[0] == "softmax"}
    assert found == {"sparse", "skip", "gather", "segments", "softmax"}


def test_float64_export_keeps_weights_bit_for_bit_and_names_inputs_and_outputs():
    spec = EX["skip_connection.yaml"]
    plan = compile(spec, dtype=np.float64)
    model = to_onnx(plan)
    assert [i.name for i in model.graph.input] == [n for n, _ in plan.inputs]
    assert [o.name for o in model.graph.output] == [n for n, _ in plan.outputs]
    stored = [numpy_helper.to_array(t) for t in model.graph.initializer if "/W" in t.name]
    blocks = [b.dense() for s in plan.stages[1:] for b in s.blocks]
    assert all(np.array_equal(a, b) and a.dtype == np.float64 for a, b in zip(stored, blocks))


def _mlp_spec(out_act="softmax", hidden_act="relu"):
    rng = np.random.default_rng(0)
    w1, w2, w3 = rng.normal(size=(6, 5)), rng.normal(size=(5, 4)), rng.normal(size=(4, 3))
    return {"nngraph": 1, "name": "mlp", "nodes": [
        {"name": "x", "role": "input", "size": 6},
        {"name": "h1", "size": 5, "activation": hidden_act, "bias": rng.normal(size=5).tolist()},
        {"name": "h2", "size": 4, "activation": "tanh", "bias": rng.normal(size=4).tolist()},
        {"name": "y", "role": "output", "size": 3, "activation": out_act, "bias": rng.normal(size=3).tolist()}],
        "edges": [{"from": "x", "to": "h1", "weights": w1.tolist()}, {"from": "h1", "to": "h2", "weights": w2.tolist()},
                  {"from": "h2", "to": "y", "weights": w3.tolist()}]}


@pytest.mark.parametrize("hidden_act, dtype", [("relu", np.float64), ("sigmoid", np.float64), ("elu", np.float32),
                                               ("leaky_relu", np.float32), ("relu", np.float32)])
def test_spec_to_onnx_to_spec_keeps_every_weight_bit_for_bit(hidden_act, dtype):
    """float64 models hold the spec's weights exactly; float32 ones hold float32 weights exactly
    (onnxruntime runs Elu and LeakyRelu in float32 only, so they travel as float32)."""
    spec = _mlp_spec(hidden_act=hidden_act)
    if dtype == np.float32:
        spec = _rounded_to_float32(spec)
    plan = compile(spec, dtype=dtype)
    back = compile(from_onnx(to_onnx(plan)), dtype=dtype)
    ours = plan.parameters()
    theirs = back.parameters()
    assert len(ours) == len(theirs)
    for a, b in zip(ours.values(), theirs.values()):  # same order: node by node, edge by edge
        assert a.shape == b.shape and a.tobytes() == b.tobytes()
    assert [n.activation for n in back.graph.nodes] == [n.activation for n in plan.graph.nodes]


def _rounded_to_float32(spec):
    def r(v):
        return np.asarray(v, dtype=np.float32).astype(np.float64).tolist()
    for n in spec["nodes"]:
        if "bias" in n:
            n["bias"] = r(n["bias"])
    for e in spec["edges"]:
        e["weights"] = r(e["weights"])
    return spec


# -- models built with onnx.helper, in each style exporters use -------------------------------


def _tensor(name, a):
    return numpy_helper.from_array(np.asarray(a, dtype=np.float32), name)


def _mlp_model(style, *, flatten=False, acts=("Relu", "Tanh", "Softmax"), sizes=(12, 8, 6, 4), seed=0):
    rng = np.random.default_rng(seed)
    nodes, inits = [], []
    shape = ["N", 3, 4] if flatten else ["N", sizes[0]]
    x = "input"
    if flatten:
        nodes.append(helper.make_node("Flatten", [x], ["flat"], name="flatten", axis=1))
        x = "flat"
    for k, (m, n) in enumerate(zip(sizes[:-1], sizes[1:])):
        W = rng.normal(size=(m, n)).astype(np.float32)
        b = rng.normal(size=n).astype(np.float32)
        out = f"z{k}"
        if style == "gemm_transB":  # PyTorch's nn.Linear: weight (out, in), transB=1
            inits += [_tensor(f"W{k}", W.T), _tensor(f"b{k}", b)]
            nodes.append(helper.make_node("Gemm", [x, f"W{k}", f"b{k}"], [out], name=f"fc{k}", transB=1,
                                          alpha=1.0, beta=1.0))
        elif style == "gemm_scaled":
            inits += [_tensor(f"W{k}", W / 2), _tensor(f"b{k}", (b / 4).reshape(1, n))]
            nodes.append(helper.make_node("Gemm", [x, f"W{k}", f"b{k}"], [out], name=f"fc{k}", alpha=2.0, beta=4.0))
        else:  # Keras/tf2onnx: MatMul then Add
            inits += [_tensor(f"W{k}", W), _tensor(f"b{k}", b)]
            nodes.append(helper.make_node("MatMul", [x, f"W{k}"], [f"mm{k}"], name=f"matmul{k}"))
            nodes.append(helper.make_node("Add", [f"mm{k}", f"b{k}"], [out], name=f"add{k}"))
        act = acts[k]
        attrs = {"alpha": 0.2} if act == "LeakyRelu" else {"alpha": 0.7} if act == "Elu" else \
            {"axis": -1} if act == "Softmax" else {}
        nodes.append(helper.make_node(act, [out], [f"a{k}"], name=f"act{k}", **attrs))
        x = f"a{k}"
    nodes.append(helper.make_node("Identity", [x], ["probabilities"], name="identity"))
    graph = helper.make_graph(nodes, "helper-mlp", [helper.make_tensor_value_info("input", TensorProto.FLOAT, shape)],
                              [helper.make_tensor_value_info("probabilities", TensorProto.FLOAT, ["N", sizes[-1]])],
                              inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    return model


@pytest.mark.parametrize("style", ["gemm_transB", "gemm_scaled", "matmul_add"])
@pytest.mark.parametrize("flatten", [False, True])
def test_imported_mlps_run_through_the_cli_as_onnxruntime_runs_them(tmp_path, style, flatten):
    from click.testing import CliRunner

    from nngraph.cli import main

    acts = ("LeakyRelu", "Elu", "Sigmoid") if style == "gemm_scaled" else ("Relu", "Tanh", "Softmax")
    model = _mlp_model(style, flatten=flatten, acts=acts)
    onnx.save(model, tmp_path / "mlp.onnx")
    x = np.random.default_rng(1).normal(size=(10, 12)).astype(np.float32)
    expected = _session(model).run(None, {"input": x.reshape(10, 3, 4) if flatten else x})[0]
    np.save(tmp_path / "x.npy", x)
    runner = CliRunner()
    result = runner.invoke(main, ["import", str(tmp_path / "mlp.onnx"), "-o", str(tmp_path / "mlp.yaml")])
    assert result.exit_code == 0, result.output
    result = runner.invoke(main, ["run", str(tmp_path / "mlp.yaml"), "--inputs", str(tmp_path / "x.npy"),
                                  "--output", str(tmp_path / "y.npy")])
    assert result.exit_code == 0, result.output
    np.testing.assert_allclose(np.load(tmp_path / "y.npy"), expected, rtol=1e-5, atol=1e-6)


def test_activation_on_the_input_and_two_in_a_row_get_nodes_of_their_own():
    W = np.arange(12, dtype=np.float32).reshape(4, 3) / 10
    nodes = [helper.make_node("Tanh", ["x"], ["t"], name="first"),
             helper.make_node("MatMul", ["t", "W"], ["m"], name="mm"),
             helper.make_node("Relu", ["m"], ["r"], name="relu"),
             helper.make_node("Sigmoid", ["r"], ["y"], name="sig")]
    graph = helper.make_graph(nodes, "g", [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", 4])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["N", 3])], [_tensor("W", W)])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    spec = from_onnx(model)
    assert [(n.name, n.activation.name if n.activation else None) for n in spec.nodes] == \
        [("x", None), ("tanh1", "tanh"), ("hidden1", "relu"), ("y", "sigmoid")]
    x = np.random.default_rng(0).normal(size=(5, 4)).astype(np.float32)
    np.testing.assert_allclose(compile(spec).forward(x), _session(model).run(None, {"x": x})[0], rtol=1e-5)


# -- hostile models ---------------------------------------------------------------------------


def _refused(tmp_path, model_or_bytes, match):
    path = tmp_path / "bad.onnx"
    path.write_bytes(model_or_bytes if isinstance(model_or_bytes, bytes) else model_or_bytes.SerializeToString())
    with pytest.raises(OnnxImportError, match=match):
        from_onnx(path)


def test_external_data_is_refused_by_initializer_name(tmp_path):
    model = _mlp_model("matmul_add")
    t = model.graph.initializer[0]
    t.ClearField("raw_data")
    t.ClearField("float_data")
    t.data_location = TensorProto.EXTERNAL
    t.external_data.add(key="location", value="../../etc/passwd")
    _refused(tmp_path, model, r"bad\.onnx: initializer 'W0' keeps its values in an external file")


def test_protobuf_bomb_and_garbage_are_refused(tmp_path):
    # graphs nested in node attributes far deeper than protobuf's recursion limit, then garbage
    graph = b""
    for _ in range(3_000):
        attribute = b"\x32" + _varint(len(graph)) + graph  # AttributeProto.g = 6
        node = b"\x2a" + _varint(len(attribute)) + attribute  # NodeProto.attribute = 5
        graph = b"\x0a" + _varint(len(node)) + node  # GraphProto.node = 1
    _refused(tmp_path, b"\x3a" + _varint(len(graph)) + graph, r"bad\.onnx: not a readable ONNX model")
    _refused(tmp_path, b"\xff" * 64, r"bad\.onnx: not a readable ONNX model")
    _refused(tmp_path, b"", r"bad\.onnx: not an ONNX model \(no graph\)")


def _varint(n):
    out = b""
    while True:
        byte, n = n & 0x7F, n >> 7
        out += bytes([byte | (0x80 if n else 0)])
        if not n:
            return out


def test_declared_sizes_are_checked_before_allocating(tmp_path):
    model = _mlp_model("matmul_add")
    t = model.graph.initializer[0]
    del t.dims[:]
    t.dims.extend([100_000, 100_000])  # 10^10 values declared, 384 bytes held
    _refused(tmp_path, model, r"bad\.onnx: initializer 'W0' declares 10,000,000,000 values, over the limit")
    t.dims[:] = [13, 8]
    _refused(tmp_path, model, r"bad\.onnx: initializer 'W0' declares shape \[13, 8\] \(104 values\) but holds 96")


def test_cycle_is_refused_naming_its_nodes(tmp_path):
    model = _mlp_model("matmul_add")
    nodes = list(model.graph.node)
    nodes[0].input[0] = "a1"  # matmul0 now reads act1's output, which depends on matmul0
    _refused(tmp_path, model, r"bad\.onnx: the graph has a cycle \(.*matmul0.*\)")


def test_shapes_that_disagree_are_refused_at_the_node(tmp_path):
    model = _mlp_model("matmul_add")
    model.graph.initializer[2].CopyFrom(_tensor("W1", np.ones((7, 6))))
    _refused(tmp_path, model, r"bad\.onnx: node 'matmul1' \(MatMul\): weights of shape \[7, 6\] do not fit its "
             r"input of 8 values per sample")
    model = _mlp_model("matmul_add")
    model.graph.initializer[1].CopyFrom(_tensor("b0", np.ones(5)))
    _refused(tmp_path, model, r"node 'add0' \(Add\): bias of shape \[5\] does not fit 8 outputs")
    model = _mlp_model("matmul_add")
    model.graph.output[0].type.tensor_type.shape.dim[1].dim_value = 5
    _refused(tmp_path, model, r"graph output 'probabilities' declares width 5, but the graph computes 4")


def test_unmappable_operators_are_refused_by_name_and_reason(tmp_path):
    model = _mlp_model("matmul_add")
    model.graph.node[2].op_type = "Conv"
    _refused(tmp_path, model, r"bad\.onnx: node 'act0' \(Conv\): nngraph maps dense layers only .* a Conv has no form")
    model = _mlp_model("matmul_add")
    model.graph.node[0].input[0] = "W0"
    model.graph.node[0].input[1] = "input"
    _refused(tmp_path, model, r"node 'matmul0' \(MatMul\): 'W0' must be the data")
    model = _mlp_model("gemm_transB")
    model.graph.node[0].attribute.append(helper.make_attribute("transA", 1))
    _refused(tmp_path, model, r"node 'fc0' \(Gemm\): transA=1 would transpose the batch")
    model = _mlp_model("matmul_add")
    model.graph.initializer[0].CopyFrom(_tensor("W0", np.full((12, 8), np.nan)))
    _refused(tmp_path, model, r"initializer 'W0' contains NaN")


def test_refused_import_writes_nothing(tmp_path):
    from click.testing import CliRunner

    from nngraph.cli import main

    model = _mlp_model("matmul_add")
    model.graph.node[2].op_type = "Conv"
    (tmp_path / "m.onnx").write_bytes(model.SerializeToString())
    result = CliRunner().invoke(main, ["import", str(tmp_path / "m.onnx"), "-o", str(tmp_path / "m.yaml")])
    assert result.exit_code == 1 and "node 'act0' (Conv)" in result.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.onnx"]


def test_export_command_writes_a_checked_model(tmp_path):
    from click.testing import CliRunner

    from nngraph.cli import main

    spec = EX["irregular.yaml"]
    result = CliRunner().invoke(main, ["export", str(spec), "-o", str(tmp_path / "net.onnx")])
    assert result.exit_code == 1 and "irregular.yaml: has no trained parameters" in result.stderr
    assert not (tmp_path / "net.onnx").exists()
    result = CliRunner().invoke(main, ["export", str(spec), "-o", str(tmp_path / "net.onnx"), "--untrained"])
    assert result.exit_code == 0, result.output
    model = onnx.load(str(tmp_path / "net.onnx"), load_external_data=False)
    onnx.checker.check_model(model)
    plan = compile(spec)
    x = np.random.default_rng(0).normal(size=(4, plan.input_width)).astype(np.float32)
    np.testing.assert_allclose(_run_onnx(plan, model, x), plan.forward(x), rtol=1e-5, atol=1e-6)


def test_the_neat_example_writes_into_a_new_temporary_folder_by_default(tmp_path, monkeypatch):
    """Run without a folder, the example wrote moons_neat/ into the clone it was run from."""
    import importlib.util
    import tempfile

    from helpers import ROOT

    module_spec = importlib.util.spec_from_file_location("neat_finetune", ROOT / "examples" / "neat_finetune.py")
    example = importlib.util.module_from_spec(module_spec)
    module_spec.loader.exec_module(example)
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    first, second = example.output_folder([]), example.output_folder([])
    assert first.parent == tmp_path and first.is_dir() and first != second and first.name.startswith("moons_neat-")
    assert str(example.output_folder(["out"])) == "out"


def test_the_neat_example_trains_further_and_exports_onnx(tmp_path, monkeypatch):
    """examples/neat_finetune.py, run as written: backprop improves the evolved genome on held-out data."""
    import importlib.util

    from helpers import ROOT

    path = ROOT / "examples" / "neat_finetune.py"
    module_spec = importlib.util.spec_from_file_location("neat_finetune", path)
    example = importlib.util.module_from_spec(module_spec)
    module_spec.loader.exec_module(example)
    result = example.main(tmp_path / "out")
    assert result["after"] >= 0.9 and result["after"] > result["before"] + 0.05, result
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["moons_neat.onnx", "moons_neat.params.npz",
                                                                     "moons_neat.yaml"]
    plan = compile(tmp_path / "out" / "moons_neat.yaml")
    x = result["x"].astype(np.float32)
    np.testing.assert_allclose(plan.forward(x), result["plan"].forward(x), rtol=1e-6)
    model = onnx.load(str(tmp_path / "out" / "moons_neat.onnx"), load_external_data=False)
    # outputs near 0 come from cancelling sums of terms near 10: float32 rounding is ~1e-6 absolute there
    np.testing.assert_allclose(_run_onnx(plan, model, x), plan.forward(x), rtol=1e-5, atol=1e-5)


def test_initializer_limit_at_n_and_n_plus_1(tmp_path):
    from nngraph import Limits

    model = _mlp_model("matmul_add")  # W0 is 12 x 8 = 96 values, the largest
    path = tmp_path / "m.onnx"
    path.write_bytes(model.SerializeToString())
    total = 12 * 8 + 8 * 6 + 6 * 4
    from_onnx(path, limits=Limits(max_weights=total))
    with pytest.raises(OnnxImportError, match=r"m\.onnx: node 'matmul2' \(MatMul\): 168 weights in all, over the "
                                              r"limit of 167"):
        from_onnx(path, limits=Limits(max_weights=total - 1))
    with pytest.raises(OnnxImportError, match=r"initializer 'W0' declares 96 values, over the limit of 95"):
        from_onnx(path, limits=Limits(max_weights=95))


@settings(max_examples=150, deadline=None)
@given(data=st.binary(max_size=300), keep=st.integers(0, 2000))
def test_any_bytes_give_a_spec_or_a_located_refusal(data, keep):
    """Random bytes, and valid models cut short or with bytes changed: never another exception."""
    good = _mlp_model("gemm_transB").SerializeToString()
    for blob in (data, good[:keep], good[:keep] + data + good[keep + len(data):]):
        try:
            from_onnx(bytes(blob))
        except OnnxImportError as exc:
            assert str(exc).startswith("<bytes>: ")


def test_branches_and_two_outputs():
    """A trunk read by two heads, one of them also an output before its activation."""
    rng = np.random.default_rng(3)
    inits = [_tensor("W", rng.normal(size=(5, 4))), _tensor("b", rng.normal(size=4)),
             _tensor("Wa", rng.normal(size=(4, 3))), _tensor("Wb", rng.normal(size=(4, 2)))]
    nodes = [helper.make_node("Gemm", ["x", "W", "b"], ["t"], name="trunk"),
             helper.make_node("Relu", ["t"], ["r"], name="relu"),
             helper.make_node("MatMul", ["r", "Wa"], ["logits"], name="head_a"),
             helper.make_node("Softmax", ["logits"], ["probs"], name="softmax", axis=1),
             helper.make_node("MatMul", ["r", "Wb"], ["value"], name="head_b")]
    outs = [helper.make_tensor_value_info(n, TensorProto.FLOAT, ["N", k]) for n, k in
            (("probs", 3), ("logits", 3), ("value", 2))]
    graph = helper.make_graph(nodes, "heads", [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", 5])],
                              outs, inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    spec = from_onnx(model)
    assert [n.name for n in spec.nodes if n.role == "output"] == ["logits", "probs", "value"]
    plan = compile(spec)
    x = rng.normal(size=(6, 5)).astype(np.float32)
    want = dict(zip(["probs", "logits", "value"], _session(model).run(None, {"x": x})))
    got = plan.forward(x, as_dict=True)
    for name in want:
        np.testing.assert_allclose(got[name], want[name], rtol=1e-5, atol=1e-6)


def test_importing_the_package_loads_no_onnx():
    import subprocess
    import sys

    code = "import sys, nngraph, nngraph.interchange, nngraph.cli; print('onnx' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code], capture_output=True, text=True).stdout.strip() == "False"


def test_export_float64_from_the_command_line(tmp_path):
    from click.testing import CliRunner

    from nngraph.cli import main

    spec = next(p for p in EXAMPLES if p.name == "xor.yaml")
    result = CliRunner().invoke(main, ["export", str(spec), "-o", str(tmp_path / "x.onnx"), "--float64"])
    assert result.exit_code == 0, result.output
    model = onnx.load(str(tmp_path / "x.onnx"), load_external_data=False)
    assert model.graph.input[0].type.tensor_type.elem_type == TensorProto.DOUBLE
    plan = compile(spec, dtype=np.float64)
    x = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=np.float64)
    np.testing.assert_array_equal(_run_onnx(plan, model, x), plan.forward(x))


def test_weights_in_constant_nodes_and_a_huge_declared_input(tmp_path):
    W = np.arange(6, dtype=np.float32).reshape(3, 2) / 4
    nodes = [helper.make_node("Constant", [], ["W"], name="weights", value=_tensor("Wc", W)),
             helper.make_node("MatMul", ["x", "W"], ["y"], name="mm")]
    graph = helper.make_graph(nodes, "c", [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", 3])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["N", 2])])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    x = np.random.default_rng(0).normal(size=(4, 3)).astype(np.float32)
    np.testing.assert_allclose(compile(from_onnx(model)).forward(x), _session(model).run(None, {"x": x})[0], rtol=1e-6)
    model.graph.input[0].type.tensor_type.shape.dim[1].dim_value = 10**12
    _refused(tmp_path, model, r"bad\.onnx: graph input 'x' has 1,000,000,000,000 features, over the limit")


def _gemm_model(attrs=None, domain="", opset=17, extra_inits=(), outputs=True):
    W = np.arange(8, dtype=np.float32).reshape(4, 2) / 10
    node = helper.make_node("Gemm", ["x", "W"], ["y"], name="fc", domain=domain, **(attrs or {}))
    outs = [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["N", 2])] if outputs else []
    graph = helper.make_graph([node], "g", [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", 4])], outs,
                              [_tensor("W", W), *extra_inits])
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)])


@pytest.mark.parametrize("make, message", [
    (lambda: _gemm_model({"transB": 2}), r"node 'fc' \(Gemm\): transB=2; ONNX allows 0 or 1"),
    (lambda: _gemm_model({"alpha": "2"}), r"node 'fc' \(Gemm\): attribute alpha is of type STRING; ONNX defines it "
                                          r"as FLOAT"),
    (lambda: _gemm_model({"alpha": float("nan")}), r"node 'fc' \(Gemm\): alpha=nan; a finite number is needed"),
    (lambda: _gemm_model(domain="com.example"), r"node 'fc' \(Gemm\): its operator is from domain 'com.example'"),
    (lambda: _gemm_model(opset=1), r"opset 1; nngraph reads opset 7 and later"),
    (lambda: _gemm_model(extra_inits=[_tensor("W", np.zeros((4, 2), np.float32))]),
     r"initializer 'W' is defined twice"),
    (lambda: _gemm_model(outputs=False), r"the graph has no outputs"),
])
def test_models_onnx_would_refuse_are_refused_by_name_not_guessed(make, message):
    with pytest.raises(OnnxImportError, match=r"^<model>: " + message):
        from_onnx(make())


def test_an_empty_raw_data_beside_typed_values_is_refused_as_damaged():
    t = _tensor("W", np.arange(8, dtype=np.float32).reshape(4, 2))
    t.float_data.extend(np.arange(8, dtype=np.float32).tolist())
    t.raw_data = b""
    model = _gemm_model()
    model.graph.initializer[0].CopyFrom(t)
    with pytest.raises(OnnxImportError, match=r"^<model>: initializer 'W' holds 0 raw bytes and 8 typed values; "
                                              r"the file is damaged"):
        from_onnx(model)
