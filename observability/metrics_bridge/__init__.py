"""The metrics bridge: the functions' EMF records, queue, workflow and outbox
figures, served as a Prometheus `/metrics` endpoint on 127.0.0.1."""
