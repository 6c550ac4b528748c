import { Client } from '@hubspot/api-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { startHubSpotSandbox, type HubSpotSandbox } from '../sandbox/index.js';

/**
 * The HubSpot sandbox against HubSpot's published OpenAPI specs (HubSpot/HubSpot-public-api-spec-collection:
 * CRM Companies, Contacts and Deals v3, Associations v4, Associations Schema v4). Every operation
 * the specs list for these objects is walked through the unmodified @hubspot/api-client; each
 * answer's status must be one the spec documents and its body must have the spec's shape (the
 * schemas below restate the spec's components). Refusals are checked the same way: status,
 * category and where the problem is.
 */

// ---- the spec's shapes ------------------------------------------------------------------------

const iso = z.iso.datetime({ offset: true });
const BATCH_STATUS = z.enum(['CANCELED', 'COMPLETE', 'PENDING', 'PROCESSING']);
const CATEGORY = z.enum(['HUBSPOT_DEFINED', 'INTEGRATOR_DEFINED', 'USER_DEFINED', 'WORK']);
const context = z.record(z.string(), z.array(z.string()));

const ErrorDetail = z.object({ message: z.string(), code: z.string().optional(), in: z.string().optional(), context: context.optional(), subCategory: z.string().optional() });
/** `Error`: the body of a refused call. */
const ErrorBody = z.object({
  message: z.string(), correlationId: z.string(), category: z.string(), subCategory: z.string().optional(),
  errors: z.array(ErrorDetail).optional(), context: context.optional(), links: z.record(z.string(), z.string()).optional(),
});
/** `StandardError`: one failed input of a batch. */
const StandardError = z.object({
  status: z.string(), category: z.string(), message: z.string(), context, errors: z.array(ErrorDetail), links: z.record(z.string(), z.string()),
  id: z.string().optional(), subCategory: z.unknown().optional(),
});
const ValueWithTimestamp = z.object({ value: z.string(), timestamp: iso, sourceType: z.string(), sourceId: z.string().optional(), sourceLabel: z.string().optional(), updatedByUserId: z.number().int().optional() });
const SimplePublicObject = z.object({
  id: z.string(), properties: z.record(z.string(), z.string().nullable()), createdAt: iso, updatedAt: iso, archived: z.boolean(), archivedAt: iso.optional(),
  propertiesWithHistory: z.record(z.string(), z.array(ValueWithTimestamp)).optional(), objectWriteTraceId: z.string().optional(), url: z.string().optional(),
});
const NextPage = z.object({ after: z.string(), link: z.string().optional() });
const Paging = z.object({ next: NextPage.optional(), prev: z.object({ before: z.string(), link: z.string().optional() }).optional() });
const AssociatedId = z.object({ id: z.string(), type: z.string() });
const WithAssociations = SimplePublicObject.extend({ associations: z.record(z.string(), z.object({ results: z.array(AssociatedId), paging: Paging.optional() })).optional() });
const UpsertObject = SimplePublicObject.extend({ new: z.boolean() });
const CollectionWithAssociations = z.object({ results: z.array(WithAssociations), paging: Paging.optional() });
const CollectionWithTotal = z.object({ total: z.number().int(), results: z.array(SimplePublicObject), paging: Paging.optional() });
const batch = <T extends z.ZodType>(result: T) => z.object({
  status: BATCH_STATUS, results: z.array(result), startedAt: iso, completedAt: iso, requestedAt: iso.optional(), links: z.record(z.string(), z.string()).optional(),
  errors: z.array(StandardError).optional(), numErrors: z.number().int().optional(),
});
const batchWithErrors = <T extends z.ZodType>(result: T) => batch(result).extend({ errors: z.array(StandardError).min(1), numErrors: z.number().int().min(1) });

