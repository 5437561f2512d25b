"""The language of the network, with no I/O: Beckn 1.1 models, the Québec profile,
BECKN-006 signatures, keys, the order life cycle and the error codes."""
