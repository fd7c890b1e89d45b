"""Provisioning: cluster specs -> plan -> up / status / down, per provider, plus a simulator.

Pure parts (spec loading, request builders, the simulator) import no cloud SDK; the
provider modules import theirs lazily and name the ``provision`` extra when it is missing.
"""
