export interface PageRequest<S> {
  /** Only items in this status (all statuses when absent). */
  status?: S;
  /** Page size, 1..100. */
  limit: number;
  /** `nextCursor` of the previous page. */
  cursor?: string;
}
