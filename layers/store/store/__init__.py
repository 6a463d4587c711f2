"""The Product Store's shared code: domain, Cassandra repositories, HTTP plumbing,
events and observability. Deployed as a Lambda layer; every function imports it."""
