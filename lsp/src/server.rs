//! The protocol loop: open documents, their analyses, and the answers to requests.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::error::Error;
use std::path::{Path, PathBuf};

use lsp_server::{Connection, ErrorCode, Message, Notification, Request, Response};
use lsp_types::notification::{
    DidChangeTextDocument, DidCloseTextDocument, DidOpenTextDocument, DidSaveTextDocument,
    Notification as _, PublishDiagnostics,
};
use lsp_types::request::{Completion, Formatting, GotoDefinition, HoverRequest, Request as _};
use lsp_types::{
    CompletionOptions, CompletionParams, CompletionResponse, DiagnosticRelatedInformation,
    DiagnosticSeverity, DocumentFormattingParams, GotoDefinitionParams, GotoDefinitionResponse,
    Hover, HoverContents, HoverParams, HoverProviderCapability, Location, MarkupContent,
    MarkupKind, NumberOrString, OneOf, PublishDiagnosticsParams, ServerCapabilities, ServerInfo,
    TextDocumentSyncCapability, TextDocumentSyncKind, TextEdit, Url,
};
use weft_compiler::diagnostic::{Diagnostic, Severity};

use crate::analysis::{std_module_name, Analysis};
use crate::text::LineIndex;
use crate::{completion, definition, formatting, hover};

pub type Failure = Box<dyn Error + Send + Sync>;

pub fn capabilities() -> ServerCapabilities {
    ServerCapabilities {
        text_document_sync: Some(TextDocumentSyncCapability::Kind(TextDocumentSyncKind::FULL)),
        hover_provider: Some(HoverProviderCapability::Simple(true)),
        definition_provider: Some(OneOf::Left(true)),
        completion_provider: Some(CompletionOptions {
            trigger_characters: Some(vec![".".to_string()]),
            ..CompletionOptions::default()
        }),
        document_formatting_provider: Some(OneOf::Left(true)),
        ..ServerCapabilities::default()
    }
}

/// Runs the server on a connection until the client says `exit`. Returns whether the client
/// asked for a shutdown first (the exit status is 0 then, 1 otherwise).
pub fn serve(connection: &Connection) -> Result<bool, Failure> {
    let initialize = serde_json::json!({
        "capabilities": capabilities(),
        "serverInfo": ServerInfo {
            name: "weft".to_string(),
            version: Some(env!("CARGO_PKG_VERSION").to_string()),
        },
    });
    let (id, _params) = connection.initialize_start()?;
    connection.initialize_finish(id, initialize)?;
    let mut server = Server {
        connection,
        documents: HashMap::new(),
        imported_diagnostics: HashMap::new(),
    };
    for message in &connection.receiver {
        match message {
            Message::Request(request) => {
                if connection.handle_shutdown(&request)? {
                    return Ok(true);
                }
                server.request(request)?;
            }
            Message::Notification(notification) => {
                if notification.method == lsp_types::notification::Exit::METHOD {
                    return Ok(false);
                }
                server.notification(notification)?;
            }
            Message::Response(_) => {}
        }
    }
    Ok(false)
}

struct Document {
    analysis: Analysis,
    /// The last analysis whose text parsed, for completion while the text does not.
    last_parsed: Option<Analysis>,
}

struct Server<'c> {
    connection: &'c Connection,
    documents: HashMap<Url, Document>,
    /// Diagnostics of files that are not open but that an open document imports: file →
    /// (importing document → diagnostics). An imported file that is open reports its own.
    imported_diagnostics: HashMap<Url, BTreeMap<Url, Vec<lsp_types::Diagnostic>>>,
}

