"""Hostile ONNX models: small files that declare huge costs are refused, naming the file and the
node, before the cost is paid."""
import numpy as np
import pytest

from nngraph.interchange import from_onnx
from nngraph.interchange.onnx_read import OnnxImportError

onnx = pytest.importorskip("onnx")
from onnx import TensorProto, helper, numpy_helper  # noqa: E402


def _model(nodes, inits=(), width=4, opset=13):
    graph = helper.make_graph(nodes, "g", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [None, width])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)], list(inits))
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)])


def _chain(op, n, **attrs):
    return [helper.make_node(op, ["x" if i == 0 else f"t{i}"] + ([] if op != "MatMul" else ["W"]),
                             ["y" if i == n - 1 else f"t{i + 1}"], **attrs) for i in range(n)]


def _file(tmp_path, model):
    path = tmp_path / "m.onnx"
    path.write_bytes(model.SerializeToString())
    return path


def test_neurons_are_counted_as_the_graph_is_walked(tmp_path, monkeypatch):
    # each Relu after the first makes a node of the input's width: refused at the one passing the limit,
    # with the file and the node named, before any later node is made
    monkeypatch.setenv("NNGRAPH_MAX_NEURONS", "1000")
    path = _file(tmp_path, _model(_chain("Relu", 50), width=100))
    made = []
    import nngraph.interchange.onnx_in as onnx_in

    real = onnx_in._Layer.__init__

    def counting(self, *args):
        made.append(args[1])
        real(self, *args)

    monkeypatch.setattr(onnx_in._Layer, "__init__", counting)
    with pytest.raises(OnnxImportError, match=r"^.*m\.onnx: the Relu node computing 't10': its 100 neurons bring the "
                                              r"total to 1,100, over the limit of 1,000 neurons in all \(set by "
                                              r"NNGRAPH_MAX_NEURONS=1000\)"):
        from_onnx(path)
    assert len(made) == 10  # the input and 9 Relu nodes; nothing after the refusal


def test_a_node_wider_than_the_limit_is_refused_at_its_node(tmp_path, monkeypatch):
    monkeypatch.setenv("NNGRAPH_MAX_NODE_SIZE", "10")
    W = numpy_helper.from_array(np.ones((4, 11), np.float32), "W")
    path = _file(tmp_path, _model([helper.make_node("MatMul", ["x", "W"], ["y"], name="wide")], [W]))
    with pytest.raises(OnnxImportError, match=r"m\.onnx: node 'wide' \(MatMul\): it makes a node of 11 neurons, "
                                              r"over the limit of 10"):
        from_onnx(path)


def test_hidden_names_are_found_in_constant_time(tmp_path):
    # a chain of MatMuls sharing one 1x1 weight: each new name is found without retrying the used ones
    W = numpy_helper.from_array(np.ones((1, 1), np.float32), "W")
    import nngraph.interchange.onnx_in as onnx_in

    probes = []

    class Counting(set):
        def __contains__(self, item):
            probes.append(item)
            return super().__contains__(item)

    real = onnx_in._Importer.__init__

    def init(self, *args):
        real(self, *args)
        self.used_names = Counting(self.used_names)

    n = 300
    model = _model(_chain("MatMul", n), [W], width=1)
    try:
        onnx_in._Importer.__init__ = init
        spec = from_onnx(model)
    finally:
        onnx_in._Importer.__init__ = real
    assert [x.name for x in spec.nodes[1:4]] == ["hidden1", "hidden2", "hidden3"]
    assert len(probes) < 5 * n  # it was n * n / 2


def test_one_initializer_shared_by_many_products_is_listed_once(tmp_path):
    W = numpy_helper.from_array(np.arange(16, dtype=np.float32).reshape(4, 4), "W")
    import nngraph.interchange.onnx_in as onnx_in

    calls = []
    real = onnx_in._Importer._build

    def build(self, *args):
        spy = _Spy()
        for layer in self.layers:
            layer.incoming = [(s, w if isinstance(w, str) else spy.wrap(w)) for s, w in layer.incoming]
        out = real(self, *args)
        calls.append(spy.count)
        return out

    class _Spy:
        count = 0
        seen = {}

        def wrap(self, w):
            spy = self
            if id(w) not in self.seen:
                class Counted(np.ndarray):
                    def tolist(inner):
                        spy.count += 1
                        return np.asarray(inner).tolist()
                self.seen[id(w)] = w.view(Counted)
            return self.seen[id(w)]

    onnx_in._Importer._build = build
    try:
        spec = from_onnx(_model(_chain("MatMul", 6), [W]))
    finally:
        onnx_in._Importer._build = real
    assert calls == [1] and len(spec.edges) == 6
    assert all(e.weights == spec.edges[0].weights for e in spec.edges)


