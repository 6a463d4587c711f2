"""The Product Store's shared code: domain, Cassandra repositories, HTTP plumbing,
events and observability. Deployed as a Lambda layer; every function imports it."""

# The one version of the store (pyproject.toml reads it; the info routes answer it).
__version__ = "0.1.0"