// Associations v4. The spec types object ids as strings; HubSpot sends them as numbers, and the SDK passes either through.
const ObjectId = z.union([z.string(), z.number()]);
const AssociationSpec = z.object({ associationCategory: CATEGORY, associationTypeId: z.number().int() });
// The spec has label optional; HubSpot sends null for the unlabelled default.
const SpecWithLabel = z.object({ category: CATEGORY, typeId: z.number().int(), label: z.string().nullable().optional() });
const MultiAssociated = z.object({ toObjectId: ObjectId, associationTypes: z.array(SpecWithLabel) });
const AssociationPage = z.object({ results: z.array(MultiAssociated), paging: z.object({ next: NextPage.optional() }).optional() });
const MultiWithLabel = z.object({ from: z.object({ id: z.string() }), to: z.array(MultiAssociated), paging: Paging.optional() });
const LabelsBetween = z.object({ fromObjectTypeId: z.string(), fromObjectId: ObjectId, toObjectTypeId: z.string(), toObjectId: ObjectId, labels: z.array(z.string()) });
const DefaultAssociation = z.object({ from: z.object({ id: z.string() }), to: z.object({ id: z.string() }), associationSpec: AssociationSpec });
const LabelsCollection = z.object({ results: z.array(SpecWithLabel) });
// Properties v3 (the SDK's model of Property).
const Property = z.object({
  name: z.string(), label: z.string(), type: z.string(), fieldType: z.string(), groupName: z.string(), description: z.string(),
  options: z.array(z.object({ label: z.string(), value: z.string(), hidden: z.boolean(), displayOrder: z.number().int().optional() })),
  hasUniqueValue: z.boolean().optional(), hubspotDefined: z.boolean().optional(), calculated: z.boolean().optional(), externalOptions: z.boolean().optional(),
});

// ---- the operations the specs list, and how each is walked ------------------------------------

interface Exchange { method: string; path: string; status: number; body: unknown }

type Shapes = Partial<Record<number, z.ZodType | null>>;
interface Operation {
  /** The spec's operation: method and path template. */
  op: string;
  /** Documented answers: status → body shape (null: no body). */
  shapes: Shapes;
  run(hs: Client): Promise<unknown>;
  /** What else the answer must say. */
  check?(result: any, exchange: Exchange): void | Promise<void>;
}

/** The SDK's own middleware hook: it sees each request and its answer as they cross the wire. */
let pending: { method: string; path: string } | undefined;
const recorder = {
  pre: (ctx: any) => {
    pending = { method: String(ctx.getHttpMethod()), path: new URL(ctx.getUrl()).pathname };
    return ctx;
  },
  post: async (ctx: any) => {
    const text = await ctx.body.text();
    exchanges.push({ ...pending!, status: ctx.httpStatusCode, body: text ? JSON.parse(text) : undefined });
    return ctx;
  },
};

let sb: HubSpotSandbox;
let hs: Client;
const exchanges: Exchange[] = [];
const ids: Record<string, string> = {};

beforeAll(async () => {
  sb = await startHubSpotSandbox({ companies: 3, contactsPerCompany: 1, dealsPerCompany: 1 });
  hs = new Client({ accessToken: sb.accessToken, basePath: sb.url, numberOfApiCallRetries: 0, middleware: [recorder] });
  const [company, other] = sb.state.live('companies');
  const [contact] = sb.state.live('contacts');
  const [deal] = sb.state.live('deals');
  Object.assign(ids, { company: company.id, otherCompany: other.id, contact: contact.id, deal: deal.id });
});
afterAll(async () => {
  await sb?.close();
});

const OBJECTS = {
  companies: { props: () => ({ name: `Conformance Co ${Date.now()}`, industry: 'Technology', ecosync_id: `co-${Math.random()}` }), change: { description: 'changed' } },
  contacts: { props: () => ({ firstname: 'Ada', lastname: 'Lovelace', email: `ada.${Math.random()}@example.com`, ecosync_id: `ct-${Math.random()}` }), change: { jobtitle: 'CTO' } },
  deals: { props: () => ({ dealname: 'Conformance deal', dealstage: 'qualifiedtobuy', amount: '1200.50', ecosync_id: `dl-${Math.random()}` }), change: { amount: '99' } },
} as const;
type ObjectName = keyof typeof OBJECTS;

