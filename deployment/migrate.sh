#!/usr/bin/env bash
# The runbook's ./migrate.sh: a thin wrapper over the rollout.app.migrate tool.
#   ./migrate.sh --backup [NAME] | --rollback [N] | --verify | --up | --restore PATH
# The database comes from --dsn or $DATABASE_URL; backups land in ./backups/ (the
# directory you run it from); --help lists everything. PYTHON picks the interpreter
# (default: python3); the checkout this script lives in is put on PYTHONPATH.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export PYTHONPATH="${root}${PYTHONPATH:+:${PYTHONPATH}}"
exec "${PYTHON:-python3}" -m rollout.app.migrate "$@"