impl Server<'_> {
    fn request(&mut self, request: Request) -> Result<(), Failure> {
        let id = request.id.clone();
        let result = match request.method.as_str() {
            HoverRequest::METHOD => {
                let params: HoverParams = serde_json::from_value(request.params)?;
                let position = params.text_document_position_params;
                serde_json::to_value(self.hover(&position.text_document.uri, position.position))?
            }
            GotoDefinition::METHOD => {
                let params: GotoDefinitionParams = serde_json::from_value(request.params)?;
                let position = params.text_document_position_params;
                serde_json::to_value(
                    self.definition(&position.text_document.uri, position.position),
                )?
            }
            Completion::METHOD => {
                let params: CompletionParams = serde_json::from_value(request.params)?;
                let position = params.text_document_position;
                serde_json::to_value(
                    self.completion(&position.text_document.uri, position.position),
                )?
            }
            Formatting::METHOD => {
                let params: DocumentFormattingParams = serde_json::from_value(request.params)?;
                match self.format(&params.text_document.uri) {
                    Ok(edits) => serde_json::to_value(edits)?,
                    Err(message) => {
                        return self.respond(Response::new_err(
                            id,
                            ErrorCode::RequestFailed as i32,
                            message,
                        ))
                    }
                }
            }
            _ => {
                return self.respond(Response::new_err(
                    id,
                    ErrorCode::MethodNotFound as i32,
                    format!("weft lsp does not answer `{}`", request.method),
                ))
            }
        };
        self.respond(Response::new_ok(id, result))
    }

    fn respond(&self, response: Response) -> Result<(), Failure> {
        self.connection.sender.send(Message::Response(response))?;
        Ok(())
    }

    fn notification(&mut self, notification: Notification) -> Result<(), Failure> {
        match notification.method.as_str() {
            DidOpenTextDocument::METHOD => {
                let params: lsp_types::DidOpenTextDocumentParams =
                    serde_json::from_value(notification.params)?;
                let document = params.text_document;
                self.update(document.uri, document.text)?;
            }
            DidChangeTextDocument::METHOD => {
                let params: lsp_types::DidChangeTextDocumentParams =
                    serde_json::from_value(notification.params)?;
                // The server asks for full syncs: the last change is the whole text.
                if let Some(change) = params.content_changes.into_iter().last() {
                    self.update(params.text_document.uri, change.text)?;
                }
            }
            DidSaveTextDocument::METHOD => {
                // Files that import the saved one may have changed meaning: analyse again.
                let uris: Vec<Url> = self.documents.keys().cloned().collect();
                for uri in uris {
                    let text = self.documents[&uri].analysis.text.text.clone();
                    self.update(uri, text)?;
                }
            }
            DidCloseTextDocument::METHOD => {
                let params: lsp_types::DidCloseTextDocumentParams =
                    serde_json::from_value(notification.params)?;
                let uri = params.text_document.uri;
                self.documents.remove(&uri);
                self.publish(&uri, Vec::new())?;
                self.set_imported_diagnostics(&uri, HashMap::new())?;
            }
            _ => {}
        }
        Ok(())
    }

    // --- documents and diagnostics ---------------------------------------------------------

    fn update(&mut self, uri: Url, text: String) -> Result<(), Failure> {
        let path = document_path(&uri);
        let analysis = Analysis::new(&path, text);
        let mut own = Vec::new();
        let mut imported: HashMap<Url, Vec<lsp_types::Diagnostic>> = HashMap::new();
        for diagnostic in &analysis.diagnostics {
            if analysis.is_own(diagnostic) {
                own.push(to_lsp(diagnostic, &uri));
            } else if let Some(file_uri) = file_uri(diagnostic.file.path()) {
                if !self.documents.contains_key(&file_uri) && file_uri != uri {
                    let converted = to_lsp(diagnostic, &file_uri);
                    imported.entry(file_uri).or_default().push(converted);
                }
            }
        }
        let previous = self.documents.remove(&uri);
        let last_parsed = if analysis.index.is_some() {
            None
        } else {
            previous.and_then(|d| {
                if d.analysis.index.is_some() {
                    Some(d.analysis)
                } else {
                    d.last_parsed
                }
            })
        };
        self.documents.insert(
            uri.clone(),
            Document {
                analysis,
                last_parsed,
            },
        );
        self.publish(&uri, own)?;
        self.set_imported_diagnostics(&uri, imported)
    }

    /// Records what `owner` found in the files it imports, and publishes each such file's
    /// diagnostics (those of every open document that imports it, without repeats).
    fn set_imported_diagnostics(
        &mut self,
        owner: &Url,
        found: HashMap<Url, Vec<lsp_types::Diagnostic>>,
    ) -> Result<(), Failure> {
        let mut touched: HashSet<Url> = found.keys().cloned().collect();
        for (file, by_owner) in &mut self.imported_diagnostics {
            if by_owner.remove(owner).is_some() {
                touched.insert(file.clone());
            }
        }
        for (file, diagnostics) in found {
            self.imported_diagnostics
                .entry(file)
                .or_default()
                .insert(owner.clone(), diagnostics);
        }
        for file in touched {
            let mut all: Vec<lsp_types::Diagnostic> = Vec::new();
            if let Some(by_owner) = self.imported_diagnostics.get(&file) {
                for diagnostic in by_owner.values().flatten() {
                    if !all.contains(diagnostic) {
                        all.push(diagnostic.clone());
                    }
                }
            }
            if all.is_empty() {
                self.imported_diagnostics.remove(&file);
            }
            self.publish(&file, all)?;
        }
        Ok(())
    }

    fn publish(&self, uri: &Url, diagnostics: Vec<lsp_types::Diagnostic>) -> Result<(), Failure> {
        let params = PublishDiagnosticsParams {
            uri: uri.clone(),
            diagnostics,
            version: None,
        };
        self.connection
            .sender
            .send(Message::Notification(Notification::new(
                PublishDiagnostics::METHOD.to_string(),
                params,
            )))?;
        Ok(())
    }

    // --- requests --------------------------------------------------------------------------

    fn hover(&self, uri: &Url, position: lsp_types::Position) -> Option<Hover> {
        let analysis = &self.documents.get(uri)?.analysis;
        let offset = analysis.text.offset(position);
        let (span, markdown) = hover::hover(analysis, offset)?;
        Some(Hover {
            contents: HoverContents::Markup(MarkupContent {
                kind: MarkupKind::Markdown,
                value: markdown,
            }),
            range: Some(analysis.text.range(span)),
        })
    }

    fn definition(
        &self,
        uri: &Url,
        position: lsp_types::Position,
    ) -> Option<GotoDefinitionResponse> {
        let analysis = &self.documents.get(uri)?.analysis;
        let offset = analysis.text.offset(position);
        let target = definition::definition(analysis, offset)?;
        let location = match (target.file, target.text) {
            (Some(file), Some(text)) => {
                let lines = LineIndex::new(&text);
                Location::new(
                    Url::from_file_path(&file).ok()?,
                    lines.range(&text, target.span),
                )
            }
            _ => Location::new(uri.clone(), analysis.text.range(target.span)),
        };
        Some(GotoDefinitionResponse::Scalar(location))
    }

    fn completion(&self, uri: &Url, position: lsp_types::Position) -> Option<CompletionResponse> {
        let document = self.documents.get(uri)?;
        let offset = document.analysis.text.offset(position);
        let items =
            completion::completion(&document.analysis, document.last_parsed.as_ref(), offset);
        Some(CompletionResponse::Array(items))
    }

    fn format(&self, uri: &Url) -> Result<Option<Vec<TextEdit>>, String> {
        let document = self
            .documents
            .get(uri)
            .ok_or_else(|| format!("{uri} is not open"))?;
        let analysis = &document.analysis;
        let formatted = formatting::format(&analysis.path, &analysis.text.text)?;
        Ok(formatted.map(|text| {
            vec![TextEdit::new(
                analysis
                    .text
                    .range(weft_compiler::ast::Span::new(0, analysis.text.text.len())),
                text,
            )]
        }))
    }
}

