"""The Contacts app's git repository for a drill: a real working clone and its bare origin.

``create_app_repo`` builds, in a directory, ``origin.git`` (bare) and ``contacts-web``
(a clone with ``origin`` set) holding the app's history, pushed:

- ``v1.9.0``: the app without the redesign (``ContactsPageOld`` only);
- ``v2.0.0``, the deployment commit: ``ContactsPageNew``, ``src/utils/featureFlags.ts``
  with the runbook's ``shouldShowNewContacts`` and the routing in ``App.tsx``;
- optionally a follow-up fix to the new page on top of it (``follow_up_fix``), which
  makes reverting the deployment commit conflict; ``head`` is then that fix.

Dates come from the drill's clock and the identities are fixed, so the same clock epoch
gives the same SHAs. The bare remote carries two server-side hooks, installed once the
history is pushed: ``pre-receive`` refuses every push while branch protection is on
(``AppRepo.protect``), and ``post-receive`` appends each pushed ``old new ref pushed_at``
to the queue file the CI reads (``sim.world.ci``), as a push webhook would.
"""

from __future__ import annotations

import json
import shlex
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from fakes.common.clock import Clock, to_datetime
from rollout.rollback.git import ONCALL, Git, Identity

DAY = 86400.0
RELEASE_ENGINEER = Identity("Release Engineer", "release@contacts.example")
PROTECTED = "protected branch: pushes to main need a passing CI"
FOLLOW_UP_AFTER = 300.0  # the follow-up lands before the release's deploy is READY

_PRE_RECEIVE = """#!/bin/sh
# Branch protection, switched on by the flag file: it holds the message pushers see.
if [ -f {flag} ]; then
    cat {flag} >&2
    exit 1
fi
exit 0
"""

_POST_RECEIVE = """#!/bin/sh
# The push webhook: one line per updated ref for the CI. The push time is the pusher's
# commit date (a drill sets it from its virtual clock), else the wall clock.
pushed_at="${{GIT_COMMITTER_DATE:-$(date -u +%Y-%m-%dT%H:%M:%S+00:00)}}"
while read -r old new ref; do
    printf '%s %s %s %s\\n' "$old" "$new" "$ref" "$pushed_at" >> {queue}
done
"""


@dataclass(frozen=True)
class AppRepo:
    """The app's bare ``remote`` (origin), the ``work`` clone, and the CI's ``queue`` file.

    ``releases`` maps each release tag to its commit SHA; ``head`` is main after setup.
    """

    root: Path
    remote: Path
    work: Path
    queue: Path
    releases: dict[str, str]
    head: str

    @property
    def flag(self) -> Path:
        """The file whose presence makes ``pre-receive`` refuse pushes."""
        return self.remote / "drill-protected"

    def git(self, clock: Clock, identity: Identity = ONCALL) -> Git:
        """Git in the working clone, dated by ``clock`` (the on-call engineer's shell)."""
        return Git(self.work, home=self.root, when=lambda: to_datetime(clock),
                   identity=identity)

    def remote_git(self) -> Git:
        """Git in the bare remote (what the server and the CI see)."""
        return Git(self.remote, home=self.root)

    def protect(self, message: str = PROTECTED) -> None:
        """Branch protection on: every push is refused with ``message``."""
        self.flag.write_text(message + "\n", encoding="utf-8")

    def unprotect(self) -> None:
        self.flag.unlink(missing_ok=True)

    def deny_force_push(self) -> None:
        """Refuse non-fast-forward updates (git's own ``receive.denyNonFastForwards``)."""
        self.remote_git().run("config", "receive.denyNonFastForwards", "true")

    def clone(self, dest: Path, clock: Clock, identity: Identity = ONCALL) -> Git:
        """Another working clone of origin (a second engineer); returns git in it."""
        Git(dest.parent, home=self.root).run("clone", "--quiet", str(self.remote), dest.name)
        return Git(dest, home=self.root, when=lambda: to_datetime(clock), identity=identity)


