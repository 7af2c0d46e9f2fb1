/**
 * @module channels/botframework/settings
 * The Bot Framework channel's environment variables (botbuilder's own names) and its settings.
 */
import { z } from 'zod';
import { envBool, type ChannelSettingsResult } from '../definition.js';

/** The variables the Bot Framework channel reads (docs/botframework.md, .env.example). */
export const botframeworkEnv = {
  MicrosoftAppId: z.string().optional(),
  MicrosoftAppPassword: z.string().optional(),
  MicrosoftAppType: z.enum(['SingleTenant', 'MultiTenant', 'UserAssignedMSI']).optional(),
  MicrosoftAppTenantId: z.string().optional(),
  BOTFRAMEWORK_LOCAL_ONLY: envBool.default(false),
};

/** The Bot Framework channel's settings. */
export interface BotFrameworkSettings {
  appId: string;
  appPassword: string;
  appType: 'SingleTenant' | 'MultiTenant' | 'UserAssignedMSI';
  tenantId: string;
  /** No credentials: accept only loopback requests and loopback serviceUrls. */
  localOnly: boolean;
}

/** On with an app id (and what its app type needs), or with BOTFRAMEWORK_LOCAL_ONLY. */
export function botframeworkSettings(e: z.infer<z.ZodObject<typeof botframeworkEnv>>): ChannelSettingsResult<BotFrameworkSettings> {
  const problems: string[] = [];
  const set = e.MicrosoftAppId !== undefined || e.MicrosoftAppPassword !== undefined;
  if (set && !e.MicrosoftAppId) problems.push('MicrosoftAppId: required when MicrosoftAppPassword is set');
  if ((e.MicrosoftAppType === 'SingleTenant' || e.MicrosoftAppType === 'UserAssignedMSI') && e.MicrosoftAppId && !e.MicrosoftAppTenantId) {
    problems.push(`MicrosoftAppTenantId: required when MicrosoftAppType is ${e.MicrosoftAppType}`);
  }
  if (e.MicrosoftAppType !== 'UserAssignedMSI' && e.MicrosoftAppId && !e.MicrosoftAppPassword) {
    problems.push('MicrosoftAppPassword: required unless MicrosoftAppType is UserAssignedMSI');
  }
  if (problems.length > 0) return { on: false, problems };
  if (!e.MicrosoftAppId && !e.BOTFRAMEWORK_LOCAL_ONLY) return { on: false };
  return {
    on: true,
    settings: {
      appId: e.MicrosoftAppId ?? '',
      appPassword: e.MicrosoftAppPassword ?? '',
      appType: e.MicrosoftAppType ?? 'SingleTenant',
      tenantId: e.MicrosoftAppTenantId ?? '',
      localOnly: !e.MicrosoftAppId && e.BOTFRAMEWORK_LOCAL_ONLY,
    },
  };
}
