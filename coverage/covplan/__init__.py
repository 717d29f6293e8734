"""covplan: coverage planning for service networks."""

__version__ = "0.1.0"