/** companies v3, contacts v3, deals v3: the same operations on each object. */
function objectOperations(name: ObjectName): Operation[] {
  const api = () => hs.crm[name];
  const made: string[] = [];
  const create = async () => {
    const rec = await api().basicApi.create({ properties: OBJECTS[name].props() as Record<string, string>, associations: [] });
    made.push(rec.id);
    return rec;
  };
  const base = `/crm/v3/objects/${name === 'deals' ? '0-3' : name}`;
  const ops: Operation[] = [
    {
      op: `GET ${base}`, shapes: { 200: CollectionWithAssociations },
      run: () => api().basicApi.getPage(2, undefined, undefined, undefined, undefined, false),
      check: (page) => {
        expect(page.results).toHaveLength(2);
        expect(page.paging.next.after).toEqual(expect.any(String));
      },
    },
    {
      op: `POST ${base}`, shapes: { 201: SimplePublicObject },
      run: create,
      check: (rec) => expect(rec.properties.hs_object_id).toBe(rec.id),
    },
    {
      op: `GET ${base}/{id}`, shapes: { 200: WithAssociations },
      run: async () => api().basicApi.getById(made[0], Object.keys(OBJECTS[name].change), Object.keys(OBJECTS[name].change)),
      check: (rec, ex) => {
        expect(rec.id).toBe(made[0]);
        expect((ex.body as any).propertiesWithHistory).toBeDefined();
      },
    },
    {
      op: `PATCH ${base}/{id}`, shapes: { 200: SimplePublicObject },
      run: () => api().basicApi.update(made[0], { properties: { ...OBJECTS[name].change } }),
      check: async (rec) => {
        const [prop, value] = Object.entries(OBJECTS[name].change)[0];
        expect(rec.properties[prop]).toBe(value);
        // The change is in the property's history, newest first.
        const again = await api().basicApi.getById(made[0], undefined, [prop]);
        expect(again.propertiesWithHistory![prop][0]).toMatchObject({ value, sourceType: 'INTEGRATION' });
      },
    },
    {
      op: `POST ${base}/batch/create`, shapes: { 201: batch(SimplePublicObject), 207: batchWithErrors(SimplePublicObject) },
      run: () => api().batchApi.create({ inputs: [1, 2].map(() => ({ properties: OBJECTS[name].props() as Record<string, string>, associations: [] })) }),
      check: (res) => {
        expect(res.results).toHaveLength(2);
        made.push(...res.results.map((r: { id: string }) => r.id));
      },
    },
    {
      op: `POST ${base}/batch/read`, shapes: { 200: batch(SimplePublicObject), 207: batchWithErrors(SimplePublicObject) },
      run: () => api().batchApi.read({ inputs: [{ id: made[1] }, { id: '999' }], properties: ['hs_object_id'], propertiesWithHistory: [] }),
      check: (_res, ex) => {
        expect(ex.status).toBe(207);
        expect((ex.body as any).errors[0]).toMatchObject({ category: 'OBJECT_NOT_FOUND', context: { ids: ['999'] } });
      },
    },
    {
      op: `POST ${base}/batch/update`, shapes: { 200: batch(SimplePublicObject), 207: batchWithErrors(SimplePublicObject) },
      run: () => api().batchApi.update({ inputs: [{ id: made[1], properties: { ...OBJECTS[name].change } }] }),
    },
    {
      op: `POST ${base}/batch/upsert`, shapes: { 200: batch(UpsertObject), 207: batchWithErrors(UpsertObject) },
      run: () => api().batchApi.upsert({ inputs: [{ idProperty: 'ecosync_id', id: `upsert-${name}`, properties: OBJECTS[name].props() as Record<string, string> }] }),
      check: async (res) => {
        expect(res.results[0]._new).toBe(true);
        const again = await api().batchApi.upsert({ inputs: [{ idProperty: 'ecosync_id', id: `upsert-${name}`, properties: { ...OBJECTS[name].change } }] });
        expect(again.results[0].id).toBe(res.results[0].id);
      },
    },
    {
      op: `POST ${base}/search`, shapes: { 200: CollectionWithTotal },
      run: () => api().searchApi.doSearch({
        filterGroups: [{ filters: [{ propertyName: 'hs_object_id', operator: 'IN' as never, values: made.slice(0, 2) }] }],
        sorts: ['hs_object_id'], properties: ['hs_object_id'], limit: 1, after: '0',
      }),
      check: (res) => {
        expect(res.total).toBe(2);
        expect(res.results.map((r: { id: string }) => r.id)).toEqual([made[0]]);
        expect(res.paging.next.after).toBe('1');
      },
    },
    {
      op: `POST ${base}/merge`, shapes: { 200: SimplePublicObject },
      run: () => api().basicApi.merge({ primaryObjectId: made[0], objectIdToMerge: made[2] }),
      check: async (rec) => {
        expect(rec.id).toBe(made[0]);
        await expect(api().basicApi.getById(made[2])).rejects.toMatchObject({ code: 404 });
      },
    },
    {
      op: `POST ${base}/batch/archive`, shapes: { 204: null },
      run: () => api().batchApi.archive({ inputs: [{ id: made[1] }] }),
      check: async () => {
        expect((await api().basicApi.getById(made[1], undefined, undefined, undefined, true)).archived).toBe(true);
      },
    },
    {
      op: `DELETE ${base}/{id}`, shapes: { 204: null },
      run: () => api().basicApi.archive(made[0]),
      check: async () => {
        await expect(api().basicApi.getById(made[0])).rejects.toMatchObject({ code: 404 });
      },
    },
  ];
  if (name === 'contacts') {
    ops.push({
      op: `POST ${base}/gdpr-delete`, shapes: { 204: null },
      run: async () => {
        const rec = await create();
        ids.gdpr = rec.id;
        return hs.crm.contacts.basicApi.purge({ objectId: rec.properties.email!, idProperty: 'email' });
      },
      check: async () => {
        // Gone for good: not even an archived read finds it.
        await expect(hs.crm.contacts.basicApi.getById(ids.gdpr, undefined, undefined, undefined, true)).rejects.toMatchObject({ code: 404 });
      },
    });
  }
  return ops;
}

