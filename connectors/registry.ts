import type { ConnectorDefinition } from './contract.js';
import shopify from './shopify/index.js';
import woocommerce from './woocommerce/index.js';

/** Every connector folder's default export. Adding a channel kind: one import and one entry. */
const ALL: ConnectorDefinition<unknown>[] = [shopify, woocommerce];

const BY_TYPE: ReadonlyMap<string, ConnectorDefinition<unknown>> = new Map(
  ALL.map((c) => [c.manifest.type, c]),
);

/** The connector for a channel type; throws for a type no connector declares. */
export function getConnector(type: string): ConnectorDefinition<unknown> {
  const connector = BY_TYPE.get(type);
  if (!connector) {
    throw new Error(`unknown channel type "${type}" (known: ${listConnectorTypes().join(', ')})`);
  }
  return connector;
}

/** The channel types there is a connector for, sorted. */
export function listConnectorTypes(): string[] {
  return [...BY_TYPE.keys()].sort();
}
