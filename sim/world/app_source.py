"""The Contacts app's source files at each release, as the drill's git history commits them.

``previous_tree`` is the app before the redesign (the old Contacts page only);
``redesign_tree`` is what the deployment commit changes: the new page, the routing in
``App.tsx`` and ``src/utils/featureFlags.ts`` in one of the runbook's three forms
(``internal``, ``percentage``, ``remote``: ``FEATURE_FLAGS``), verbatim from the runbook.
``follow_up_fix_tree`` is a later fix to the new page. ``sim.world.apprepo`` builds the
repository from these trees.
"""

from __future__ import annotations

import json


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


def follow_up_fix_tree() -> dict[str, str | None]:
    """A follow-up fix to the new page (it labels the grid): landing on top of the
    deployment commit, it makes reverting that commit conflict."""
    return {"src/pages/ContactsPageNew.tsx": CONTACTS_PAGE_NEW.replace(
        '<section className="contacts-grid">',
        '<section className="contacts-grid" aria-label="Contacts">')}


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