const V4 = hs4();
function hs4() {
  const assoc = () => hs.crm.associations.v4;
  const ops: Operation[] = [
    {
      op: 'PUT /crm/v4/objects/{fromObjectType}/{fromObjectId}/associations/default/{toObjectType}/{toObjectId}', shapes: { 200: batch(DefaultAssociation) },
      run: () => assoc().basicApi.createDefault('deals', ids.deal, 'companies', ids.otherCompany),
      check: (res) => expect(res.results.map((r: any) => r.associationSpec.associationTypeId).sort()).toEqual([341, 342]),
    },
    {
      op: 'PUT /crm/v4/objects/{objectType}/{objectId}/associations/{toObjectType}/{toObjectId}', shapes: { 201: LabelsBetween },
      run: () => assoc().basicApi.create('contacts', ids.contact, 'companies', ids.otherCompany, [{ associationCategory: 'HUBSPOT_DEFINED' as never, associationTypeId: 1 }]),
      check: (res) => expect(res.labels).toEqual(['Primary']),
    },
    {
      op: 'GET /crm/v4/objects/{objectType}/{objectId}/associations/{toObjectType}', shapes: { 200: AssociationPage },
      run: () => assoc().basicApi.getPage('contacts', ids.contact, 'companies', undefined, 1),
      check: (page, ex) => {
        expect(page.results).toHaveLength(1);
        expect((ex.body as any).paging.next.after).toEqual(expect.any(String));
      },
    },
    {
      op: 'DELETE /crm/v4/objects/{objectType}/{objectId}/associations/{toObjectType}/{toObjectId}', shapes: { 204: null },
      run: () => assoc().basicApi.archive('contacts', ids.contact, 'companies', ids.otherCompany),
      check: () => expect(sb.state.associations('contacts', ids.contact, 'companies')).not.toContain(ids.otherCompany),
    },
    {
      op: 'POST /crm/v4/associations/{fromObjectType}/{toObjectType}/batch/associate/default', shapes: { 200: batch(DefaultAssociation) },
      run: () => assoc().batchApi.createDefault('contacts', 'deals', { inputs: [{ _from: { id: ids.contact }, to: { id: ids.deal } }] }),
      check: (res) => expect(res.results.map((r: any) => r.associationSpec.associationTypeId).sort()).toEqual([3, 4]),
    },
    {
      op: 'POST /crm/v4/associations/{fromObjectType}/{toObjectType}/batch/create', shapes: { 201: batch(LabelsBetween), 207: batchWithErrors(LabelsBetween) },
      run: () => assoc().batchApi.create('deals', 'companies', { inputs: [
        { _from: { id: ids.deal }, to: { id: ids.company }, types: [{ associationCategory: 'HUBSPOT_DEFINED' as never, associationTypeId: 5 }] },
        { _from: { id: ids.deal }, to: { id: '42' }, types: [{ associationCategory: 'HUBSPOT_DEFINED' as never, associationTypeId: 5 }] },
      ] }),
      check: (_res, ex) => {
        expect(ex.status).toBe(207);
        expect((ex.body as any).results[0].labels).toEqual(['Primary']);
        expect((ex.body as any).errors[0]).toMatchObject({ category: 'OBJECT_NOT_FOUND', context: { toObjectId: ['42'] } });
      },
    },
    {
      op: 'POST /crm/v4/associations/{fromObjectType}/{toObjectType}/batch/read', shapes: { 200: batch(MultiWithLabel), 207: batchWithErrors(MultiWithLabel) },
      run: () => assoc().batchApi.getPage('deals', 'companies', { inputs: [{ id: ids.deal }] }),
      check: (res, ex) => {
        const to = (ex.body as any).results[0].to;
        expect(to.map((t: any) => String(t.toObjectId))).toContain(ids.company);
        const types = to.find((t: any) => String(t.toObjectId) === ids.company).associationTypes;
        expect(types).toEqual(expect.arrayContaining([{ category: 'HUBSPOT_DEFINED', typeId: 5, label: 'Primary' }, { category: 'HUBSPOT_DEFINED', typeId: 341, label: null }]));
        expect(res.results).toHaveLength(1);
      },
    },
    {
      op: 'POST /crm/v4/associations/{fromObjectType}/{toObjectType}/batch/labels/archive', shapes: { 204: null },
      run: () => assoc().batchApi.archiveLabels('deals', 'companies', { inputs: [{ _from: { id: ids.deal }, to: { id: ids.company }, types: [{ associationCategory: 'HUBSPOT_DEFINED' as never, associationTypeId: 5 }] }] }),
      // Only the label goes: the pair stays associated by the default type.
      check: () => expect(sb.state.associationTypeIds('deals', ids.deal, 'companies', ids.company)).toEqual([341]),
    },
    {
      op: 'POST /crm/v4/associations/{fromObjectType}/{toObjectType}/batch/archive', shapes: { 204: null },
      run: () => assoc().batchApi.archive('deals', 'companies', { inputs: [{ _from: { id: ids.deal }, to: [{ id: ids.company }] }] }),
      check: () => expect(sb.state.associations('deals', ids.deal, 'companies')).not.toContain(ids.company),
    },
    {
      op: 'GET /crm/associations/v4/{fromObjectType}/{toObjectType}/labels', shapes: { 200: LabelsCollection },
      run: () => assoc().schema.definitionsApi.getAll('contacts', 'companies'),
      check: (res) => expect(res.results).toEqual(expect.arrayContaining([
        { category: 'HUBSPOT_DEFINED', typeId: 1, label: 'Primary' }, { category: 'HUBSPOT_DEFINED', typeId: 279, label: null },
      ])),
    },
    {
      op: 'POST /crm/associations/v4/{fromObjectType}/{toObjectType}/labels', shapes: { 200: LabelsCollection },
      run: () => assoc().schema.definitionsApi.create('deals', 'contacts', { label: 'Decision maker', name: 'decision_maker', inverseLabel: 'Decides on' }),
      check: async (res) => {
        const [forward] = res.results;
        ids.label = String(forward.typeId);
        expect(forward).toMatchObject({ category: 'USER_DEFINED', label: 'Decision maker' });
        // The new label is usable at once.
        await assoc().basicApi.create('deals', ids.deal, 'contacts', ids.contact, [{ associationCategory: 'USER_DEFINED' as never, associationTypeId: forward.typeId }]);
        expect(sb.state.associationTypeIds('deals', ids.deal, 'contacts', ids.contact)).toContain(forward.typeId);
      },
    },
    {
      op: 'PUT /crm/associations/v4/{fromObjectType}/{toObjectType}/labels', shapes: { 204: null },
      run: () => assoc().schema.definitionsApi.update('deals', 'contacts', { associationTypeId: Number(ids.label), label: 'Economic buyer' }),
    },
    {
      op: 'DELETE /crm/associations/v4/{fromObjectType}/{toObjectType}/labels/{associationTypeId}', shapes: { 204: null },
      run: () => assoc().schema.definitionsApi.remove('deals', 'contacts', Number(ids.label)),
      check: () => expect(sb.state.associationTypeIds('deals', ids.deal, 'contacts', ids.contact)).not.toContain(Number(ids.label)),
    },
  ];
  return ops;
}

