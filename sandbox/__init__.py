"""Campus sandbox: realistic simulated APIs for the college's 14 subsystems.

See ``API.md`` beside this file for the wire contract.
"""

from .core import DEFAULT_NOISE, Sandbox
from .registry import NAMES as SUBSYSTEMS

__all__ = ["DEFAULT_NOISE", "SUBSYSTEMS", "Sandbox"]
