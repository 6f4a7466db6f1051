import { readFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
const [runtime, grammar, ...files] = process.argv.slice(2);
const { Parser, Language } = await import(pathToFileURL(runtime).href);
await Parser.init();
const lang = await Language.load(grammar);
const parser = new Parser();
parser.setLanguage(lang);
const out = [];
for (const f of files) {
  const tree = parser.parse(readFileSync(f, 'utf8'));
  const problems = [];
  const walk = (n) => {
    if (n.isError || n.isMissing) {
      problems.push({ line: n.startPosition.row + 1, col: n.startPosition.column + 1,
        kind: n.isMissing ? 'MISSING' : 'ERROR', node: n.isMissing ? n.type : n.text.slice(0, 60) });
      if (n.isError) return;
    }
    for (let i = 0; i < n.childCount; i++) walk(n.child(i));
  };
  walk(tree.rootNode);
  out.push({ file: f, has_error: tree.rootNode.hasError, problems });
  tree.delete();
}
process.stdout.write(JSON.stringify(out) + '\n');
