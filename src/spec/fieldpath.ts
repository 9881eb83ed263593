// Field paths as tsrun prints them: `linux.namespaces[2].type`.

/** JSON Pointer (as ajv reports instancePath) to a field path, below `base` if given. */
export function fromPointer(pointer: string, base = ''): string {
  if (!pointer) return base;
  return pointer
    .slice(1)
    .split('/')
    .map((seg) => seg.replace(/~1/g, '/').replace(/~0/g, '~'))
    .reduce((acc, seg) => join(acc, /^\d+$/.test(seg) ? Number(seg) : seg), base);
}

/** Appends a key or index to a field path. */
export function join(base: string, key: string | number): string {
  if (typeof key === 'number') return `${base}[${key}]`;
  if (/^[A-Za-z_$][\w$]*$/.test(key)) return base ? `${base}.${key}` : key;
  return `${base}[${JSON.stringify(key)}]`;
}
