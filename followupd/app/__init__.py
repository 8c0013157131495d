"""The application layer: what the CLI and the daemon share.

wiring (the engine and its adapters from a config), lock (one daemon per state
directory), requests (the protocol between the CLI and the daemon), status (the
daemon's status record), checks, preview, demo. Nothing here prints: the CLI renders.
"""
