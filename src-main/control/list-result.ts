// The shape of a SourceCatalog list_items result (source.h) as the host accepts it, as a JSON
// Schema: the sources service refuses results that break it (malformed_result) and the plugin
// checker reports them with the same words, so an author sees exactly what the player would do.
import { type SchemaIssue, validateConfig } from './config-schema.js';

export const listResultSchema = {
  $schema: 'https://json-schema.org/draft/2020-12/schema',
  type: 'object',
  required: ['items'],
  properties: {
    items: {
      type: 'array',
      items: {
        type: 'object',
        required: ['id'],
        properties: {
          id: { type: ['string', 'number'], minLength: 1 },
          kind: { type: 'string', minLength: 1 },
          title: { type: 'string' },
          name: { type: 'string' },
          artist: { type: 'string' },
          album: { type: 'string' },
          duration_ms: { type: 'number', minimum: 0 },
        },
      },
    },
    next_offset: { type: ['integer', 'null'], minimum: 0 },
  },
} as const;

/** Problems of a parsed list_items result (empty when the host accepts it). */
export function listResultIssues(doc: unknown): SchemaIssue[] {
  return validateConfig(listResultSchema, doc, '(result)');
}
