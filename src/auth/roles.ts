/**
 * Who may do what (issue 18). Four roles; every API operation declares the access it needs next
 * to its definition (`apiRoute` in src/http/openapi.ts), and one check enforces it.
 *
 * - `admin`: everything, including users, tokens and settings of the daemon itself.
 * - `operator`: orders, stock, channels' operations.
 * - `finance`: customers, prices, credit approvals, invoices, statements, jobs.
 * - `viewer`: reads only.
 */
export const ROLES = ['admin', 'operator', 'finance', 'viewer'] as const;
export type Role = (typeof ROLES)[number];

/**
 * What an operation needs:
 * - `public`: no credential at all (health probes, a channel's webhook, a customer's status page);
 * - `read`: any role;
 * - `operate`: operator or admin; `finance`: finance or admin; `operate_finance`: either of them or admin;
 * - `admin`: admin only.
 */
export const ACCESS = ['public', 'read', 'operate', 'finance', 'operate_finance', 'admin'] as const;
export type Access = (typeof ACCESS)[number];

const ALLOWED: Record<Access, readonly Role[]> = {
  public: ROLES,
  read: ROLES,
  operate: ['admin', 'operator'],
  finance: ['admin', 'finance'],
  operate_finance: ['admin', 'operator', 'finance'],
  admin: ['admin'],
};

/** The roles that may use an operation of this access. */
export const rolesFor = (access: Access): readonly Role[] => ALLOWED[access];

export const allows = (role: Role, access: Access): boolean => ALLOWED[access].includes(role);

/** The rank used when a user gives a token a role: a user may not hand out more than they have. */
export function roleCovers(holder: Role, wanted: Role): boolean {
  if (holder === 'admin') return true;
  return holder === wanted || wanted === 'viewer';
}

/**
 * Who is calling. `bootstrap`: the `STOCKBRIDGE_ADMIN_TOKEN`; `token`: an API token (of a user or
 * a service); `session`: a user logged in through the browser (cookie).
 */
export interface Principal {
  kind: 'bootstrap' | 'token' | 'session';
  role: Role;
  /** The user behind a session or a user's token; null for the bootstrap token and service tokens. */
  userId: number | null;
  /** The API token used, if any. */
  tokenId: number | null;
  /**
   * How the caller is named in order history, approvals and the audit log: `admin` for the
   * bootstrap token, the user's e-mail address, or `token:<name>` for a service token.
   */
  actor: string;
  /** The user's language for pages (`zh-CN` or `en`), when known. */
  locale?: 'zh-CN' | 'en';
}

/** The principal of the bootstrap admin token. */
export const BOOTSTRAP_ADMIN: Principal = Object.freeze({
  kind: 'bootstrap',
  role: 'admin',
  userId: null,
  tokenId: null,
  actor: 'admin',
});
