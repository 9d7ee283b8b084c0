// The runbook's remote form of src/utils/featureFlags.ts, as written in ../shared/runbook.md
// (rollout-drill runs it in Node with flag.module; see README, "The app's own flag module").
// In src/utils/featureFlags.ts
import { analytics } from './analytics';

export function shouldShowNewContacts(userId: string): boolean {
  // Check remote feature flag (PostHog)
  const remoteFlag = analytics.isFeatureEnabled('contacts_redesign');

  if (remoteFlag !== undefined) {
    return remoteFlag;
  }

  // Fallback to environment variable
  return import.meta.env.VITE_FEATURE_CONTACTS_REDESIGN === 'true';
}
