// Writes poems from the chinese-poetry npm package as plain text: one poem per paragraph (its lines, without title
// or author), paragraphs separated by a blank line, converted to simplified characters with opencc-js (OpenCC's
// traditional -> mainland simplified tables) so that the whole corpus is in one script.
//
// usage: node extract_poems.mjs OPENCC_DIR OUT.txt FILE.json...   (files are read in the order given)
import { readFileSync, writeFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { join } from 'node:path';

const [openccDir, out, ...files] = process.argv.slice(2);
if (!out || files.length === 0) {
  console.error('usage: node extract_poems.mjs OPENCC_DIR OUT.txt FILE.json...');
  process.exit(2);
}
const OpenCC = await import(pathToFileURL(join(openccDir, 'dist/esm/full.js')).href);
const toSimplified = OpenCC.Converter({ from: 't', to: 'cn' });
const poems = [];
for (const f of files) {
  for (const p of JSON.parse(readFileSync(f, 'utf8'))) {
    const lines = (p.paragraphs || []).map(l => l.trim()).filter(l => l.length > 0);
    if (lines.length > 0) poems.push(toSimplified(lines.join('\n')));
  }
}
writeFileSync(out, poems.join('\n\n') + '\n\n');
console.error(`extract_poems: ${poems.length} poems from ${files.length} files -> ${out}`);