@pytest.mark.parametrize("dims, message", [
    ([2 ** 32, 2 ** 32, 0], r"initializer 'W' declares dimensions \[4294967296, 4294967296, 0\], one of them over the "
                            r"limit of"),
    ([4, 0], r"initializer 'W' declares dimensions \[4, 0\], which hold no values"),
])
def test_absurd_or_empty_dimensions_are_refused_by_name(tmp_path, dims, message):
    W = TensorProto(name="W", data_type=TensorProto.FLOAT, dims=dims)
    path = _file(tmp_path, _model([helper.make_node("MatMul", ["x", "W"], ["y"])], [W]))
    with pytest.raises(OnnxImportError, match=r"m\.onnx: " + message):
        from_onnx(path)


def test_an_opset_newer_than_onnx_knows_is_refused(tmp_path):
    W = numpy_helper.from_array(np.ones((4, 2), np.float32), "W")
    path = _file(tmp_path, _model([helper.make_node("MatMul", ["x", "W"], ["y"])], [W], opset=2 ** 62))
    with pytest.raises(OnnxImportError, match=r"m\.onnx: opset 4611686018427387904; the installed onnx knows opsets "
                                              r"up to [0-9]+"):
        from_onnx(path)


def test_an_attribute_the_operator_does_not_have_is_refused_by_node(tmp_path):
    body = helper.make_graph([], "inner", [], [])
    W = numpy_helper.from_array(np.ones((4, 2), np.float32), "W")
    nodes = [helper.make_node("MatMul", ["x", "W"], ["t"]), helper.make_node("Relu", ["t"], ["y"], name="act", body=body)]
    with pytest.raises(OnnxImportError, match=r"m\.onnx: node 'act' \(Relu\): attribute 'body' is not one a Relu has at "
                                              r"opset 13 \(it has none\)"):
        from_onnx(_file(tmp_path, _model(nodes, [W])))
    nodes[1] = helper.make_node("Gemm", ["t", "V"], ["y"], name="fc", alpah=2.0)
    V = numpy_helper.from_array(np.ones((2, 2), np.float32), "V")
    with pytest.raises(OnnxImportError, match=r"node 'fc' \(Gemm\): attribute 'alpah' is not one a Gemm has at opset "
                                              r"13 \(it has alpha, beta, transA, transB\)"):
        from_onnx(_file(tmp_path, _model(nodes, [W, V])))


def test_a_neat_key_of_100000_digits_is_refused_where_it_stands(tmp_path):
    from nngraph.interchange import NeatImportError, from_neat

    path = tmp_path / "g.json"
    path.write_text('{"format_version": "1.0", "network_type": "feedforward", "metadata": {},\n'
                    '"topology": {"num_inputs": 1, "num_outputs": 1, "input_keys": [-1], "output_keys": ['
                    + "9" * 100_000 + ']}, "nodes": [], "connections": []}')
    with pytest.raises(NeatImportError, match=r"g\.json:2:85: a number of 100,000 digits, more than the 4,300 Python "
                                              r"reads; node keys fit in 64 bits"):
        from_neat(path)


@pytest.mark.parametrize("command", ["import", "export"])
def test_a_misspelt_format_names_the_closest_one(tmp_path, command):
    from click.testing import CliRunner

    from nngraph.cli import main

    (tmp_path / "a.yaml").write_text("nngraph: 1\nname: a\nnodes: []\n")
    result = CliRunner().invoke(main, [command, str(tmp_path / "a.yaml"), "--format", "neat", "-o",
                                       str(tmp_path / "b.json")])
    assert result.exit_code == 2 and "(did you mean 'neat-json'?)" in result.output
