import type { CoSellStatus } from '../model/index.js';

/**
 * The clouds' review words mapped onto ecosync's canonical co-sell status. Pure and free of
 * runtime imports: the workflow and the activities share it.
 */

/** AWS Partner Central LifeCycle.ReviewStatus → canonical status. */
export function awsReviewStatus(reviewStatus: string | undefined): CoSellStatus {
  switch (reviewStatus) {
    case 'Submitted':
    // ecosync creates an opportunity only to submit it: until AWS has it, it counts as submitted.
    case 'Pending Submission':
    case undefined:
      return 'submitted';
    case 'In review': return 'in_review';
    case 'Approved': return 'approved';
    case 'Rejected': return 'rejected';
    case 'Action Required': return 'action_required';
    default: return 'in_review';
  }
}

/** Microsoft referral status/substatus → canonical status. */
export function microsoftReferralStatus(status: string | undefined, substatus: string | undefined): CoSellStatus {
  if (status === 'Active') return 'approved';
  if (status === 'Closed') return substatus === 'Declined' ? 'rejected' : 'closed';
  // New/Pending: Microsoft's sellers are deciding.
  return status === 'New' && substatus === 'Pending' ? 'in_review' : 'submitted';
}
