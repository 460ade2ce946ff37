#!/usr/bin/env node
// The text package.json shows to people (titles, descriptions, labels, enum descriptions, ...) lives
// in package.nls.json; package.json refers to it as "%key%", which VS Code (and vsce) resolve.
//
//   node scripts/manifestStrings.mjs           moves every literal such text from package.json into
//                                              package.nls.json (keys named after where the text is;
//                                              a literal text replaces the entry's old text)
//   node scripts/manifestStrings.mjs --check   fails, naming each, on text still literal in
//                                              package.json, a %key% without an entry, or an entry
//                                              no %key% uses (npm test runs this)
//
// Adding a setting or a command, or changing a text: write it into package.json as usual and run
// the script. After a merge that brought literal text back, run it again.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const manifestFile = path.join(root, 'package.json');
const nlsFile = path.join(root, 'package.nls.json');

/** Fields whose text VS Code shows to people. */
const textFields = new Set(['displayName', 'description', 'markdownDescription', 'title', 'shortTitle', 'label', 'tooltip', 'category', 'deprecationMessage', 'markdownDeprecationMessage', 'patternErrorMessage', 'errorMessage']);
/** Lists of texts, one per enum value. */
const enumTextFields = new Set(['enumDescriptions', 'markdownEnumDescriptions', 'enumItemLabels']);
/** Where in package.json to look: everything else (scripts, dependencies, ...) is no text for people. */
const textRoots = ['displayName', 'description', 'capabilities', 'contributes'];
const reference = /^%([\w.-]+)%$/;

const manifest = JSON.parse(fs.readFileSync(manifestFile, 'utf8'));
const nls = fs.existsSync(nlsFile) ? JSON.parse(fs.readFileSync(nlsFile, 'utf8')) : {};
const check = process.argv.includes('--check');

/** Every text in package.json with the key it has (or gets) in package.nls.json. */
function* texts() {
  for (const rootName of textRoots) {
    const value = manifest[rootName];
    if (typeof value === 'string') yield { holder: manifest, field: rootName, key: rootName };
    else if (value && typeof value === 'object') yield* walk(value, keyPrefix(rootName));
  }
}

function keyPrefix(rootName) {
  return rootName === 'contributes' ? [] : [rootName];
}

function* walk(node, keyPath) {
  if (Array.isArray(node)) {
    for (const [index, item] of node.entries()) yield* walk(item, [...keyPath, nameOf(item) ?? String(index)]);
    return;
  }
  if (!node || typeof node !== 'object') return;
  for (const [field, value] of Object.entries(node)) {
    if (textFields.has(field) && typeof value === 'string') {
      // One category for all commands, one text.
      yield { holder: node, field, key: field === 'category' ? 'commands.category' : [...keyPath, field].join('.') };
    } else if (enumTextFields.has(field) && Array.isArray(value)) {
      for (const [index, text] of value.entries()) {
        if (typeof text === 'string') yield { holder: value, field: index, key: [...keyPath, field, String(node.enum?.[index] ?? index)].join('.') };
      }
    } else if (value && typeof value === 'object' && field !== 'enum' && field !== 'default') {
      const part = shortName(field);
      yield* walk(value, part ? [...keyPath, part] : keyPath);
    }
  }
}

/** What names an entry of a list: a command's id, a walkthrough's or a step's id. */
function nameOf(item) {
  if (!item || typeof item !== 'object') return undefined;
  const name = item.command ?? item.id;
  return typeof name === 'string' ? shortName(name) : undefined;
}

/** Keys read better without the extension's own prefix and JSON schema plumbing. */
function shortName(name) {
  if (name === 'properties' || name === 'items') return undefined;
  return name.replace(/^oauthAnywhere\./, '');
}

const problems = [];
const used = new Set();
let moved = 0;
let updated = 0;
for (const { holder, field, key } of texts()) {
  const value = holder[field];
  const referenced = reference.exec(value);
  if (referenced) {
    used.add(referenced[1]);
    if (!(referenced[1] in nls)) problems.push(`package.json refers to %${referenced[1]}%, which package.nls.json lacks`);
    continue;
  }
  if (check) {
    problems.push(`package.json has literal text at ${key}: "${value.slice(0, 60)}${value.length > 60 ? '…' : ''}"`);
    continue;
  }
  // Text written into package.json is the newer one (a change, or a merge that brought it back).
  if (key in nls && nls[key] !== value) updated++;
  nls[key] = value;
  holder[field] = `%${key}%`;
  used.add(key);
  moved++;
}
if (check) {
  for (const key of Object.keys(nls)) if (!used.has(key)) problems.push(`package.nls.json has ${key}, which no %key% in package.json uses`);
}

if (problems.length) {
  for (const problem of problems) console.error(`manifest strings: ${problem}`);
  if (check) console.error('manifest strings: run `node scripts/manifestStrings.mjs` to move literal text into package.nls.json.');
  process.exit(1);
}
if (check) {
  console.log(`manifest strings: package.json's ${used.size} texts are all in package.nls.json.`);
} else {
  const sorted = Object.fromEntries(Object.entries(nls).sort(([a], [b]) => a.localeCompare(b)));
  fs.writeFileSync(nlsFile, `${JSON.stringify(sorted, null, 2)}\n`);
  fs.writeFileSync(manifestFile, `${JSON.stringify(manifest, null, 2)}\n`);
  console.log(`manifest strings: moved ${moved} text(s) into package.nls.json, ${updated} of them changed texts (${Object.keys(sorted).length} in all).`);
}
