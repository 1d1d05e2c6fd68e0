"""inferencesh: the Python SDK for inference.sh."""

__version__ = "0.1.0"
