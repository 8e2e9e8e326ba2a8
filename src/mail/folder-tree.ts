// The folder list a user sees, from the names of the folders that exist: INBOX
// first, then every folder and every virtual parent of a nested one (a
// \Noselect name with children only), with its children flag and special use.
// Pure: any store that knows its folder names shares these rules.
import type { FolderInfo } from './handles.js';
import { specialUseOf, type SpecialUseMap } from './special-use.js';

/** The hierarchy separator: Maildir++ folder ".A.B" is the IMAP name "A.B". */
export const HIERARCHY_SEPARATOR = '.';

export function folderTree(real: Iterable<string>, specialUse: SpecialUseMap): FolderInfo[] {
  const all = new Set([...real].filter((n) => n !== 'INBOX'));
  const virtual = new Set<string>();
  for (const n of all) {
    const parts = n.split(HIERARCHY_SEPARATOR);
    for (let i = 1; i < parts.length; i++) {
      const parent = parts.slice(0, i).join(HIERARCHY_SEPARATOR);
      if (!all.has(parent) && parent !== 'INBOX') virtual.add(parent);
    }
  }
  for (const v of virtual) all.add(v);
  const sorted = [...all].sort();
  const info = (name: string): FolderInfo => ({
    name,
    hasChildren: sorted.some((n) => n.startsWith(name + HIERARCHY_SEPARATOR)),
    noselect: virtual.has(name),
    specialUse: specialUseOf(specialUse, name),
  });
  return [info('INBOX'), ...sorted.map(info)];
}
