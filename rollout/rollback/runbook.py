"""What the runbook promises, as data: the targets and each path's time estimate.

Reports put these beside the modelled times so a reader sees where the runbook is
optimistic. They are never used to compute a timing.
"""

from __future__ import annotations

from types import MappingProxyType

# "Rollback Metrics" table.
TARGETS = MappingProxyType({
    "time_to_detect_s": 300.0,
    "time_to_decision_s": 120.0,
    "time_to_rollback_s": 300.0,
    "affected_users_pct": 10.0,
    "data_loss": 0,
    "repeat_incidents": 0,
})

# Each path's "Time to Rollback" (seconds, low–high) and where the runbook says it.
ESTIMATES = MappingProxyType({
    "posthog-flag-disable": (30.0, 120.0,
                             "Option A: Feature Flag Disable — 30 seconds - 2 minutes"),
    "vercel-env-var": (30.0, 120.0, "Option A: Feature Flag Disable — 30 seconds - 2 minutes "
                                    "(checklist: 2-3 minutes incl. 1-2 minutes propagation)"),
    "vercel-rollback": (120.0, 300.0, "Option B: Revert Deployment — 2-5 minutes"),
    "git-revert": (300.0, 600.0, "Option C: Git Revert — 5-10 minutes (includes build time)"),
    "git-force-push-tag": (600.0, 1200.0, "Database Rollback step 5: git checkout "
                                          "<previous-version-tag>; git push origin main "
                                          "--force (within the 10-20 minutes of the "
                                          "database rollback)"),
    "docker-compose": (120.0, 300.0, "Option B: Revert Deployment (Docker: docker-compose "
                                     "down / pull :previous / up -d) — 2-5 minutes"),
    "database-rollback": (600.0, 1200.0, "Database Rollback — 10-20 minutes "
                                         "(checklist: 15-20 minutes)"),
    "pulse-sync-response": (30.0, 120.0, "Scenario 3: disable automatic sync "
                                          "(VITE_PULSE_SYNC_ENABLED=false) — no estimate "
                                          "given; Option A's 30 seconds - 2 minutes"),
    "netlify-env-var": (30.0, 120.0, "Option A: Feature Flag Disable — 30 seconds - 2 minutes "
                                     "(checklist: 2-3 minutes incl. 1-2 minutes propagation)"),
    "netlify-restore": (120.0, 300.0, "Option B: Revert Deployment (Netlify: Deploys → "
                                      "Previous deploy → Publish) — 2-5 minutes"),
    "netlify-rollback": (120.0, 300.0, "Option B: Revert Deployment (`netlify rollback`) "
                                       "— 2-5 minutes"),
})