def create_app_repo(root: Path, clock: Clock, *, previous: str = "1.9.0",
                    current: str = "2.0.0", flag_mode: str = "percentage",
                    previous_at: float = -7 * DAY - 600, current_at: float = -DAY - 600,
                    follow_up_fix: bool = False) -> AppRepo:
    """Create the app's repository and origin under ``root``; returns the AppRepo.

    Commits are dated ``previous_at`` / ``current_at`` virtual seconds on ``clock``'s
    epoch; ``flag_mode`` picks which of the runbook's three ``featureFlags.ts`` ships.
    """
    root.mkdir(parents=True, exist_ok=True)
    remote, work = root / "origin.git", root / "contacts-web"
    base = Git(root, home=root)
    base.run("init", "--quiet", "--bare", remote.name)
    base.run("init", "--quiet", work.name)
    git = Git(work, home=root, identity=RELEASE_ENGINEER)
    git.run("remote", "add", "origin", str(remote))

    def moment(t: float) -> datetime:
        return clock.epoch + timedelta(seconds=t)

    releases = {
        f"v{previous}": _release(git.at(moment(previous_at)), previous_tree(previous),
                                 f"chore(release): {previous}", f"v{previous}"),
        f"v{current}": _release(git.at(moment(current_at)), redesign_tree(current, flag_mode),
                                f"feat(contacts): redesigned Contacts page behind "
                                f"VITE_FEATURE_CONTACTS_REDESIGN ({current})", f"v{current}"),
    }
    if follow_up_fix:
        _commit(git.at(moment(current_at + FOLLOW_UP_AFTER)),
                {"src/pages/ContactsPageNew.tsx": CONTACTS_PAGE_NEW.replace(
                    '<section className="contacts-grid">',
                    '<section className="contacts-grid" aria-label="Contacts">')},
                "fix(contacts): label the contacts grid for screen readers")
    git.run("push", "--quiet", "origin", "main", *releases)
    repo = AppRepo(root, remote, work, root / "ci-queue.txt", releases, git.rev("HEAD"))
    _install_hooks(repo)
    return repo


def _release(git: Git, files: dict[str, str | None], message: str, tag: str) -> str:
    sha = _commit(git, files, message)
    git.run("tag", "--annotate", tag, "--message", f"release {tag}")
    return sha


def _commit(git: Git, files: dict[str, str | None], message: str) -> str:
    """Write (or, for None, delete) ``files``, stage everything, commit; returns the SHA."""
    for path, text in files.items():
        target = git.workdir / path
        if text is None:
            target.unlink(missing_ok=True)
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")
    git.run("add", "--all")
    git.run("commit", "--quiet", "--message", message)
    return git.rev("HEAD")


def _install_hooks(repo: AppRepo) -> None:
    repo.queue.touch()
    hooks = repo.remote / "hooks"
    hooks.mkdir(exist_ok=True)
    for name, text in (("pre-receive", _PRE_RECEIVE.format(flag=shlex.quote(str(repo.flag)))),
                       ("post-receive",
                        _POST_RECEIVE.format(queue=shlex.quote(str(repo.queue))))):
        hook = hooks / name
        hook.write_text(text, encoding="utf-8")
        hook.chmod(0o755)


# ---- the app's files -------------------------------------------------------------------

def previous_tree(version: str) -> dict[str, str | None]:
    """The app before the redesign: the old Contacts page only."""
    return {"package.json": _package_json(version), "index.html": INDEX_HTML,
            "vite.config.ts": VITE_CONFIG, "src/main.tsx": MAIN_TSX,
            "src/hooks/useAuth.ts": USE_AUTH, "src/App.tsx": APP_OLD,
            "src/pages/ContactsPageOld.tsx": CONTACTS_PAGE_OLD}


def redesign_tree(version: str, flag_mode: str) -> dict[str, str | None]:
    """The deployment commit's changes: the new page, the flag function, the routing."""
    files: dict[str, str | None] = {
        "package.json": _package_json(version, posthog=flag_mode == "remote"),
        "src/App.tsx": APP_NEW, "src/pages/ContactsPageNew.tsx": CONTACTS_PAGE_NEW,
        "src/utils/featureFlags.ts": FEATURE_FLAGS[flag_mode]}
    if flag_mode == "remote":
        files["src/utils/analytics.ts"] = ANALYTICS
    return files


def _package_json(version: str, posthog: bool = False) -> str:
    deps = {"react": "^18.3.1", "react-dom": "^18.3.1", "react-router-dom": "^6.26.2"}
    if posthog:
        deps["posthog-js"] = "^1.160.0"
    return json.dumps({
        "name": "contacts-web", "private": True, "version": version, "type": "module",
        "scripts": {"dev": "vite", "build": "tsc && vite build", "test": "vitest run"},
        "dependencies": deps,
        "devDependencies": {"@vitejs/plugin-react": "^4.3.1", "typescript": "^5.5.4",
                            "vite": "^5.4.2", "vitest": "^2.0.5"},
    }, indent=2) + "\n"


INDEX_HTML = """<!doctype html>
<html lang="en">
  <head><meta charset="UTF-8" /><title>Contacts</title></head>
  <body><div id="root"></div><script type="module" src="/src/main.tsx"></script></body>
</html>
"""

VITE_CONFIG = """import { defineConfig } from 'vite';
import react from '@vitejs/plugin-react';

export default defineConfig({ plugins: [react()] });
"""

MAIN_TSX = """import React from 'react';
import ReactDOM from 'react-dom/client';
import { BrowserRouter } from 'react-router-dom';
import App from './App';

ReactDOM.createRoot(document.getElementById('root')!).render(
  <React.StrictMode>
    <BrowserRouter>
      <App />
    </BrowserRouter>
  </React.StrictMode>
);
"""

USE_AUTH = """export interface User {
  id: string;
  email: string;
}

export function useAuth(): { user: User | null } {
  const raw = sessionStorage.getItem('user');
  return { user: raw ? (JSON.parse(raw) as User) : null };
}
"""

