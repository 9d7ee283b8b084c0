"""A backend is a pure state machine: importing it loads no web framework.

Each fake keeps its state in ``fakes/<vendor>/backend.py`` and puts HTTP in front of it
in ``router.py``. The simulation drives backends directly, so importing one (or the
shared models in ``fakes.common``) must not pull in FastAPI, Starlette or pydantic.
Each import runs in a fresh interpreter: this process has FastAPI loaded already.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
VENDORS = ["contacts", "docker", "netlify", "pagerduty", "posthog", "pulse", "sentry", "slack",
           "statuspage", "vercel"]
PURE_COMMON = ["fakes.common.clock", "fakes.common.errors", "fakes.common.faults",
               "fakes.common.schedule"]
WEB_FRAMEWORKS = ("fastapi", "starlette", "pydantic")


def web_frameworks_loaded_by(module: str) -> list[str]:
    """The web frameworks in ``sys.modules`` after importing ``module`` in a fresh
    interpreter."""
    probe = (f"import json, sys, {module}; "
             f"print(json.dumps([m for m in {WEB_FRAMEWORKS!r} if m in sys.modules]))")
    done = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, capture_output=True,
                          text=True, check=True)
    loaded: list[str] = json.loads(done.stdout)
    return loaded


@pytest.mark.parametrize("vendor", VENDORS)
def test_importing_a_backend_loads_no_web_framework(vendor: str) -> None:
    assert web_frameworks_loaded_by(f"fakes.{vendor}.backend") == []


@pytest.mark.parametrize("module", PURE_COMMON)
def test_the_shared_models_load_no_web_framework(module: str) -> None:
    assert web_frameworks_loaded_by(module) == []


def test_the_probe_sees_a_router_load_fastapi() -> None:
    """The check can fail: a router does import the framework."""
    assert "fastapi" in web_frameworks_loaded_by("fakes.vercel.router")
