import type { FastifyInstance } from 'fastify';
import { TERM_OF, type Plan, type Product } from './catalog.js';
import {
  CONFIGURE_VERSION, PLAN_PRICE_SCHEMA, PLAN_SCHEMA, PRODUCT_SCHEMA, RESOURCE_VERSION, parseConfigureRequest,
} from './ingestion-schema.js';
import { SandboxRefusal } from './refusal.js';
import type { RouteConfig, RouteContext } from './server.js';
import { refused } from './wire.js';

/**
 * Product Ingestion, as served under `https://graph.microsoft.com/rp/product-ingestion`: configure
 * jobs and their status, private offers, the products and plans they price, and each plan's
 * price resource to start absolute pricing from.
 */
const BASE = '/rp/product-ingestion';

function route(endpoint: string, versions: readonly string[]): { config: RouteConfig } {
  return { config: { endpoint, api: 'ingestion', version: { name: '$version', values: versions } } };
}

export function registerIngestionRoutes(app: FastifyInstance, ctx: RouteContext): void {
  const { ingestion, catalog } = ctx;

  app.post(`${BASE}/configure`, route('ingestion.configure', [CONFIGURE_VERSION]), async (request, reply) => {
    const parsed = parseConfigureRequest(request.body);
    if ('problems' in parsed) {
      const first = parsed.problems[0];
      return reply.code(400).send({ error: { code: 'schemaValidationError', message: `The request does not follow the schema: ${first.target ? `${first.target}: ` : ''}${first.message}`, target: first.target, details: parsed.problems } });
    }
    return reply.code(202).send(ingestion.submit(parsed.resources));
  });

  app.get<{ Params: { jobId: string } }>(`${BASE}/configure/:jobId/status`, route('ingestion.status', [CONFIGURE_VERSION]), async (request, reply) => {
    try {
      return ingestion.status(request.params.jobId);
    } catch (error) {
      return refused(reply, 'ingestion', error);
    }
  });

  app.get<{ Params: { jobId: string } }>(`${BASE}/configure/:jobId`, route('ingestion.job', [CONFIGURE_VERSION, RESOURCE_VERSION]), async (request, reply) => {
    try {
      return ingestion.jobOffer(request.params.jobId);
    } catch (error) {
      return refused(reply, 'ingestion', error);
    }
  });

  app.get(`${BASE}/private-offer/query`, route('ingestion.private-offers', [RESOURCE_VERSION]), async () => ({ value: ingestion.offers() }));

  app.get<{ Params: { id: string } }>(`${BASE}/private-offer/:id`, route('ingestion.private-offer', [RESOURCE_VERSION]), async (request, reply) => {
    try {
      return ingestion.offer(request.params.id);
    } catch (error) {
      return refused(reply, 'ingestion', error);
    }
  });

  app.get<{ Params: { product: string }; Querystring: { plan?: string } }>(
    `${BASE}/price-and-availability-private-offer-plan/:product`, route('ingestion.plan-price', [RESOURCE_VERSION]), async (request, reply) => {
      try {
        const product = catalog.product(`product/${request.params.product}`);
        if (!product) throw new SandboxRefusal(404, 'notFound', `Product 'product/${request.params.product}' was not found.`);
        const planRef = request.query.plan;
        if (!planRef) throw new SandboxRefusal(400, 'badRequest', 'The plan query parameter is required.');
        const plan = catalog.plan(product, planRef.startsWith('plan/') ? planRef : `plan/${planRef}`) ?? product.plans.find((p) => p.externalId === planRef);
        if (!plan) throw new SandboxRefusal(404, 'notFound', `Plan '${planRef}' was not found in ${product.id}.`);
        return listPriceResource(product, plan);
      } catch (error) {
        return refused(reply, 'ingestion', error);
      }
    });

  app.get<{ Params: { product: string; serial: string } }>(
    `${BASE}/price-and-availability-private-offer-plan/:product/:serial`, route('ingestion.plan-price', [RESOURCE_VERSION]), async (request, reply) => {
      try {
        return ingestion.planPrice(request.params.product, request.params.serial);
      } catch (error) {
        return refused(reply, 'ingestion', error);
      }
    });

  app.get<{ Querystring: { externalId?: string } }>(`${BASE}/product`, route('ingestion.products', [CONFIGURE_VERSION]), async (request) => ({
    value: catalog.all().filter((p) => request.query.externalId === undefined || p.externalId === request.query.externalId).map(productResource),
  }));

  app.get<{ Params: { id: string } }>(`${BASE}/product/:id`, route('ingestion.product', [CONFIGURE_VERSION]), async (request, reply) => {
    const product = catalog.product(`product/${request.params.id}`);
    return product ? productResource(product) : refused(reply, 'ingestion', new SandboxRefusal(404, 'notFound', `Product 'product/${request.params.id}' was not found.`));
  });

  app.get<{ Querystring: { product?: string; externalId?: string } }>(`${BASE}/plan`, route('ingestion.plans', [CONFIGURE_VERSION]), async (request, reply) => {
    if (!request.query.product) return refused(reply, 'ingestion', new SandboxRefusal(400, 'badRequest', 'The product query parameter is required.'));
    const product = catalog.product(request.query.product);
    if (!product) return refused(reply, 'ingestion', new SandboxRefusal(404, 'notFound', `Product '${request.query.product}' was not found.`));
    return {
      value: product.plans.filter((p) => request.query.externalId === undefined || p.externalId === request.query.externalId).map((plan) => ({
        $schema: PLAN_SCHEMA, id: plan.id, product: product.id, identity: { externalId: plan.externalId }, alias: plan.displayName, azureRegions: ['azureGlobal'],
      })),
    };
  });
}

function productResource(product: Product) {
  return { $schema: PRODUCT_SCHEMA, id: product.id, identity: { externalId: product.externalId }, type: 'softwareAsAService', alias: product.alias };
}

/** The plan's public prices as a price resource: a private offer's absolute pricing starts from it. */
function listPriceResource(product: Product, plan: Plan) {
  const meters = Object.fromEntries(plan.meters.map((m) => [m.id, { pricePerPaymentInUsd: Number(m.pricePerUnitUsd) }]));
  return {
    $schema: PLAN_PRICE_SCHEMA,
    product: product.id,
    plan: plan.id,
    offerPricingType: 'editExistingOfferPricingOnly',
    pricing: {
      recurrentPrice: {
        recurrentPriceMode: plan.isPricePerSeat ? 'perUser' : 'flatRate',
        priceInputOption: 'usd',
        ...(plan.isPricePerSeat ? { userLimits: { min: plan.minQuantity ?? 1, max: plan.maxQuantity ?? 1_000_000 } } : {}),
        prices: plan.prices.map((p) => ({ pricePerPaymentInUsd: Number(p.priceUsd), billingTerm: TERM_OF[p.termUnit], paymentOption: TERM_OF[p.termUnit] })),
      },
      ...(plan.meters.length > 0 ? { customMeters: { priceInputOption: 'usd', meters } } : {}),
    },
  };
}