APP_OLD = """import { Navigate, Route, Routes } from 'react-router-dom';
import ContactsPageOld from './pages/ContactsPageOld';

function App() {
  return (
    <Routes>
      <Route path="/contacts" element={<ContactsPageOld />} />
      <Route path="*" element={<Navigate to="/contacts" replace />} />
    </Routes>
  );
}

export default App;
"""

APP_NEW = """import { Navigate, Route, Routes } from 'react-router-dom';
import { shouldShowNewContacts } from './utils/featureFlags';
import { useAuth } from './hooks/useAuth';
import ContactsPageNew from './pages/ContactsPageNew';
import ContactsPageOld from './pages/ContactsPageOld';

function App() {
  const { user } = useAuth();

  // Route to new or old contacts page
  const showNewContacts = shouldShowNewContacts(user?.id || '');

  return (
    <Routes>
      <Route path="/contacts" element={
        showNewContacts ? <ContactsPageNew /> : <ContactsPageOld />
      } />
      <Route path="*" element={<Navigate to="/contacts" replace />} />
    </Routes>
  );
}

export default App;
"""

CONTACTS_PAGE_OLD = """import { useEffect, useState } from 'react';

interface Contact { id: string; name: string; email: string }

export default function ContactsPageOld() {
  const [contacts, setContacts] = useState<Contact[]>([]);

  useEffect(() => {
    fetch('/api/contacts').then((r) => r.json()).then(setContacts);
  }, []);

  return (
    <table className="contacts">
      <tbody>
        {contacts.map((c) => (
          <tr key={c.id}><td>{c.name}</td><td>{c.email}</td></tr>
        ))}
      </tbody>
    </table>
  );
}
"""

CONTACTS_PAGE_NEW = """import { useEffect, useState } from 'react';

interface Contact { id: string; name: string; email: string; company?: string }

export default function ContactsPageNew() {
  const [contacts, setContacts] = useState<Contact[]>();

  useEffect(() => {
    fetch('/api/v2/contacts').then((r) => r.json()).then((body) => setContacts(body.items));
  }, []);

  return (
    <section className="contacts-grid">
      {contacts.map((c) => (
        <article key={c.id} className="contact-card">
          <h3>{c.name}</h3>
          <p>{c.email}</p>
          {c.company && <p className="company">{c.company}</p>}
        </article>
      ))}
    </section>
  );
}
"""

ANALYTICS = """import posthog from 'posthog-js';

posthog.init(import.meta.env.VITE_POSTHOG_KEY, { api_host: import.meta.env.VITE_POSTHOG_HOST });

export const analytics = {
  isFeatureEnabled(key: string): boolean | undefined {
    return posthog.isFeatureEnabled(key);
  },
};
"""

_HASH_CODE = """
// Simple hash function for consistent bucketing
function hashCode(str: string): number {
  let hash = 0;
  for (let i = 0; i < str.length; i++) {
    const char = str.charCodeAt(i);
    hash = (hash << 5) - hash + char;
    hash = hash & hash; // Convert to 32bit integer
  }
  return hash;
}
"""

# The runbook's three forms of src/utils/featureFlags.ts, verbatim.
FEATURE_FLAGS = {
    "internal": """export function shouldShowNewContacts(userId: string): boolean {
  // Feature flag from environment
  const featureEnabled = import.meta.env.VITE_FEATURE_CONTACTS_REDESIGN === 'true';

  if (!featureEnabled) {
    return false;
  }

  // Internal team user IDs (from Supabase auth)
  const internalUsers = [
    'user-id-1',
    'user-id-2',
    'user-id-3',
    // Add internal team members
  ];

  return internalUsers.includes(userId);
}
""",
    "percentage": """export function shouldShowNewContacts(userId: string): boolean {
  const featureEnabled = import.meta.env.VITE_FEATURE_CONTACTS_REDESIGN === 'true';

  if (!featureEnabled) {
    return false;
  }

  // Internal users always see new version
  const internalUsers = ['user-id-1', 'user-id-2'];
  if (internalUsers.includes(userId)) {
    return true;
  }

  // 50% rollout using consistent hashing
  const rolloutPercentage = parseInt(import.meta.env.VITE_ROLLOUT_PERCENTAGE || '0');

  // Use user ID for consistent assignment (user always sees same version)
  const hash = hashCode(userId);
  const bucket = Math.abs(hash) % 100;

  return bucket < rolloutPercentage;
}
""" + _HASH_CODE,
    "remote": """import { analytics } from './analytics';

export function shouldShowNewContacts(userId: string): boolean {
  // Check remote feature flag (PostHog)
  const remoteFlag = analytics.isFeatureEnabled('contacts_redesign');

  if (remoteFlag !== undefined) {
    return remoteFlag;
  }

  // Fallback to environment variable
  return import.meta.env.VITE_FEATURE_CONTACTS_REDESIGN === 'true';
}
""",
}
