// A job's model reference as a Hub id: `org/name` or `org/name@revision`. Its own module so the editor can
// validate an entered id without loading the Hub client.

export interface HubRef {
  repoId: string;
  /** Branch, tag or commit hash; 'main' when the reference names none. */
  revision: string;
}

const HUB_REF = /^([A-Za-z0-9][\w.-]*\/[A-Za-z0-9][\w.-]*)(?:@([\w.][\w./-]*))?$/;

/** `org/name` or `org/name@revision` → its parts; undefined for anything else (a path, a bare name). */
export function parseHubRef(ref: string): HubRef | undefined {
  const match = HUB_REF.exec(ref);
  if (!match || match[1]!.includes('..') || match[2]?.includes('..')) return undefined;
  return { repoId: match[1]!, revision: match[2] ?? 'main' };
}
