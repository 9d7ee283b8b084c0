// The runbook's internal form of src/utils/featureFlags.ts, as written in ../shared/runbook.md
// (rollout-drill runs it in Node with flag.module; see README, "The app's own flag module").
// In src/utils/featureFlags.ts
export function shouldShowNewContacts(userId: string): boolean {
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