const PROPERTIES: Operation[] = [
  { op: 'GET /crm/v3/properties/{objectType}', shapes: { 200: z.object({ results: z.array(Property) }) }, run: () => hs.crm.properties.coreApi.getAll('deals') },
  {
    op: 'GET /crm/v3/properties/{objectType}/{propertyName}', shapes: { 200: Property },
    run: () => hs.crm.properties.coreApi.getByName('deals', 'dealstage'),
    check: (p) => expect(p.options.map((o: { value: string }) => o.value)).toContain('closedwon'),
  },
];

/** Operations the specs list that the sandbox does not serve, and why nobody using ecosync calls them. */
const NOT_SERVED = [
  'POST /crm/v4/associations/usage/high-usage-report/{userId} (an admin report of heavy association users)',
  'GET|POST /crm/associations/v4/definitions/configurations/… (per-portal association limits)',
];

/** Refusals: what HubSpot answers to input it does not take, in its `Error` shape. */
interface Refusal {
  name: string;
  run(hs: Client): Promise<unknown>;
  status: number;
  category: string;
  check?(body: any): void;
}

const props = (properties: Record<string, string>) => ({ properties, associations: [] });
const filter = (propertyName: string, operator: string, extra: Record<string, unknown> = {}) => ({ propertyName, operator: operator as never, ...extra });
const search = (request: Record<string, unknown>) => hs.crm.deals.searchApi.doSearch({ filterGroups: [], sorts: [], properties: [], limit: 10, after: '0', ...request } as never);
/** The issues HubSpot embeds in a VALIDATION_ERROR's message. */
const issues = (body: any) => JSON.parse(String(body.message).replace(/^Property values were not valid: /, ''));

