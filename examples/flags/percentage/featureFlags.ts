// The runbook's percentage form of src/utils/featureFlags.ts, as written in ../shared/runbook.md
// (rollout-drill runs it in Node with flag.module; see README, "The app's own flag module").
// In src/utils/featureFlags.ts
export function shouldShowNewContacts(userId: string): boolean {
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
