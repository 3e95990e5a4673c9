// VS Code's JSON language features report JSON syntax in every json and jsonc document, ours included; the
// server's own syntax findings (which the CLI and other editors need) would say the same thing twice in the
// Problems view. These are the codes the editor already covers, per language. No `vscode` import.

const EDITOR_REPORTS: Readonly<Record<string, readonly string[]>> = {
  json: ['json/syntax', 'json/comment', 'json/trailing-comma'],
  // JSONC allows comments and trailing commas, which Python's json.load rejects: those stay the server's to say
  jsonc: ['json/syntax'],
};

/** Whether VS Code's JSON support already reports a finding with this code in a document of this language. */
export function reportedByEditor(code: string | number | undefined, languageId: string | undefined): boolean {
  return typeof code === 'string' && languageId !== undefined && (EDITOR_REPORTS[languageId]?.includes(code) ?? false);
}
