import { z } from 'zod';
import { CanonicalId, CurrencyCode, DecimalString, IsoDate } from './common.js';

/**
 * What the ERP keeps about selling: sales orders and invoices. The ERP is their system of record;
 * private offers turn accepted agreements into sales orders, and committed-spend drawdown reads
 * invoices. Amounts are decimal strings, never floats.
 */

/** One line of an order or invoice: what was sold, how many, at what unit price. */
export const TransactionLine = z.object({
  /** The ERP's item (its id or name). */
  item: z.string().min(1),
  description: z.string().optional(),
  quantity: DecimalString,
  /** Unit price, in the transaction's currency. */
  rate: DecimalString.optional(),
  /** quantity × rate, as the ERP computed it. */
  amount: DecimalString,
}).strict();
export type TransactionLine = z.infer<typeof TransactionLine>;

export const SalesOrderStatus = z.enum(['pending_approval', 'pending_fulfillment', 'partially_fulfilled', 'pending_billing', 'billed', 'closed', 'cancelled']);
export type SalesOrderStatus = z.infer<typeof SalesOrderStatus>;

export const SalesOrder = z.object({
  id: CanonicalId,
  /** The ERP's document number (SO-1042). */
  number: z.string().optional(),
  /** The customer. */
  accountId: CanonicalId,
  orderDate: IsoDate,
  status: SalesOrderStatus,
  currency: CurrencyCode,
  total: DecimalString,
  lines: z.array(TransactionLine).optional(),
  memo: z.string().optional(),
  /** The marketplace agreement the order was made for, when it came from one. */
  agreementId: z.string().optional(),
}).strict();
export type SalesOrder = z.infer<typeof SalesOrder>;

export const InvoiceStatus = z.enum(['open', 'paid', 'voided']);
export type InvoiceStatus = z.infer<typeof InvoiceStatus>;

export const Invoice = z.object({
  id: CanonicalId,
  number: z.string().optional(),
  accountId: CanonicalId,
  /** The order it bills, when there is one. */
  salesOrderId: CanonicalId.optional(),
  invoiceDate: IsoDate,
  dueDate: IsoDate.optional(),
  status: InvoiceStatus,
  currency: CurrencyCode,
  /** Before tax, as drawdown rules count it (Azure MACC counts pre-tax). */
  subtotal: DecimalString.optional(),
  taxTotal: DecimalString.optional(),
  total: DecimalString,
  /** What is still to be paid. */
  amountDue: DecimalString.optional(),
  lines: z.array(TransactionLine).optional(),
  memo: z.string().optional(),
}).strict();
export type Invoice = z.infer<typeof Invoice>;

/** An account's standing in the ERP: the fields finance owns. Amounts are in the account's currency. */
export const AccountFinance = {
  /** The customer's billing currency. */
  currency: CurrencyCode.optional(),
  /** Payment terms as the ERP names them ("Net 30"). */
  paymentTerms: z.string().optional(),
  creditLimit: DecimalString.optional(),
  /** Open receivables (read-only in the ERP). */
  balance: DecimalString.optional(),
};