/// The path a document is analysed as: its file, or for an unsaved buffer a name in the
/// current directory (imports are then relative to it).
fn document_path(uri: &Url) -> PathBuf {
    match uri.to_file_path() {
        Ok(path) => path,
        Err(()) => {
            let name = uri
                .path_segments()
                .and_then(|mut s| s.next_back())
                .unwrap_or("untitled.wf");
            PathBuf::from(if name.is_empty() { "untitled.wf" } else { name })
        }
    }
}

/// The URI of a diagnostic's file, unless it is a standard module (which has no file).
fn file_uri(path: &Path) -> Option<Url> {
    if std_module_name(path).is_some() {
        return None;
    }
    Url::from_file_path(crate::analysis::absolute(path)).ok()
}

/// A compiler diagnostic as the protocol shows it: the same code and span as `weft check`.
pub fn to_lsp(diagnostic: &Diagnostic, uri: &Url) -> lsp_types::Diagnostic {
    let text = &diagnostic.file.text;
    let lines = LineIndex::new(text);
    let mut message = diagnostic.message.clone();
    if !diagnostic.label.is_empty() {
        message.push_str(&format!(" ({})", diagnostic.label));
    }
    if let Some(help) = &diagnostic.help {
        message.push_str(&format!("\nhelp: {help}"));
    }
    let related: Vec<DiagnosticRelatedInformation> = diagnostic
        .related
        .iter()
        .map(|r| DiagnosticRelatedInformation {
            location: Location::new(uri.clone(), lines.range(text, r.span)),
            message: r.label.clone(),
        })
        .collect();
    lsp_types::Diagnostic {
        range: lines.range(text, diagnostic.span),
        severity: Some(match diagnostic.severity {
            Severity::Error => DiagnosticSeverity::ERROR,
            Severity::Warning => DiagnosticSeverity::WARNING,
        }),
        code: Some(NumberOrString::String(diagnostic.code.as_str().to_string())),
        source: Some("weft".to_string()),
        message,
        related_information: (!related.is_empty()).then_some(related),
        ..lsp_types::Diagnostic::default()
    }
}
