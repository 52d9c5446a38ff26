"""The local AWS emulator: a pinned moto server on loopback with CloudFormation adapters.

``process`` starts/stops/watches it (``inv local.up/down/status``); ``server`` is what runs inside
it (``python -m tmkit.emulator --port N``); ``adapters`` and ``patches`` close moto's gaps so the
unmodified synthesized template deploys. Importing this package is cheap: moto loads only in the
emulator process (and in tests that ask for it).
"""

from tmkit.emulator.process import Status, is_running, require_running, reset, start, status, stop

__all__ = ["Status", "is_running", "require_running", "reset", "start", "status", "stop"]
