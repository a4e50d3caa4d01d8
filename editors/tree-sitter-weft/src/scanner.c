// The external scanner of the weft grammar.
//
// weft ends a statement at a newline, except inside brackets and right after an operator, and
// lets `else` and `catch` start on the line after a `}`. Tree-sitter's lexer cannot see that
// context, so the newline that ends a statement is a token this scanner produces only when the
// parser can use one (`valid_symbols[NEWLINE]`); everywhere else a newline is ordinary
// whitespace. The scanner also reads what a regular expression cannot: nested `/* */`
// comments, and the text of strings (a triple-quoted string ends only at `"""`; the content of
// a string must never be mistaken for a comment).

#include "tree_sitter/parser.h"

#include <stdbool.h>
#include <stdint.h>

enum TokenType {
  NEWLINE,
  BLOCK_COMMENT,
  STRING_CONTENT,
  TRIPLE_STRING_CONTENT,
  RAW_STRING_CONTENT,
  RAW_TRIPLE_CONTENT,
  // Never produced: valid only while the parser recovers from an error, when every token is.
  ERROR_SENTINEL,
};

void *tree_sitter_weft_external_scanner_create(void) { return NULL; }
void tree_sitter_weft_external_scanner_destroy(void *payload) { (void)payload; }
unsigned tree_sitter_weft_external_scanner_serialize(void *payload, char *buffer) {
  (void)payload;
  (void)buffer;
  return 0;
}
void tree_sitter_weft_external_scanner_deserialize(void *payload, const char *buffer,
                                                   unsigned length) {
  (void)payload;
  (void)buffer;
  (void)length;
}

static inline void advance(TSLexer *lexer) { lexer->advance(lexer, false); }
static inline void skip(TSLexer *lexer) { lexer->advance(lexer, true); }

static inline bool is_word_char(int32_t c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
}

// Consumes `word` if the input continues with it as a whole word.
static bool consume_word(TSLexer *lexer, const char *word) {
  for (const char *p = word; *p; p++) {
    if (lexer->lookahead != *p) return false;
    advance(lexer);
  }
  return !is_word_char(lexer->lookahead);
}

// After the newline that would end a statement: whether the next word (past blank lines and
// line comments) is `else` or `catch`, which continue the `if` or `try` of the line before.
static bool continues_on_next_line(TSLexer *lexer) {
  for (;;) {
    while (lexer->lookahead == ' ' || lexer->lookahead == '\t' || lexer->lookahead == '\r' ||
           lexer->lookahead == '\n') {
      advance(lexer);
    }
    if (lexer->lookahead != '/') break;
    advance(lexer);
    if (lexer->lookahead != '/') return false;
    while (lexer->lookahead != '\n' && !lexer->eof(lexer)) advance(lexer);
  }
  if (lexer->lookahead == 'e') return consume_word(lexer, "else");
  if (lexer->lookahead == 'c') return consume_word(lexer, "catch");
  return false;
}

// `/* … */`, nested; the opening `/` is already consumed.
static bool scan_block_comment(TSLexer *lexer) {
  if (lexer->lookahead != '*') return false;
  advance(lexer);
  unsigned depth = 1;
  while (depth > 0) {
    if (lexer->eof(lexer)) return false;
    if (lexer->lookahead == '/') {
      advance(lexer);
      if (lexer->lookahead == '*') {
        advance(lexer);
        depth++;
      }
    } else if (lexer->lookahead == '*') {
      advance(lexer);
      if (lexer->lookahead == '/') {
        advance(lexer);
        depth--;
      }
    } else {
      advance(lexer);
    }
  }
  lexer->mark_end(lexer);
  lexer->result_symbol = BLOCK_COMMENT;
  return true;
}

// Text of a `"…"` string: up to a quote, an escape, a brace or the end of the line.
static bool scan_string_content(TSLexer *lexer) {
  bool any = false;
  while (!lexer->eof(lexer)) {
    int32_t c = lexer->lookahead;
    if (c == '"' || c == '\\' || c == '{' || c == '}' || c == '\n') break;
    advance(lexer);
    any = true;
  }
  lexer->result_symbol = STRING_CONTENT;
  return any;
}

// Text of a `"""…"""` string (interpolated, or raw when `raw`): up to the closing `"""`, and
// for an interpolated one also up to an escape or a brace. One or two quotes are text.
static bool scan_triple_content(TSLexer *lexer, bool raw) {
  bool any = false;
  for (;;) {
    lexer->mark_end(lexer);
    if (lexer->eof(lexer)) break;
    int32_t c = lexer->lookahead;
    if (!raw && (c == '\\' || c == '{' || c == '}')) break;
    if (c == '"') {
      unsigned quotes = 0;
      while (lexer->lookahead == '"' && quotes < 3) {
        advance(lexer);
        quotes++;
      }
      if (quotes == 3) break;
      any = true;
      continue;
    }
    advance(lexer);
    any = true;
  }
  lexer->result_symbol = raw ? RAW_TRIPLE_CONTENT : TRIPLE_STRING_CONTENT;
  return any;
}

// Text of a `"…"` raw body (`shell "…"`): up to the closing quote or the end of the line;
// `\"` and `\\` are part of the text.
static bool scan_raw_string_content(TSLexer *lexer) {
  bool any = false;
  while (!lexer->eof(lexer)) {
    int32_t c = lexer->lookahead;
    if (c == '"' || c == '\n') break;
    advance(lexer);
    any = true;
    if (c == '\\' && (lexer->lookahead == '"' || lexer->lookahead == '\\')) advance(lexer);
  }
  lexer->result_symbol = RAW_STRING_CONTENT;
  return any;
}

bool tree_sitter_weft_external_scanner_scan(void *payload, TSLexer *lexer,
                                            const bool *valid_symbols) {
  (void)payload;
  if (valid_symbols[ERROR_SENTINEL]) return false;

  if (valid_symbols[RAW_TRIPLE_CONTENT]) return scan_triple_content(lexer, true);
  if (valid_symbols[TRIPLE_STRING_CONTENT]) return scan_triple_content(lexer, false);
  if (valid_symbols[RAW_STRING_CONTENT]) return scan_raw_string_content(lexer);
  if (valid_symbols[STRING_CONTENT]) return scan_string_content(lexer);

  while (lexer->lookahead == ' ' || lexer->lookahead == '\t' || lexer->lookahead == '\r' ||
         lexer->lookahead == 0xFEFF ||
         (lexer->lookahead == '\n' && !valid_symbols[NEWLINE])) {
    skip(lexer);
  }

  if (valid_symbols[NEWLINE] && lexer->lookahead == '\n') {
    advance(lexer);
    lexer->mark_end(lexer);
    lexer->result_symbol = NEWLINE;
    return !continues_on_next_line(lexer);
  }

  if (valid_symbols[BLOCK_COMMENT] && lexer->lookahead == '/') {
    advance(lexer);
    return scan_block_comment(lexer);
  }
  return false;
}
