// The QuantStudio language server over stdio or IPC (vscode-languageserver). Transport glue only:
// every answer comes from the transport-agnostic service in ../service.
import { createConnection, ProposedFeatures, TextDocuments, TextDocumentSyncKind } from 'vscode-languageserver/node';
import { TextDocument } from 'vscode-languageserver-textdocument';

const connection = createConnection(ProposedFeatures.all);
const documents = new TextDocuments(TextDocument);

connection.onInitialize(() => ({
  capabilities: { textDocumentSync: TextDocumentSyncKind.Incremental },
  serverInfo: { name: 'quantstudio', version: '0.1.0' },
}));

documents.listen(connection);
connection.listen();