const REFUSALS: Refusal[] = [
  {
    name: 'a property that does not exist (PROPERTY_DOESNT_EXIST, named in errors[].context)', status: 400, category: 'VALIDATION_ERROR',
    run: () => hs.crm.companies.basicApi.create(props({ name: 'X', colour: 'red' })),
    check: (body) => {
      expect(issues(body)).toEqual([expect.objectContaining({ isValid: false, error: 'PROPERTY_DOESNT_EXIST', name: 'colour', message: 'Property "colour" does not exist', localizedErrorMessage: 'Property "colour" does not exist', portalId: sb.portalId })]);
      expect(body.errors).toEqual([expect.objectContaining({ code: 'PROPERTY_DOESNT_EXIST', context: { propertyName: ['colour'] } })]);
    },
  },
  {
    name: 'a value that is not one of the options (INVALID_OPTION)', status: 400, category: 'VALIDATION_ERROR',
    run: () => hs.crm.deals.basicApi.create(props({ dealname: 'X', dealstage: 'negotiating' })),
    check: (body) => expect(issues(body)[0]).toMatchObject({ error: 'INVALID_OPTION', name: 'dealstage', message: expect.stringMatching(/^negotiating was not one of the allowed options: \[appointmentscheduled, /) }),
  },
  {
    name: 'a number that is not a number, an email that is not an email', status: 400, category: 'VALIDATION_ERROR',
    run: () => hs.crm.contacts.basicApi.create(props({ email: 'not-an-email', associatedcompanyid: 'abc' })),
    check: (body) => expect(issues(body).map((i: { error: string }) => i.error).sort()).toEqual(['INVALID_DECIMAL', 'INVALID_EMAIL']),
  },
  {
    name: 'a read-only property (READ_ONLY_VALUE)', status: 400, category: 'VALIDATION_ERROR',
    run: () => hs.crm.companies.basicApi.update(ids.company, { properties: { createdate: '2020-01-01T00:00:00Z' } }),
    check: (body) => expect(issues(body)[0]).toMatchObject({ error: 'READ_ONLY_VALUE', name: 'createdate' }),
  },
  {
    name: 'an association to a record that does not exist', status: 400, category: 'VALIDATION_ERROR',
    run: () => hs.crm.contacts.basicApi.create({ properties: { email: 'x@example.com' }, associations: [{ to: { id: '77' }, types: [{ associationCategory: 'HUBSPOT_DEFINED' as never, associationTypeId: 279 }] }] }),
    check: (body) => expect(body.errors).toEqual([expect.objectContaining({ in: 'associations[0].to.id', code: 'INVALID_TO_OBJECT_ID' })]),
  },
  {
    name: 'a record that does not exist (OBJECT_NOT_FOUND)', status: 404, category: 'OBJECT_NOT_FOUND',
    run: () => hs.crm.companies.basicApi.getById('123'),
  },
  {
    name: 'a lookup by a property that is not unique', status: 400, category: 'VALIDATION_ERROR',
    run: () => hs.crm.contacts.basicApi.getById('ada@example.com', undefined, undefined, undefined, false, 'firstname'),
    check: (body) => expect(body.errors[0]).toMatchObject({ in: 'idProperty' }),
  },
  {
    name: 'more than 100 inputs in a batch', status: 400, category: 'VALIDATION_ERROR',
    run: () => hs.crm.companies.batchApi.create({ inputs: Array.from({ length: 101 }, (_, i) => props({ name: `C${i}` })) }),
    check: (body) => {
      expect(body.message).toBe('The maximum number of inputs supported in a batch request is 100. Please reduce the number of items and try again');
      expect(body.context).toEqual({ maxSize: ['100'] });
    },
  },
  {
    name: 'more than 50 records in a batch read with property history', status: 400, category: 'VALIDATION_ERROR',
    run: () => hs.crm.companies.batchApi.read({ inputs: Array.from({ length: 51 }, (_, i) => ({ id: String(i) })), properties: [], propertiesWithHistory: ['name'] }),
    check: (body) => expect(body.message).toMatch(/batch request for property histories is 50/),
  },
  {
    name: 'one record twice in a batch update', status: 400, category: 'VALIDATION_ERROR',
    run: () => hs.crm.companies.batchApi.update({ inputs: [{ id: ids.company, properties: {} }, { id: ids.company, properties: {} }] }),
    check: (body) => expect(body.message).toBe(`Duplicate IDs found in batch input: [${ids.company}]. IDs must be unique`),
  },
  {
    name: 'an upsert by a property that is not unique', status: 400, category: 'VALIDATION_ERROR',
    run: () => hs.crm.contacts.batchApi.upsert({ inputs: [{ idProperty: 'firstname', id: 'Ada', properties: {} }] }),
  },
  {
    name: 'an association type that does not join the two objects', status: 400, category: 'VALIDATION_ERROR',
    run: () => hs.crm.associations.v4.basicApi.create('deals', ids.deal, 'companies', ids.company, [{ associationCategory: 'HUBSPOT_DEFINED' as never, associationTypeId: 279 }]),
  },
  {
    name: 'a merge of a record into itself', status: 400, category: 'VALIDATION_ERROR',
    run: () => hs.crm.companies.basicApi.merge({ primaryObjectId: ids.company, objectIdToMerge: ids.company }),
  },
  { name: 'a search with 6 filter groups (at most 5)', status: 400, category: 'VALIDATION_ERROR', run: () => search({ filterGroups: Array.from({ length: 6 }, () => ({ filters: [filter('amount', 'HAS_PROPERTY')] })) }), check: (body) => expect(body.errors[0].in).toBe('filterGroups') },
  { name: 'a search with 7 filters in a group (at most 6)', status: 400, category: 'VALIDATION_ERROR', run: () => search({ filterGroups: [{ filters: Array.from({ length: 7 }, () => filter('amount', 'HAS_PROPERTY')) }] }) },
  { name: 'a search with 20 filters in all (at most 18)', status: 400, category: 'VALIDATION_ERROR', run: () => search({ filterGroups: Array.from({ length: 5 }, () => ({ filters: Array.from({ length: 4 }, () => filter('amount', 'HAS_PROPERTY')) })) }) },
  { name: 'a search page of 201 (at most 200)', status: 400, category: 'VALIDATION_ERROR', run: () => search({ limit: 201 }), check: (body) => expect(body.errors[0].in).toBe('limit') },
  { name: 'a search past its 10,000th result', status: 400, category: 'VALIDATION_ERROR', run: () => search({ after: '10000' }) },
  { name: 'a search on a property that does not exist', status: 400, category: 'VALIDATION_ERROR', run: () => search({ filterGroups: [{ filters: [filter('colour', 'EQ', { value: 'red' })] }] }), check: (body) => expect(body.errors[0].in).toBe('filterGroups[0].filters[0].propertyName') },
  { name: 'a BETWEEN filter without highValue', status: 400, category: 'VALIDATION_ERROR', run: () => search({ filterGroups: [{ filters: [filter('amount', 'BETWEEN', { value: '1' })] }] }), check: (body) => expect(body.message).toMatch(/operator BETWEEN requires a highValue/) },
  {
    name: 'a token HubSpot does not know', status: 401, category: 'INVALID_AUTHENTICATION',
    run: () => new Client({ accessToken: 'pat-na1-unknown', basePath: sb.url, numberOfApiCallRetries: 0, middleware: [recorder] }).crm.companies.basicApi.getPage(),
  },
];

async function walk(operation: Operation): Promise<void> {
  const before = exchanges.length;
  const result = await operation.run(hs);
  // The operation's own call is the last one its run made (some first make a record to work on).
  expect(exchanges.length, `${operation.op} made no call`).toBeGreaterThan(before);
  const exchange = exchanges[exchanges.length - 1];
  expect(Object.keys(operation.shapes).map(Number), `${operation.op} answered ${exchange.status}`).toContain(exchange.status);
  const shape = operation.shapes[exchange.status];
  if (shape === null) expect(exchange.body).toBeUndefined();
  else shape!.parse(exchange.body);
  await operation.check?.(result, exchange);
}

async function refuse(refusal: Refusal): Promise<void> {
  const error = await refusal.run(hs).then(() => undefined, (e: unknown) => e);
  expect(error, `${refusal.name} was accepted`).toMatchObject({ code: refusal.status });
  const exchange = exchanges[exchanges.length - 1];
  expect(exchange.status).toBe(refusal.status);
  const body = ErrorBody.parse(exchange.body);
  expect(body.category).toBe(refusal.category);
  refusal.check?.(exchange.body);
}

describe('HubSpot sandbox conforms to the published CRM specs (through @hubspot/api-client)', () => {
  for (const name of Object.keys(OBJECTS) as ObjectName[]) {
    describe(`${name} v3`, () => {
      for (const operation of objectOperations(name)) it(operation.op, () => walk(operation));
    });
  }
  describe('associations v4 and labels', () => {
    for (const operation of V4) it(operation.op, () => walk(operation));
  });
  describe('properties v3', () => {
    for (const operation of PROPERTIES) it(operation.op, () => walk(operation));
  });
  describe('refuses as HubSpot refuses', () => {
    for (const refusal of REFUSALS) it(refusal.name, () => refuse(refusal));

    it('a batch with one bad input: 207, the others written, the bad one named with its property', () => walk({
      op: 'POST /crm/v3/objects/companies/batch/create', shapes: { 207: batchWithErrors(SimplePublicObject) },
      run: () => hs.crm.companies.batchApi.create({ inputs: [props({ name: 'Good' }), { ...props({ name: 'Bad', industry: 'Mining' }), objectWriteTraceId: 'row-2' }] }),
      check: (_res, ex) => {
        const body = ex.body as any;
        expect(body.results.map((r: any) => r.properties.name)).toEqual(['Good']);
        expect(body.errors).toEqual([expect.objectContaining({
          category: 'VALIDATION_ERROR', context: { objectWriteTraceId: ['row-2'] },
          errors: [expect.objectContaining({ code: 'INVALID_OPTION', context: { propertyName: ['industry'] } })],
        })]);
      },
    }));
  });

  it('serves every operation of the specs but the ones listed as not served', () => {
    const walked = new Set([...(Object.keys(OBJECTS) as ObjectName[]).flatMap((n) => objectOperations(n)), ...V4].map((o) => o.op));
    // The operations of CRM Companies/Contacts/Deals v3, Associations v4 and the labels of Associations Schema v4.
    const specified = [
      ...['companies', 'contacts', '0-3'].flatMap((t) => [
        `GET /crm/v3/objects/${t}`, `POST /crm/v3/objects/${t}`, `GET /crm/v3/objects/${t}/{id}`, `PATCH /crm/v3/objects/${t}/{id}`, `DELETE /crm/v3/objects/${t}/{id}`,
        `POST /crm/v3/objects/${t}/batch/archive`, `POST /crm/v3/objects/${t}/batch/create`, `POST /crm/v3/objects/${t}/batch/read`,
        `POST /crm/v3/objects/${t}/batch/update`, `POST /crm/v3/objects/${t}/batch/upsert`, `POST /crm/v3/objects/${t}/merge`, `POST /crm/v3/objects/${t}/search`,
      ]),
      'POST /crm/v3/objects/contacts/gdpr-delete',
      'POST /crm/v4/associations/{fromObjectType}/{toObjectType}/batch/archive',
      'POST /crm/v4/associations/{fromObjectType}/{toObjectType}/batch/associate/default',
      'POST /crm/v4/associations/{fromObjectType}/{toObjectType}/batch/create',
      'POST /crm/v4/associations/{fromObjectType}/{toObjectType}/batch/labels/archive',
      'POST /crm/v4/associations/{fromObjectType}/{toObjectType}/batch/read',
      'PUT /crm/v4/objects/{fromObjectType}/{fromObjectId}/associations/default/{toObjectType}/{toObjectId}',
      'GET /crm/v4/objects/{objectType}/{objectId}/associations/{toObjectType}',
      'PUT /crm/v4/objects/{objectType}/{objectId}/associations/{toObjectType}/{toObjectId}',
      'DELETE /crm/v4/objects/{objectType}/{objectId}/associations/{toObjectType}/{toObjectId}',
      'GET /crm/associations/v4/{fromObjectType}/{toObjectType}/labels',
      'POST /crm/associations/v4/{fromObjectType}/{toObjectType}/labels',
      'PUT /crm/associations/v4/{fromObjectType}/{toObjectType}/labels',
      'DELETE /crm/associations/v4/{fromObjectType}/{toObjectType}/labels/{associationTypeId}',
    ];
    expect(specified.filter((op) => !walked.has(op))).toEqual([]);
    expect(NOT_SERVED).toHaveLength(2);
  });
});
