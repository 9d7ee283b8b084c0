"""report.md's section on the app's own flag module: where it and the Python port differ.

Present only when the scenario sets ``flag.module``; reads summary.json's ``flag_module``
section (``sim.world.flag_eval``). A difference is a finding (the port does not describe
the module the app ships, or the module is not the runbook's), never an error.
"""

from __future__ import annotations

from typing import Any

MAX_STATES_SHOWN = 10


def flag_module_lines(section: dict[str, Any]) -> list[str]:
    """The section's lines: the module, each state it ran under, the differing users."""
    n, total = section["users_compared"], section["differing_users"]
    lines = [f"Variants decided by `{section['export']}` of `{section['module']}` in Node "
             f"(esbuild {section['esbuild_version']}), compared with the Python port over "
             f"{n:,} users under {section['states_evaluated']} flag state(s): "
             + (f"**{total:,} user(s) differ**." if total else "no user differs."), "",
             "| form | baked env | posthog-js answers | module exposure | port exposure | "
             "users differing |", "|---|---|---|---|---|---|"]
    for state in section["states"][:MAX_STATES_SHOWN]:
        env = ", ".join(f"{k}={v}" for k, v in sorted(state["env"].items())) or "(none)"
        lines.append(f"| {state['mode']} | {env} | {state['posthog']} | "
                     f"{100 * state['module_exposure']:.2f} % | "
                     f"{100 * state['port_exposure']:.2f} % | {state['differing']:,} |")
    if len(section["states"]) > MAX_STATES_SHOWN:
        lines.append(f"| … {len(section['states']) - MAX_STATES_SHOWN} more in summary.json "
                     "| | | | | |")
    if total:
        shown = section["differing_user_ids"]
        more = f" (first {len(shown)} of {total:,})" if total > len(shown) else ""
        lines += ["", f"Users where they differ{more}: " + ", ".join(f"`{u}`" for u in shown)]
    return lines
