"""The spec language: models, loading with located errors, and dumping.

``import nngraph.spec`` needs only pydantic and PyYAML.
"""
from .load import dump, load, suggest
from .overrides import located_at_options, with_overrides
from .models import (
    ACTIVATIONS,
    FORMAT_VERSION,
    INITIALIZERS,
    LOSSES,
    OPTIMIZERS,
    SOURCES,
    Activation,
    Data,
    EarlyStopping,
    Edge,
    Initializer,
    Node,
    Optimizer,
    Spec,
    Train,
)
from .source import Source, format_path


def json_schema() -> dict:
    """The JSON Schema of the spec language, generated from the models (``nngraph schema``)."""
    schema = Spec.model_json_schema(by_alias=True)
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "nngraph spec (format version 1)"
    return schema


__all__ = ["load", "dump", "with_overrides", "json_schema", "suggest", "Spec", "Node", "Edge", "Activation", "Initializer",
           "Data", "Train", "Optimizer", "EarlyStopping", "Source", "format_path", "FORMAT_VERSION",
           "ACTIVATIONS", "INITIALIZERS", "OPTIMIZERS", "LOSSES", "SOURCES"]
