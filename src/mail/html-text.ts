// The text of an HTML part for SEARCH, worked out as a stream so a huge part
// never sits in memory: scripts, styles and comments become a space, block
// tags (p, div, br, tr, li, h1-h6, table, blockquote) a line break, other tags
// nothing; entities are decoded in the text that is left. Each `<` takes the
// text up to the next `>`, as the regular expressions this replaced did. A tag,
// comment or script that is still open after TAG_CAP characters is given up on
// (a tag: its `<` is text; a comment or script: dropped to its end), which is
// the only place a stream could otherwise have to hold a whole part.

const TAG_CAP = 256 * 1024;
const BLOCK = new Set(['p', 'div', 'br', 'tr', 'li', 'h1', 'h2', 'h3', 'h4', 'h5', 'h6', 'table', 'blockquote']);
const WORD = /[A-Za-z0-9_]/;

export class HtmlText {
  private pending = '';
  /** Inside a script/style or comment given up on (TAG_CAP): the text that ends it. */
  private dropUntil: RegExp | null = null;
  private readonly entities = new EntityText();

  write(s: string): string {
    this.pending += s;
    return this.entities.write(this.run(false));
  }

  end(): string {
    return this.entities.write(this.run(true)) + this.entities.end();
  }

  private run(eof: boolean): string {
    const s = this.pending;
    let out = '';
    let p = 0;
    while (p < s.length) {
      if (this.dropUntil) {
        this.dropUntil.lastIndex = p;
        const m = this.dropUntil.exec(s);
        if (!m) {
          p = Math.max(p, s.length - 64); // the end marker may straddle the next piece
          break;
        }
        out += ' ';
        p = m.index + m[0].length;
        this.dropUntil = null;
        continue;
      }
      const lt = s.indexOf('<', p);
      if (lt < 0) {
        out += s.slice(p);
        p = s.length;
        break;
      }
      out += s.slice(p, lt);
      p = lt;
      const r = this.tag(s, lt, eof);
      if (r === null) break; // need more text
      out += r.text;
      p = r.next;
    }
    this.pending = s.slice(p);
    return out;
  }

  /** The `<` at `lt`: what it becomes and where scanning goes on; null to wait for more text. */
  private tag(s: string, lt: number, eof: boolean): { text: string; next: number } | null {
    const open = s.length - lt < TAG_CAP || eof; // false: given up on
    if (s.startsWith('<!--', lt) || (!eof && '<!--'.startsWith(s.slice(lt, lt + 4)))) {
      if (s.length - lt < 4) return null;
      const close = s.indexOf('-->', lt + 4);
      if (close >= 0) return { text: ' ', next: close + 3 };
      if (!open) {
        this.dropUntil = /-->/g;
        return { text: '', next: lt + 4 };
      }
      if (!eof) return null;
      // an unclosed comment is an ordinary tag
    }
    const gt = s.indexOf('>', lt);
    if (gt < 0) {
      if (open && !eof) return null;
      return { text: s.slice(lt), next: s.length }; // no `>` (within TAG_CAP): text
    }
    const slash = s[lt + 1] === '/' ? 1 : 0;
    let e = lt + 1 + slash;
    while (e < gt && WORD.test(s[e])) e++;
    const name = s.slice(lt + 1 + slash, e).toLowerCase();
    if (!slash && (name === 'script' || name === 'style')) {
      const end = new RegExp(`</${name}\\s*>`, 'gi');
      end.lastIndex = gt + 1;
      const m = end.exec(s);
      if (m) return { text: ' ', next: m.index + m[0].length };
      if (!open) {
        this.dropUntil = end;
        return { text: '', next: gt + 1 };
      }
      if (!eof) return null;
      // never closed: only the tag goes, its content is text
    }
    return { text: BLOCK.has(name) ? '\n' : '', next: gt + 1 };
  }
}

const ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'", nbsp: '\u00a0' };
const ENTITY = /&(#x[0-9a-f]+|#\d+|[a-z]+);/gi;
/** What may still become an entity when more text comes. */
const ENTITY_START = /&(#x[0-9a-f]*|#\d*|[a-z]*)$/i;
const ENTITY_CAP = 40;

/** Entity decoding over a stream of text: a `&…` at the end of a piece waits for the next one. */
class EntityText {
  private carry = '';

  write(s: string): string {
    s = this.carry + s;
    this.carry = '';
    const amp = s.lastIndexOf('&');
    if (amp >= 0 && s.length - amp < ENTITY_CAP && ENTITY_START.test(s.slice(amp))) {
      this.carry = s.slice(amp);
      s = s.slice(0, amp);
    }
    return decodeEntities(s);
  }

  end(): string {
    const s = decodeEntities(this.carry);
    this.carry = '';
    return s;
  }
}

function decodeEntities(s: string): string {
  if (!s.includes('&')) return s;
  return s.replace(ENTITY, (m, e: string) => {
    if (e[0] === '#') {
      const cp = e[1] === 'x' || e[1] === 'X' ? parseInt(e.slice(2), 16) : parseInt(e.slice(1), 10);
      return cp > 0 && cp <= 0x10ffff ? String.fromCodePoint(cp) : m;
    }
    const name = e.toLowerCase();
    return Object.hasOwn(ENTITIES, name) ? ENTITIES[name] : m; // `&constructor;` is no entity
  });
}

/** The text of a whole HTML part (the same rules as the stream, by construction). */
export function htmlToText(html: string): string {
  const h = new HtmlText();
  return h.write(html) + h.end();
}
