/**
 * Authorization decisions from auth-service's Authorize, cached briefly per
 * subject|action|resource|jti (the TTL is auth-service's to choose; jti in the key so a new
 * token after logout is never served an old decision). Unreachable auth-service fails closed.
 */
import { TtlLru } from './lru';

export interface AuthorizeQuery {
  readonly subject: string;
  readonly action: string;
  readonly resource: string;
  readonly tokenId: string;
}

export interface Decision {
  readonly allowed: boolean;
  readonly reason: string;
  readonly roles: readonly string[];
  readonly ttlSeconds: number;
}

/** Deadline and request id of the HTTP request the decision is made for. */
export interface DecisionCallContext {
  readonly deadline: Date;
  readonly requestId: string;
}

export type AuthorizeCall = (query: AuthorizeQuery, call: DecisionCallContext) => Promise<Decision>;

export interface DecisionCacheOptions {
  readonly call: AuthorizeCall;
  readonly maxEntries: number;
  /** Upper bound on the TTL whatever auth-service says: a revoked role takes effect within it. */
  readonly maxTtlSeconds: number;
  readonly onLookup?: (result: 'hit' | 'miss') => void;
  readonly now?: () => number;
}

export class DecisionCache {
  private readonly cache: TtlLru<Decision>;

  constructor(private readonly options: DecisionCacheOptions) {
    this.cache = new TtlLru(options.maxEntries, options.now);
  }

  async decide(query: AuthorizeQuery, call: DecisionCallContext): Promise<Decision> {
    const key = cacheKey(query);
    const cached = this.cache.get(key);
    if (cached) {
      this.options.onLookup?.('hit');
      return cached;
    }
    this.options.onLookup?.('miss');
    const decision = await this.options.call(query, call);
    const ttl = Math.min(Math.max(decision.ttlSeconds, 0), this.options.maxTtlSeconds);
    this.cache.set(key, decision, ttl * 1000);
    return decision;
  }

  /** Drops every decision made for a token (called when that token logs out on this replica). */
  forgetToken(tokenId: string): void {
    const suffix = `|${escape(tokenId)}`;
    this.cache.deleteWhere((key) => key.endsWith(suffix));
  }

  get size(): number {
    return this.cache.size;
  }
}

// '|' separates the parts; escaping it keeps "a|b" + "c" distinct from "a" + "b|c".
function escape(part: string): string {
  return part.replace(/%/g, '%25').replace(/\|/g, '%7C');
}

function cacheKey(q: AuthorizeQuery): string {
  return [q.subject, q.action, q.resource, q.tokenId].map(escape).join('|');
}
