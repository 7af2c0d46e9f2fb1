/**
 * @module channels/catalog
 * The channels of the registry as a checked list: config reads their variables, the composition
 * root builds the enabled ones, the conversation-test runner plays them.
 */
import { channelDefinitionProblems, type AnyChannelDefinition } from './definition.js';
import * as registry from './registry.js';

export type { AnyChannelDefinition } from './definition.js';
export { channelDefinitionProblems } from './definition.js';

/** Checks channel definitions (the registry's, with a brand's own): each valid, names and variables each claimed once. */
export function checkChannels(definitions: readonly AnyChannelDefinition[]): readonly AnyChannelDefinition[] {
  const names = new Map<string, string>();
  const variables = new Map<string, string>();
  for (const d of definitions) {
    const problems = channelDefinitionProblems(d);
    if (problems.length > 0) {
      throw new Error(`not a channel definition (defineChannel)${typeof d?.name === 'string' ? ` ${d.name}` : ''}: ${problems.join('; ')}`);
    }
    for (const name of [d.name, ...(d.aliases ?? [])]) {
      const other = names.get(name.toLowerCase());
      if (other) throw new Error(`channels ${other} and ${d.name} both claim the name ${name}`);
      names.set(name.toLowerCase(), d.name);
    }
    for (const variable of Object.keys(d.env.shape)) {
      const other = variables.get(variable);
      if (other) throw new Error(`channels ${other} and ${d.name} both read ${variable}`);
      variables.set(variable, d.name);
    }
  }
  return Object.freeze([...definitions]);
}

/** Every channel of the registry, in the registry's order of names. */
export const CHANNELS: readonly AnyChannelDefinition[] = checkChannels(Object.values(registry) as AnyChannelDefinition[]);

/** The channel named `name`, if there is one. */
export function channelDefinition(name: string): AnyChannelDefinition | undefined {
  return CHANNELS.find((c) => c.name === name);
}
