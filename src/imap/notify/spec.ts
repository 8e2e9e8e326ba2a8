// NOTIFY's arguments (RFC 5465 §3, §8 grammar) as typed data: which folders
// (filters) hear which events. Parsing only; notify/watch.ts acts on it.
import { BadError, NoError } from '../../wire/errors.js';
import type { Token } from '../../wire/parser.js';
import { parseFetchItems } from '../fetch/items.js';

export type FilterKind = 'selected' | 'selected-delayed' | 'inboxes' | 'personal' | 'subscribed' | 'subtree' | 'mailboxes';

export interface NotifyEvents {
  messageNew: boolean;
  /** MessageNew's fetch-att list (SELECTED filters only), as the client sent it. */
  fetchAtts: Token[] | null;
  messageExpunge: boolean;
  flagChange: boolean;
  mailboxName: boolean;
  subscriptionChange: boolean;
}

export interface NotifyGroup {
  filter: FilterKind;
  /** Mailbox names for subtree and mailboxes (the client's spelling, converted by the caller). */
  names: string[];
  events: NotifyEvents;
}

export interface NotifySpec {
  /** SET STATUS: a STATUS line now for every folder watched for message events (§3). */
  status: boolean;
  groups: NotifyGroup[];
}

/** The events this server sends: listed in BADEVENT when a client asks for another (§3.1, §8). */
export const SUPPORTED_EVENTS = ['MessageNew', 'MessageExpunge', 'FlagChange', 'MailboxName', 'SubscriptionChange'];

/** A client-controlled count: event groups, and names in one filter. */
const MAX_GROUPS = 32;
const MAX_NAMES = 256;

const FILTERS = new Set<string>(['selected', 'selected-delayed', 'inboxes', 'personal', 'subscribed', 'subtree', 'mailboxes']);

function atomOf(t: Token | undefined, what: string): string {
  if (!t || t.type !== 'atom') throw new BadError(`NOTIFY: expected ${what}`);
  return t.value;
}

function nameOf(t: Token): string {
  if (t.type === 'list') throw new BadError('NOTIFY: expected a mailbox name');
  return t.type === 'atom' ? t.value : t.value.toString('utf8');
}

/** NOTIFY SET's arguments after SET; `decodeName` turns a client name into the store's. */
export function parseNotifySet(args: Token[], decodeName: (name: string) => string): NotifySpec {
  let i = 0;
  let status = false;
  if (args[0]?.type === 'atom' && args[0].value.toUpperCase() === 'STATUS') {
    status = true;
    i = 1;
  }
  const groups: NotifyGroup[] = [];
  const unsupported: string[] = [];
  if (i >= args.length) throw new BadError('NOTIFY: missing event groups');
  if (args.length - i > MAX_GROUPS) throw new BadError(`NOTIFY: more than ${MAX_GROUPS} event groups`);
  for (; i < args.length; i++) {
    const g = args[i];
    if (g.type !== 'list') throw new BadError('NOTIFY: expected a parenthesised event group');
    groups.push(parseGroup(g.items, decodeName, unsupported));
  }
  const selected = groups.filter((g) => g.filter === 'selected' || g.filter === 'selected-delayed');
  if (selected.length > 1) throw new BadError('NOTIFY: SELECTED and SELECTED-DELAYED given more than once');
  // §3.1: an event the server does not support is NO with BADEVENT, once the syntax is known good.
  if (unsupported.length) throw new NoError(`Unsupported NOTIFY events: ${unsupported.join(' ')}`, `BADEVENT (${SUPPORTED_EVENTS.join(' ')})`);
  return { status, groups };
}

function parseGroup(items: Token[], decodeName: (name: string) => string, unsupported: string[]): NotifyGroup {
  let k = 0;
  const filter = atomOf(items[k++], 'a mailbox filter').toLowerCase();
  if (!FILTERS.has(filter)) throw new BadError(`NOTIFY: unknown mailbox filter ${filter.slice(0, 32)}`);
  const names: string[] = [];
  if (filter === 'subtree' || filter === 'mailboxes') {
    const t = items[k++];
    if (!t) throw new BadError(`NOTIFY: ${filter} needs mailbox names`);
    const list = t.type === 'list' ? t.items : [t];
    if (!list.length) throw new BadError(`NOTIFY: ${filter} needs mailbox names`);
    if (list.length > MAX_NAMES) throw new BadError(`NOTIFY: more than ${MAX_NAMES} mailboxes in one filter`);
    for (const n of list) names.push(decodeName(nameOf(n)));
  }
  const ev = items[k++];
  if (!ev) throw new BadError('NOTIFY: missing events');
  if (k !== items.length) throw new BadError('NOTIFY: unexpected extra arguments in an event group');
  const selected = filter === 'selected' || filter === 'selected-delayed';
  const events = parseEvents(ev, selected, unsupported);
  // §6.1: SELECTED and SELECTED-DELAYED take message events only.
  if (selected && (events.mailboxName || events.subscriptionChange)) throw new BadError(`NOTIFY: ${filter} takes message events only`);
  return { filter: filter as FilterKind, names, events };
}

function parseEvents(t: Token, selected: boolean, unsupported: string[]): NotifyEvents {
  const events: NotifyEvents = { messageNew: false, fetchAtts: null, messageExpunge: false, flagChange: false, mailboxName: false, subscriptionChange: false };
  if (t.type === 'atom' && t.value.toUpperCase() === 'NONE') return events;
  if (t.type !== 'list' || !t.items.length) throw new BadError('NOTIFY: expected a parenthesised event list or NONE');
  const list = t.items;
  for (let j = 0; j < list.length; j++) {
    const name = atomOf(list[j], 'an event name');
    switch (name.toLowerCase()) {
      case 'messagenew': {
        events.messageNew = true;
        const next = list[j + 1];
        if (next?.type === 'list') {
          // §5.1: a fetch-att list only makes sense where FETCH does: the selected mailbox.
          if (!selected) throw new BadError('NOTIFY: a MessageNew fetch list is only for SELECTED');
          checkFetchAtts(next);
          events.fetchAtts = next.items;
          j++;
        }
        break;
      }
      case 'messageexpunge':
        events.messageExpunge = true;
        break;
      case 'flagchange':
        events.flagChange = true;
        break;
      case 'mailboxname':
        events.mailboxName = true;
        break;
      case 'subscriptionchange':
        events.subscriptionChange = true;
        break;
      default:
        // AnnotationChange, MailboxMetadataChange, ServerMetadataChange and any event-ext: not sent here.
        if (!/^[A-Za-z][A-Za-z0-9.-]*$/.test(name)) throw new BadError('NOTIFY: invalid event name');
        if (unsupported.length < 8) unsupported.push(name.slice(0, 64));
    }
  }
  // §5: MessageNew and MessageExpunge come together; FlagChange needs both.
  if (events.messageNew !== events.messageExpunge) throw new BadError('NOTIFY: MessageNew and MessageExpunge must be given together');
  if (events.flagChange && !events.messageNew) throw new BadError('NOTIFY: FlagChange requires MessageNew and MessageExpunge');
  return events;
}

/** The fetch-att list must be what FETCH accepts, and must not set \Seen (nobody asked to read the message). */
function checkFetchAtts(list: Token): void {
  if (list.type !== 'list' || !list.items.length) throw new BadError('NOTIFY: empty MessageNew fetch list');
  const items = parseFetchItems(list);
  if (items.some((it) => (it.kind === 'section' || it.kind === 'binary') && !it.peek)) throw new BadError('NOTIFY: a MessageNew fetch list must use BODY.PEEK / BINARY.PEEK');
}
