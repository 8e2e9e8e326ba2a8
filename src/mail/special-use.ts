// RFC 6154 special-use folders: which folder plays which role. One place for
// the defaults (the names Dovecot's stock 15-mailboxes.conf uses); the config
// can hand MailStore another map.

export type SpecialUse = '\\Drafts' | '\\Sent' | '\\Trash' | '\\Junk' | '\\Archive';

/** Role → folder name (modified UTF-7, as on the wire). */
export type SpecialUseMap = Readonly<Record<SpecialUse, string>>;

export const DEFAULT_SPECIAL_USE: SpecialUseMap = Object.freeze({
  '\\Drafts': 'Drafts',
  '\\Sent': 'Sent',
  '\\Trash': 'Trash',
  '\\Junk': 'Junk',
  '\\Archive': 'Archive',
});

/** The special-use attributes of a folder name under `map`. */
export function specialUseOf(map: SpecialUseMap, name: string): SpecialUse[] {
  return (Object.keys(map) as SpecialUse[]).filter((k) => map[k] === name);
}
