// The weft extension: starts `weft lsp` (diagnostics, hover, go to definition, completion,
// formatting) when a weft binary is found. Highlighting, snippets and the language
// configuration work without it.
'use strict';

const fs = require('fs');
const os = require('os');
const path = require('path');
const vscode = require('vscode');

/** @type {import('vscode-languageclient/node').LanguageClient | undefined} */
let client;

/**
 * The weft binary: the `weft.path` setting, else `weft` on PATH, else ~/.cargo/bin/weft.
 * @returns {string | undefined}
 */
function findWeft() {
  const configured = vscode.workspace.getConfiguration('weft').get('path');
  if (configured) {
    return isExecutable(configured) ? configured : undefined;
  }
  const names = process.platform === 'win32' ? ['weft.exe', 'weft'] : ['weft'];
  for (const dir of (process.env.PATH || '').split(path.delimiter)) {
    for (const name of names) {
      const candidate = path.join(dir, name);
      if (dir && isExecutable(candidate)) {
        return candidate;
      }
    }
  }
  const cargo = path.join(os.homedir(), '.cargo', 'bin', names[0]);
  return isExecutable(cargo) ? cargo : undefined;
}

/** @param {string} file */
function isExecutable(file) {
  try {
    fs.accessSync(file, fs.constants.X_OK);
    return fs.statSync(file).isFile();
  } catch {
    return false;
  }
}

/** @param {vscode.ExtensionContext} context */
async function activate(context) {
  context.subscriptions.push(
    vscode.workspace.onDidChangeConfiguration(async (event) => {
      if (event.affectsConfiguration('weft')) {
        await stop();
        await start(context);
      }
    }),
  );
  await start(context);
}

/** @param {vscode.ExtensionContext} context */
async function start(context) {
  const settings = vscode.workspace.getConfiguration('weft');
  if (!settings.get('languageServer.enabled', true)) {
    return;
  }
  const weft = findWeft();
  if (!weft) {
    const configured = settings.get('path');
    const where = configured ? `"${configured}" (the weft.path setting)` : 'on PATH or in ~/.cargo/bin';
    vscode.window.showWarningMessage(
      `weft: no weft binary found ${where}; highlighting works, diagnostics and completion need \`weft lsp\`.`,
    );
    return;
  }
  // Loaded here so that highlighting works even where the dependency is not installed.
  const { LanguageClient, TransportKind } = require('vscode-languageclient/node');
  const server = { command: weft, args: ['lsp'], transport: TransportKind.stdio };
  client = new LanguageClient(
    'weft',
    'weft language server',
    { run: server, debug: server },
    { documentSelector: [{ language: 'weft' }] },
  );
  context.subscriptions.push(client);
  await client.start();
}

async function stop() {
  if (client) {
    const running = client;
    client = undefined;
    await running.stop();
  }
}

function deactivate() {
  return stop();
}

module.exports = { activate, deactivate };
