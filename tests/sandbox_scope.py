"""The campus sandbox serves only the 14 shipped subsystems (`sandbox.SUBSYSTEMS`).

A subsystem file added later (Article 6) has no simulated system behind it: tests that pull
"every subsystem" from the sandbox take `sandbox_specs()` and skip the others with a warning
saying so, instead of failing on a system the sandbox cannot answer for.
"""

from __future__ import annotations

import warnings


def sandbox_specs() -> dict:
    """`api_specs()` restricted to the subsystems the sandbox simulates, in the same order."""
    from connectors.spec import api_specs
    from sandbox import SUBSYSTEMS

    specs = api_specs()
    others = sorted(set(specs) - set(SUBSYSTEMS))
    if others:
        warnings.warn(
            f"校园沙箱只模拟自带的 14 个子系统，跳过 {', '.join(others)} "
            "(the sandbox serves only the 14 shipped subsystems; these are skipped)",
            stacklevel=2,
        )
    return {sid: spec for sid, spec in specs.items() if sid in SUBSYSTEMS}
