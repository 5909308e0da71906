"""droptune trainer: fine-tunes a transformer classifier from a CSV and writes an immutable,
self-describing model version (ONNX + JSON, manifest last) into its run's output prefix.

Driven only by the trainer environment (DROPTUNE_* variables, see README.md); entry point
`python -m droptune_trainer`.
"""

__version__ = "0.1.0"
