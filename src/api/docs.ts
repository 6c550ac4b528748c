import { readFileSync } from 'node:fs';
import path from 'node:path';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { FastifyInstance } from 'fastify';
import { createJsonSchemaTransform, jsonSchemaTransformObject } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { ROOT } from '../runtime/paths.js';
import { BEARER } from './auth.js';

/**
 * The API describes itself: /openapi.json is an OpenAPI 3.1 document generated from the routes'
 * zod schemas, /docs is Swagger UI over it. Both answer without a token. Register this before
 * the routes: the document lists the routes registered after it.
 */

const version = (JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { version: string }).version;

const OpenApiDocument = z.looseObject({
  openapi: z.string(),
  info: z.looseObject({ title: z.string(), version: z.string() }),
  paths: z.record(z.string(), z.unknown()),
});

/**
 * The document's components, without the input twins of schemas that only answers use (the zod
 * provider makes an `<id>Input` of every named schema; a request names none of ours).
 */
const withoutUnusedInputs: typeof jsonSchemaTransformObject = (document) => {
  const object = jsonSchemaTransformObject(document) as { components?: { schemas?: Record<string, unknown> } };
  const schemas = object.components?.schemas ?? {};
  const text = JSON.stringify({ ...object, components: { ...object.components, schemas: {} } });
  for (const id of Object.keys(schemas)) {
    if (id.endsWith('Input') && !text.includes(`"#/components/schemas/${id}"`)) delete schemas[id];
  }
  return object as ReturnType<typeof jsonSchemaTransformObject>;
};

export async function registerDocs(app: FastifyInstance): Promise<void> {
  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'ecosync',
        version,
        description:
          'The hub\'s HTTP API: connections, sync runs, dead letters, conflicts and co-sells, behind bearer tokens with roles ' +
          '(viewer reads; revops and admin change; alliance and admin submit and decide co-sells; only admin deletes connections), ' +
          'and the webhooks the systems call, authenticated by their signatures. Every error is an RFC 9457 problem ' +
          '(application/problem+json); a request that does not match lists each field at fault in `errors`.',
      },
      components: {
        securitySchemes: {
          [BEARER]: {
            type: 'http',
            scheme: 'bearer',
            description: 'An API token from ECOSYNC_API_TOKENS (name:role:token), or the local admin token the hub writes to <dataDir>/api-token',
          },
        },
      },
    },
    transform: createJsonSchemaTransform({ skipList: [] }),
    transformObject: withoutUnusedInputs,
  });
  await app.register(swaggerUi, {
    routePrefix: '/docs',
    staticCSP: true,
    // Swagger UI sets a few styles inline; its scripts stay limited to its own files.
    transformStaticCSP: (header) => header.replace("style-src 'self' https:", "style-src 'self' https: 'unsafe-inline'"),
  });
  app.get('/openapi.json', {
    schema: { tags: ['service'], summary: 'This API as an OpenAPI 3.1 document', response: { 200: OpenApiDocument.describe('The OpenAPI document') } },
  }, async () => app.swagger() as z.infer<typeof OpenApiDocument>);
}
